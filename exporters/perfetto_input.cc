#include "exporters/perfetto_input.h"

#include <sys/stat.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/background_thread.h"

namespace scopetrace::exporters {
namespace {

ZSTD_DCtx* Ctx(void* p) { return static_cast<ZSTD_DCtx*>(p); }

}  // namespace

struct PerfettoInput::ReadAhead {
  // A block of decompressed bytes, or the end: `last` with `status` (ok: the end of the
  // stream, else the error Read returns after the bytes before it).
  struct Block {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0;
    bool last = false;
    absl::Status status;
    double fraction = 0;  // fraction_read() once this block was decompressed
  };

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Block> ready;                        // guarded by mu
  std::vector<std::unique_ptr<uint8_t[]>> spare;  // guarded by mu
  bool stopping = false;                          // guarded by mu
  std::thread thread;

  // The consumer's side (Read's thread only).
  Block current;
  size_t pos = 0;
  double fraction_before = 0;  // fraction_read() before `current`
  bool ended = false;
  absl::Status end_status;
};

absl::StatusOr<std::unique_ptr<PerfettoInput>> PerfettoInput::Open(const std::string& path,
                                                                   bool read_ahead) {
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
  auto input = std::unique_ptr<PerfettoInput>(new PerfettoInput(path, file, dctx));
  if (read_ahead && dctx != nullptr) {
    input->ahead_ = std::make_unique<ReadAhead>();
    if (!internal::StartThread(input->ahead_->thread, "scopetrace unzstd", [p = input.get()] {
           p->RunReadAhead();
         }).ok()) {
      input->ahead_.reset();
    }
  }
  return input;
}

PerfettoInput::PerfettoInput(std::string path, std::FILE* file, void* dctx)
    : path_(std::move(path)), file_(file), dctx_(dctx) {
  if (dctx_ != nullptr) in_.resize(ZSTD_DStreamInSize());
  struct stat st;
  if (fstat(fileno(file_), &st) == 0 && st.st_size > 0) file_size_ = st.st_size;
}

double PerfettoInput::fraction_read() const {
  if (ahead_ == nullptr) return FractionReadNow();
  // Between the fractions before and after the current block, in proportion to what of it
  // was handed out: the reader extrapolates its reservations from this.
  const ReadAhead& a = *ahead_;
  if (a.current.size == 0) return a.fraction_before;
  return a.fraction_before + (a.current.fraction - a.fraction_before) * static_cast<double>(a.pos) /
                                 static_cast<double>(a.current.size);
}

double PerfettoInput::FractionReadNow() const {
  if (file_size_ == 0) return 0;
  const uint64_t used = file_read_ - (in_size_ - in_pos_);  // zstd: minus unread input
  return std::min(1.0, static_cast<double>(used) / static_cast<double>(file_size_));
}

PerfettoInput::~PerfettoInput() {
  if (ahead_ != nullptr) {
    {
      std::lock_guard<std::mutex> lock(ahead_->mu);
      ahead_->stopping = true;
    }
    ahead_->cv.notify_all();
    ahead_->thread.join();
  }
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
  return ahead_ != nullptr ? ReadFromBlocks(dst, cap) : ReadNow(dst, cap);
}

void PerfettoInput::RunReadAhead() {
  internal::NameThisThread("scopetrace unzstd");
  ReadAhead& a = *ahead_;
  for (;;) {
    std::unique_ptr<uint8_t[]> data;
    {
      std::unique_lock<std::mutex> lock(a.mu);
      a.cv.wait(lock, [&] { return a.stopping || a.ready.size() < kReadAheadBlocks; });
      if (a.stopping) return;
      if (!a.spare.empty()) {
        data = std::move(a.spare.back());
        a.spare.pop_back();
      }
    }
    if (data == nullptr) data.reset(new uint8_t[kReadAheadBlockBytes]);
    ReadAhead::Block block;
    absl::StatusOr<size_t> n = ReadNow(data.get(), kReadAheadBlockBytes);
    if (!n.ok()) {
      block.last = true;
      block.status = n.status();
    } else {
      block.size = *n;
      block.last = *n == 0;
    }
    block.fraction = FractionReadNow();
    if (block.size > 0) block.data = std::move(data);
    const bool last = block.last;
    {
      std::lock_guard<std::mutex> lock(a.mu);
      a.ready.push_back(std::move(block));
    }
    a.cv.notify_all();
    if (last) return;
  }
}

absl::StatusOr<size_t> PerfettoInput::ReadFromBlocks(uint8_t* dst, size_t cap) {
  ReadAhead& a = *ahead_;
  size_t copied = 0;
  while (copied < cap) {
    if (a.pos == a.current.size) {
      if (a.ended) break;
      // The current block is used up: give its buffer back and wait for the next one.
      std::unique_lock<std::mutex> lock(a.mu);
      if (a.current.data != nullptr) a.spare.push_back(std::move(a.current.data));
      a.cv.notify_all();
      a.cv.wait(lock, [&] { return !a.ready.empty(); });
      a.fraction_before = a.current.size > 0 ? a.current.fraction : a.fraction_before;
      a.current = std::move(a.ready.front());
      a.ready.pop_front();
      a.pos = 0;
      if (a.current.last) {
        a.ended = true;
        a.end_status = a.current.status;
        a.fraction_before = a.current.fraction;
        a.current.size = 0;
        break;
      }
      continue;
    }
    const size_t n = std::min(cap - copied, a.current.size - a.pos);
    std::memcpy(dst + copied, a.current.data.get() + a.pos, n);
    copied += n;
    a.pos += n;
  }
  // Bytes first; the error (or the end) on the call that has none left to give.
  if (copied == 0 && a.ended && !a.end_status.ok()) return a.end_status;
  return copied;
}

absl::StatusOr<size_t> PerfettoInput::ReadNow(uint8_t* dst, size_t cap) {
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
