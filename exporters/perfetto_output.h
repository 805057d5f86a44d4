// Internal: the byte sink under the Perfetto writer: a file written directly, or through
// one zstd stream (ZSTD_compressStream2 with a reusable output buffer). Every failed
// write becomes a Status naming the path (a full disk is reported, not lost).

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_OUTPUT_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_OUTPUT_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace scopetrace::exporters {

class PerfettoOutput {
 public:
  static absl::StatusOr<std::unique_ptr<PerfettoOutput>> Open(const std::string& path, bool zstd,
                                                              int zstd_level);
  ~PerfettoOutput();

  // Appends `n` bytes of the uncompressed stream.
  absl::Status Write(const uint8_t* data, size_t n);
  // Ends the zstd frame, flushes and closes the file. Call once; later writes fail.
  absl::Status Close();

  // Bytes that reached the file so far (compressed when zstd is on).
  uint64_t bytes_written() const { return file_bytes_; }

 private:
  PerfettoOutput(std::string path, std::FILE* file, void* cctx);
  absl::Status WriteFile(const void* data, size_t n);
  absl::Status Compress(const uint8_t* data, size_t n, bool end);
  absl::Status Error(const char* what) const;

  std::string path_;
  std::FILE* file_ = nullptr;
  void* cctx_ = nullptr;  // ZSTD_CCtx*, null when writing uncompressed
  std::vector<uint8_t> out_;
  uint64_t file_bytes_ = 0;
};

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_OUTPUT_H_
