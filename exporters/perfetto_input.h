// Internal: the byte source under the Perfetto reader: a plain file, or a zstd stream
// (detected by the magic 28 B5 2F FD) decompressed incrementally with ZSTD_decompressStream,
// so memory does not depend on the file's decompressed size.
//
// With `read_ahead` (zstd only), decompression runs on a thread of the input's own, up to
// kReadAheadBlocks blocks ahead of Read: the reader decodes one block while the next is
// decompressed, the two halves of reading a .pftrace.zst on two cores (zstd alone is a
// third of the reader's CPU). Read hands out the same bytes, errors and end as without it,
// in the same order; only fraction_read() is interpolated within a block. Without a thread
// to spare (StartThread fails) the input reads in the caller's thread, as without it.

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_INPUT_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_INPUT_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace scopetrace::exporters {

class PerfettoInput {
 public:
  // Errors name `path`.
  static absl::StatusOr<std::unique_ptr<PerfettoInput>> Open(const std::string& path,
                                                             bool read_ahead = false);
  // Stops and joins a read-ahead thread (its blocks not handed out are dropped).
  ~PerfettoInput();

  // Decompressed bytes per read-ahead block, and blocks held at most.
  static constexpr size_t kReadAheadBlockBytes = size_t{1} << 20;
  static constexpr size_t kReadAheadBlocks = 4;

  // Writes up to `cap` bytes of the (decompressed) stream to `dst` and returns how many;
  // 0 means the end. A damaged or cut zstd stream is a DataLoss error (the bytes produced
  // before it stay valid); an I/O failure is an Internal error.
  absl::StatusOr<size_t> Read(uint8_t* dst, size_t cap);

  bool compressed() const { return dctx_ != nullptr; }
  bool reading_ahead() const { return ahead_ != nullptr; }

  // How much of the file the bytes handed out so far came from (0..1; 0 if the size is
  // unknown): lets the reader extrapolate from what it decoded to the whole file.
  double fraction_read() const;

 private:
  struct ReadAhead;  // the thread, its queue of blocks and the consumer's place in them

  PerfettoInput(std::string path, std::FILE* file, void* dctx);
  absl::StatusOr<size_t> ReadFile(uint8_t* dst, size_t cap);
  // Read and fraction_read in the calling thread (the read-ahead thread's, with it).
  absl::StatusOr<size_t> ReadNow(uint8_t* dst, size_t cap);
  double FractionReadNow() const;
  void RunReadAhead();
  absl::StatusOr<size_t> ReadFromBlocks(uint8_t* dst, size_t cap);

  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t file_size_ = 0;
  uint64_t file_read_ = 0;  // bytes read from the file (compressed, for zstd)
  void* dctx_ = nullptr;    // ZSTD_DCtx*, null for a plain file
  std::vector<uint8_t> in_;
  size_t in_pos_ = 0;
  size_t in_size_ = 0;
  size_t frame_remaining_ = 0;  // last ZSTD_decompressStream hint: 0 = at a frame boundary
  bool file_eof_ = false;
  std::string damage_;  // a zstd error seen after some output was handed out
  std::unique_ptr<ReadAhead> ahead_;
};

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_INPUT_H_
