// exporters/perfetto_stream_writer.h
//
// An incremental writer of Perfetto TracePacket files (.pftrace, or .pftrace.zst through
// one zstd stream), for streaming capture: a long active window is encoded chunk by chunk
// while it is captured, so memory stays bounded by the chunk size.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<PerfettoStreamWriter>> writer =
//       PerfettoStreamWriter::Open(tmp_path, /*zstd=*/true);
//   if (!writer.ok()) return writer.status();
//   while (...) {
//     Trace chunk = ...;                     // processes, tracks, strings and events
//     if (absl::Status s = (*writer)->Append(chunk); !s.ok()) return s;
//   }
//   return (*writer)->Finish(metadata);      // then rename tmp_path into place
//
// What the file holds (see ../shared/perfetto-format.md): a first packet that clears the
// incremental state of the file's own sequence and snapshots the clocks; a TrackDescriptor
// per process, thread, device stream and counter the first time one is seen; then, per
// Perfetto track, its own packet sequence (perfetto_event_encoder.h) whose first packet
// sets the track and a sequence-scoped incremental clock as defaults, so event timestamps
// are small per-track deltas; interned event names, categories, annotation names and
// string values; slices as BEGIN/END pairs, instants, counters, args as debug annotations,
// correlation ids and flows. Thread safety: none; one thread drives a writer.

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_STREAM_WRITER_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_STREAM_WRITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exporters/perfetto_output.h"
#include "scopetrace/trace.h"

namespace scopetrace::internal {
class HostSliceRuns;
}  // namespace scopetrace::internal

namespace scopetrace::exporters {

class PerfettoStreamWriter {
 public:
  // Writes to `path` directly (the caller handles temporary name + rename).
  // `background_compression` (zstd only): zstd and the file writes run on a thread of the
  // writer's own (perfetto_output.h), so Append costs the caller the encoding alone; the
  // file is byte for byte the same. Streaming capture uses it: its encoder thread is the
  // bottleneck of a streamed window. Errors of that thread come out of a later Append or
  // of Finish.
  static absl::StatusOr<std::unique_ptr<PerfettoStreamWriter>> Open(
      const std::string& path, bool zstd, int zstd_level = PerfettoOutput::kDefaultZstdLevel,
      bool background_compression = false);
  ~PerfettoStreamWriter();
  PerfettoStreamWriter(const PerfettoStreamWriter&) = delete;
  PerfettoStreamWriter& operator=(const PerfettoStreamWriter&) = delete;

  // Encodes every event now in `chunk`. Its processes, tracks and strings are the chunk's
  // own: a descriptor is emitted the first time a process (by pid) or track (by kind, pid,
  // tid, name) is seen, and names are interned across chunks. The caller may then clear
  // the chunk's event vectors and call Append again with more events. Events are ordered
  // within a chunk; across chunks they may go back in time (they are then written with
  // absolute timestamps).
  absl::Status Append(const Trace& chunk);
  // The same, with host slices also as the collector's records (a streamed chunk, see
  // StreamingPipeline): `runs` sorted and nesting (HostSliceRuns::SortRunsAndCheckNesting),
  // and no track with a run has slices in `chunk`. The file is byte for byte what Append
  // writes after runs->MergeInto(chunk).
  absl::Status Append(const Trace& chunk, const internal::HostSliceRuns* runs);

  // Writes the metadata and closes the stream (flushes zstd). Errors name the path.
  absl::Status Finish(const TraceMetadata& metadata);

  // Bytes in the file so far (compressed size with zstd) and events (slices, instants,
  // counter samples) encoded so far.
  uint64_t bytes_written() const;
  uint64_t events_written() const;

  // With background compression: that thread adds its CPU time (ns) to `*counter` when it
  // ends (in Finish, or when an unfinished writer is destroyed). No-op otherwise.
  void CountBackgroundCpuInto(std::atomic<int64_t>* counter);

 private:
  class Impl;
  explicit PerfettoStreamWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_STREAM_WRITER_H_
