// Internal: the byte sink under the Perfetto writer: a file written directly, or through
// one zstd stream (ZSTD_compressStream2 with a reusable output buffer). Every failed
// write becomes a Status naming the path (a full disk is reported, not lost).
//
// With `background` (zstd only; streaming capture uses it), compression and file writes
// run on a thread of the output's own: Write(Buffer&) hands the filled buffer over (its
// storage is swapped with a spare block's) and returns, so the caller (the streaming
// encoder) no longer pays for zstd, about half of a streamed event's encoding CPU, and
// the two halves run on two cores. The blocks go through the same single zstd stream in
// the same order, so the file is byte for byte what the foreground mode writes (one
// frame). Write waits while kBackgroundBlocks blocks are queued (memory stays bounded); a
// compression or write error is returned by a later Write or by Close.

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_OUTPUT_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_OUTPUT_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exporters/proto_wire.h"

namespace scopetrace::exporters {

class PerfettoOutput {
 public:
  // zstd's own default level; at this level the match finder is tuned for trace packets.
  static constexpr int kDefaultZstdLevel = 3;

  static absl::StatusOr<std::unique_ptr<PerfettoOutput>> Open(const std::string& path, bool zstd,
                                                              int zstd_level,
                                                              bool background = false);
  // Abandons a background thread's queued blocks (the file is incomplete anyway).
  ~PerfettoOutput();

  // Blocks a background output may hold queued (each up to one Write's size).
  static constexpr size_t kBackgroundBlocks = 4;

  // Appends `n` bytes of the uncompressed stream.
  absl::Status Write(const uint8_t* data, size_t n);
  // Appends `buf`'s bytes and leaves it empty (its capacity may change): in background
  // mode the storage itself goes to the compression thread (no copy), and `buf` gets a
  // spare block's.
  absl::Status Write(wire::Buffer& buf);
  // Ends the zstd frame, flushes and closes the file. Call once; later writes fail.
  absl::Status Close();

  // Bytes that reached the file so far (compressed when zstd is on).
  uint64_t bytes_written() const { return file_bytes_.load(std::memory_order_relaxed); }
  // The background thread, when it ends, adds its CPU time (ns) to `*counter`, so that a
  // streamed capture's encoding cost stays visible in ProfilerStats. Call before Close.
  void CountBackgroundCpuInto(std::atomic<int64_t>* counter) { cpu_counter_ = counter; }

 private:
  // The background thread's queue; guarded by `mu`.
  struct Background {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::unique_ptr<wire::Buffer>> queued;
    std::vector<std::unique_ptr<wire::Buffer>> spare;  // compressed blocks, for reuse
    bool closing = false;
    bool abandoned = false;
    absl::Status status;  // the first compression or write error
    std::thread thread;
  };

  PerfettoOutput(std::string path, std::FILE* file, void* cctx);
  void RunBackground();
  // Waits for room in the queue; returns a block to fill (a spare one, or new).
  absl::StatusOr<std::unique_ptr<wire::Buffer>> TakeBlock();
  void Queue(std::unique_ptr<wire::Buffer> block);
  absl::Status StopBackground();
  absl::Status WriteFile(const void* data, size_t n);
  absl::Status Compress(const uint8_t* data, size_t n, bool end);
  absl::Status Error(const char* what) const;

  std::string path_;
  std::FILE* file_ = nullptr;
  void* cctx_ = nullptr;  // ZSTD_CCtx*, null when writing uncompressed
  std::vector<uint8_t> out_;
  std::atomic<uint64_t> file_bytes_{0};
  std::unique_ptr<Background> bg_;  // null: compression on the caller's thread
  std::atomic<int64_t>* cpu_counter_ = nullptr;
};

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_OUTPUT_H_
