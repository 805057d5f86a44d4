#include "exporters/perfetto_output.h"

#include <time.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/background_thread.h"

namespace scopetrace::exporters {
namespace {

ZSTD_CCtx* Ctx(void* p) { return static_cast<ZSTD_CCtx*>(p); }

// Level 3 (strategy dfast) with match finder tables sized for trace packets. A packet
// stream repeats short structures (a track's packets, step after step) around a few random
// bytes (timestamps, ids): the best match source is the most recent similar packet, a
// few hundred bytes back. Level 3's default tables (hashLog 17, chainLog 16: 768 KB, far
// beyond L2) keep older, worse candidates and miss the cache on every lookup; 4-byte
// minimum matches catch the short runs between timestamps. Measured on the benchmark's raw
// trace (43.6 MB; CPU time of ZSTD_e_continue on 256 KiB blocks, as this writer feeds it,
// on a shared, noisy machine): level 3 defaults 314 ms / 10.12 MB; hlog/clog/mml 12/11/4:
// 152-174 ms / 8.24 MB; 10/9/4 with windowLog 17: 125 ms / 8.01 MB. Smaller tables are
// still enough for the few hundred bytes that matter, and the 128 KiB window (not 2 MiB)
// keeps the buffer zstd copies its input into in cache. Compression level and strategy
// stay level 3's.
void TuneForTracePackets(ZSTD_CCtx* c) {
  ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 17);
  ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, 10);
  ZSTD_CCtx_setParameter(c, ZSTD_c_chainLog, 9);
  ZSTD_CCtx_setParameter(c, ZSTD_c_minMatch, 4);
}

}  // namespace

absl::StatusOr<std::unique_ptr<PerfettoOutput>> PerfettoOutput::Open(const std::string& path,
                                                                     bool zstd, int zstd_level,
                                                                     bool background) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::InternalError(
        absl::StrCat(path, ": cannot open for writing: ", std::strerror(errno)));
  }
  void* cctx = nullptr;
  if (zstd) {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    if (c == nullptr) {
      std::fclose(file);
      return absl::ResourceExhaustedError(absl::StrCat(path, ": cannot create a zstd context"));
    }
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, zstd_level);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);  // lets the reader detect corruption
    if (zstd_level == kDefaultZstdLevel) TuneForTracePackets(c);
    cctx = c;
  }
  auto output = std::unique_ptr<PerfettoOutput>(new PerfettoOutput(path, file, cctx));
  if (background && zstd) {
    output->bg_ = std::make_unique<Background>();
    // Without a thread to spare the caller compresses, as without `background`: the same
    // bytes, only on the encoding thread.
    if (!internal::StartThread(output->bg_->thread, "scopetrace zstd", [p = output.get()] {
           p->RunBackground();
         }).ok()) {
      output->bg_.reset();
    }
  }
  return output;
}

PerfettoOutput::PerfettoOutput(std::string path, std::FILE* file, void* cctx)
    : path_(std::move(path)), file_(file), cctx_(cctx) {
  if (cctx_ != nullptr) out_.resize(ZSTD_CStreamOutSize());
}

PerfettoOutput::~PerfettoOutput() {
  if (bg_ != nullptr && bg_->thread.joinable()) {
    {
      std::lock_guard<std::mutex> lock(bg_->mu);
      bg_->abandoned = true;
    }
    (void)StopBackground();
  }
  if (cctx_ != nullptr) ZSTD_freeCCtx(Ctx(cctx_));
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status PerfettoOutput::Error(const char* what) const {
  return absl::InternalError(absl::StrCat(path_, ": ", what, ": ", std::strerror(errno)));
}

absl::Status PerfettoOutput::WriteFile(const void* data, size_t n) {
  if (file_ == nullptr)
    return absl::FailedPreconditionError(absl::StrCat(path_, ": already closed"));
  if (n == 0) return absl::OkStatus();
  errno = 0;
  if (std::fwrite(data, 1, n, file_) != n) {
    if (errno == 0) errno = EIO;
    return Error("write failed");
  }
  file_bytes_.fetch_add(n, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status PerfettoOutput::Compress(const uint8_t* data, size_t n, bool end) {
  ZSTD_inBuffer in{data, n, 0};
  const ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
  for (;;) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    const size_t remaining = ZSTD_compressStream2(Ctx(cctx_), &out, &in, mode);
    if (ZSTD_isError(remaining)) {
      return absl::InternalError(
          absl::StrCat(path_, ": zstd compression failed: ", ZSTD_getErrorName(remaining)));
    }
    if (absl::Status s = WriteFile(out_.data(), out.pos); !s.ok()) return s;
    // e_continue is done once the input is consumed; e_end once the frame is flushed.
    if (end ? remaining == 0 : in.pos == in.size) return absl::OkStatus();
  }
}

absl::StatusOr<std::unique_ptr<wire::Buffer>> PerfettoOutput::TakeBlock() {
  std::unique_lock<std::mutex> lock(bg_->mu);
  bg_->cv.wait(lock, [this] {
    return bg_->queued.size() < kBackgroundBlocks || !bg_->status.ok() || bg_->closing;
  });
  if (bg_->closing) return absl::FailedPreconditionError(absl::StrCat(path_, ": already closed"));
  if (!bg_->status.ok()) return bg_->status;
  if (bg_->spare.empty()) return std::make_unique<wire::Buffer>();
  std::unique_ptr<wire::Buffer> block = std::move(bg_->spare.back());
  bg_->spare.pop_back();
  return block;
}

void PerfettoOutput::Queue(std::unique_ptr<wire::Buffer> block) {
  std::lock_guard<std::mutex> lock(bg_->mu);
  bg_->queued.push_back(std::move(block));
  bg_->cv.notify_all();
}

absl::Status PerfettoOutput::Write(const uint8_t* data, size_t n) {
  if (bg_ != nullptr) {
    absl::StatusOr<std::unique_ptr<wire::Buffer>> block = TakeBlock();
    if (!block.ok()) return block.status();
    (*block)->Reserve(n);
    (*block)->Bytes(std::string_view(reinterpret_cast<const char*>(data), n));
    Queue(*std::move(block));
    return absl::OkStatus();
  }
  if (cctx_ != nullptr) return Compress(data, n, /*end=*/false);
  return WriteFile(data, n);
}

absl::Status PerfettoOutput::Write(wire::Buffer& buf) {
  if (bg_ == nullptr) {
    absl::Status status = Write(buf.data(), buf.size());
    buf.clear();
    return status;
  }
  absl::StatusOr<std::unique_ptr<wire::Buffer>> block = TakeBlock();
  if (!block.ok()) {
    buf.clear();
    return block.status();
  }
  (*block)->swap(buf);  // the caller continues in the spare block's storage
  Queue(*std::move(block));
  return absl::OkStatus();
}

void PerfettoOutput::RunBackground() {
  pthread_setname_np(pthread_self(), "scopetrace-zstd");
  std::unique_lock<std::mutex> lock(bg_->mu);
  for (;;) {
    bg_->cv.wait(lock, [this] { return !bg_->queued.empty() || bg_->closing; });
    if (bg_->queued.empty()) break;  // closing, and everything queued is compressed
    std::unique_ptr<wire::Buffer> block = std::move(bg_->queued.front());
    bg_->queued.pop_front();
    const bool skip = bg_->abandoned || !bg_->status.ok();
    lock.unlock();
    // Only this thread touches the zstd context and the file until Close joins it.
    absl::Status status =
        skip ? absl::OkStatus() : Compress(block->data(), block->size(), /*end=*/false);
    lock.lock();
    if (!status.ok() && bg_->status.ok()) bg_->status = std::move(status);
    block->clear();
    bg_->spare.push_back(std::move(block));
    bg_->cv.notify_all();  // a Write waiting for room
  }
  lock.unlock();
  if (cpu_counter_ != nullptr) {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    cpu_counter_->fetch_add(int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec,
                            std::memory_order_relaxed);
  }
}

absl::Status PerfettoOutput::StopBackground() {
  {
    std::lock_guard<std::mutex> lock(bg_->mu);
    bg_->closing = true;
    bg_->cv.notify_all();
  }
  bg_->thread.join();
  return bg_->status;  // the thread has ended: no lock needed
}

absl::Status PerfettoOutput::Close() {
  if (file_ == nullptr)
    return absl::FailedPreconditionError(absl::StrCat(path_, ": already closed"));
  // The background thread compresses what is queued, then the frame ends here.
  absl::Status status = bg_ != nullptr ? StopBackground() : absl::OkStatus();
  if (cctx_ != nullptr && status.ok()) status = Compress(nullptr, 0, /*end=*/true);
  errno = 0;
  if (std::fflush(file_) != 0 && status.ok()) status = Error("flush failed");
  if (std::fclose(file_) != 0 && status.ok()) status = Error("close failed");
  file_ = nullptr;
  return status;
}

}  // namespace scopetrace::exporters
