// Internal: the byte source under the Perfetto reader: a plain file, or a zstd stream
// (detected by the magic 28 B5 2F FD) decompressed incrementally with ZSTD_decompressStream,
// so memory does not depend on the file's decompressed size.

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
  static absl::StatusOr<std::unique_ptr<PerfettoInput>> Open(const std::string& path);
  ~PerfettoInput();

  // Writes up to `cap` bytes of the (decompressed) stream to `dst` and returns how many;
  // 0 means the end. A damaged or cut zstd stream is a DataLoss error (the bytes produced
  // before it stay valid); an I/O failure is an Internal error.
  absl::StatusOr<size_t> Read(uint8_t* dst, size_t cap);

  bool compressed() const { return dctx_ != nullptr; }

  // How much of the file the bytes handed out so far came from (0..1; 0 if the size is
  // unknown): lets the reader extrapolate from what it decoded to the whole file.
  double fraction_read() const;

 private:
  PerfettoInput(std::string path, std::FILE* file, void* dctx);
  absl::StatusOr<size_t> ReadFile(uint8_t* dst, size_t cap);

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
};

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_INPUT_H_
