#include "exporters/perfetto_input.h"

#include <sys/stat.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace scopetrace::exporters {
namespace {

ZSTD_DCtx* Ctx(void* p) { return static_cast<ZSTD_DCtx*>(p); }

}  // namespace

absl::StatusOr<std::unique_ptr<PerfettoInput>> PerfettoInput::Open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  uint8_t magic[4] = {};
  const size_t n = std::fread(magic, 1, sizeof(magic), file);
  std::rewind(file);
  void* dctx = nullptr;
  if (n == 4 && magic[0] == 0x28 && magic[1] == 0xB5 && magic[2] == 0x2F && magic[3] == 0xFD) {
    dctx = ZSTD_createDCtx();
    if (dctx == nullptr) {
      std::fclose(file);
      return absl::ResourceExhaustedError(absl::StrCat(path, ": cannot create a zstd context"));
    }
  }
  return std::unique_ptr<PerfettoInput>(new PerfettoInput(path, file, dctx));
}

PerfettoInput::PerfettoInput(std::string path, std::FILE* file, void* dctx)
    : path_(std::move(path)), file_(file), dctx_(dctx) {
  if (dctx_ != nullptr) in_.resize(ZSTD_DStreamInSize());
  struct stat st;
  if (fstat(fileno(file_), &st) == 0 && st.st_size > 0) file_size_ = st.st_size;
}

double PerfettoInput::fraction_read() const {
  if (file_size_ == 0) return 0;
  const uint64_t used = file_read_ - (in_size_ - in_pos_);  // zstd: minus unread input
  return std::min(1.0, static_cast<double>(used) / static_cast<double>(file_size_));
}

PerfettoInput::~PerfettoInput() {
  if (dctx_ != nullptr) ZSTD_freeDCtx(Ctx(dctx_));
  if (file_ != nullptr) std::fclose(file_);
}

absl::StatusOr<size_t> PerfettoInput::ReadFile(uint8_t* dst, size_t cap) {
  const size_t n = std::fread(dst, 1, cap, file_);
  file_read_ += n;
  if (n < cap && std::ferror(file_)) {
    return absl::InternalError(absl::StrCat(path_, ": read failed: ", std::strerror(errno)));
  }
  return n;
}

absl::StatusOr<size_t> PerfettoInput::Read(uint8_t* dst, size_t cap) {
  if (dctx_ == nullptr) return ReadFile(dst, cap);
  if (!damage_.empty()) {
    return absl::DataLossError(absl::StrCat(path_, ": damaged zstd stream: ", damage_));
  }
  ZSTD_outBuffer out{dst, cap, 0};
  while (out.pos < out.size) {
    if (in_pos_ == in_size_) {
      if (file_eof_) break;
      absl::StatusOr<size_t> n = ReadFile(in_.data(), in_.size());
      if (!n.ok()) return n.status();
      in_pos_ = 0;
      in_size_ = *n;
      if (*n == 0) {
        file_eof_ = true;
        break;
      }
    }
    ZSTD_inBuffer in{in_.data(), in_size_, in_pos_};
    const size_t ret = ZSTD_decompressStream(Ctx(dctx_), &out, &in);
    in_pos_ = in.pos;
    if (ZSTD_isError(ret)) {
      if (out.pos > 0) {
        // Hand out what was decoded before the damage; the next call reports it.
        damage_ = ZSTD_getErrorName(ret);
        return out.pos;
      }
      return absl::DataLossError(
          absl::StrCat(path_, ": damaged zstd stream: ", ZSTD_getErrorName(ret)));
    }
    frame_remaining_ = ret;
  }
  if (out.pos == 0 && file_eof_ && frame_remaining_ != 0) {
    return absl::DataLossError(absl::StrCat(path_, ": zstd stream ends in the middle of a frame"));
  }
  return out.pos;
}

}  // namespace scopetrace::exporters
