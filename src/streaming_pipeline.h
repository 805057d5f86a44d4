// Internal: encodes a streamed cycle's chunks on a thread of its own.
//
// With streaming capture, the collector hands a cycle's events over in chunks. Encoding
// (Perfetto protobuf, zstd) costs more per event than collecting, so doing it on the
// collector would cap the capture rate at the encoder's; here the collector only moves
// the chunk's event vectors over (and the strings and tracks created since the previous
// chunk, into the encoder's mirror of the cycle's Trace) and goes back to draining while
// this thread encodes. One chunk is in flight at a time: when the encoder is slower than
// capture, Submit waits for it, the rings fill, and their drops are counted, so memory
// stays bounded by two chunks (plus the zstd outputs' few queued 256 KiB blocks).
//
// zstd outputs compress on threads of their own (StreamingSink opens its writers with
// background compression): zstd is about half of a streamed event's encoding CPU, and on
// this thread alone the two halves could not keep up with 10 M events/s on one core.
// Their CPU time is added to `cpu_ns` with this thread's.
//
// Thread safety: Submit, Close and status are for the collector thread only.

#ifndef SCOPETRACE_SRC_STREAMING_PIPELINE_H_
#define SCOPETRACE_SRC_STREAMING_PIPELINE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scopetrace/trace.h"
#include "src/host_slice_runs.h"
#include "src/streaming_sink.h"

namespace scopetrace::internal {

class StreamingPipeline {
 public:
  // Starts the encoding thread. `cpu_ns`, if given, accumulates its CPU time when it ends,
  // and the sink's compression threads' when they end (when the sink is finished or
  // dropped). `pool`, if given, gets the run vectors the pipeline holds when it goes (the
  // collector's runs come from it). Fails only when no thread can be started; the sink is
  // then abandoned.
  static absl::StatusOr<std::unique_ptr<StreamingPipeline>> Start(
      std::unique_ptr<StreamingSink> sink, std::atomic<int64_t>* cpu_ns = nullptr,
      EventStoragePool* pool = nullptr);
  // Stops the thread; a sink not taken by Close() is abandoned (its files removed).
  ~StreamingPipeline();

  // Waits for the previous chunk, then takes `cycle`'s events (leaving its event vectors
  // empty, with the capacity of an earlier chunk) and `runs`' host slices (leaving the
  // emptied runs of an earlier chunk) for encoding. Strings, tracks and processes stay in
  // `cycle`; new ones are copied to the encoder. Returns the first encoding error (events
  // are then not taken: they stay in `cycle` and `runs`).
  //
  // The runs are encoded on the encoding thread, straight from the 32-byte records when
  // every run nests and no thread track also has slices in the chunk (nearly always), as
  // Slices merged from them otherwise. Merging on the collector was a third of its CPU per
  // event, and the collector is the thread that must keep draining the rings; the Slices
  // then cost the encoding thread as much again (collection_benchmark --streaming, 5 s at
  // 10 M events/s, 3 alternated runs each: merged on the collector 2.2-4.4 % dropped, on
  // the encoding thread 1.8-6.0 %, not merged 0 / 0 / 0 %; peak RSS 64-68 -> 38-41 MiB).
  absl::Status Submit(Trace& cycle, HostSliceRuns& runs);
  absl::Status Submit(Trace& cycle);  // no host slice runs
  // Waits for the chunk in flight and returns the sink for the rest of the cycle, or the
  // first encoding error (the sink is then abandoned).
  absl::StatusOr<std::unique_ptr<StreamingSink>> Close();
  // Events handed to the encoder so far (including a chunk whose encoding failed).
  uint64_t events_submitted() const { return submitted_; }

 private:
  StreamingPipeline(std::unique_ptr<StreamingSink> sink, std::atomic<int64_t>* cpu_ns,
                    EventStoragePool* pool);
  void Run();
  // Copies what `cycle` gained since the last chunk (strings, processes, tracks).
  void SyncMirror(const Trace& cycle);
  // Whether a track with host slice runs also has slices in chunk_.
  bool SlicesOnRunTracks() const;

  std::unique_ptr<StreamingSink> sink_;
  std::atomic<int64_t>* cpu_ns_;
  Trace chunk_;         // the encoder's copy: same string and track ids as the cycle's Trace
  HostSliceRuns runs_;  // the chunk's host slices (encoded as records, or merged into chunk_)
  uint64_t submitted_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool busy_ = false;      // guarded by mu_: a chunk is being encoded
  bool stopping_ = false;  // guarded by mu_
  absl::Status status_;    // guarded by mu_
  std::thread thread_;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_STREAMING_PIPELINE_H_
