#include "src/page_populator.h"

#include <algorithm>

#include "src/background_thread.h"
#include "src/populate_pages.h"

namespace scopetrace::internal {

void PagePopulator::Request(const void* data, size_t bytes) {
  const auto [begin, end] = WholePagesInside(data, bytes);
  if (end <= begin) return;
  if (no_thread_) {
    PopulatePagesForWrite(begin, end);
    return;
  }
  if (!thread_.joinable()) {
    stopping_.store(false, std::memory_order_relaxed);  // no thread runs: none reads it
    if (!StartThread(thread_, "scopetrace pages", [this] { Run(); }).ok()) {
      no_thread_ = true;
      PopulatePagesForWrite(begin, end);
      return;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_.emplace_back(begin, end);
  }
  cv_.notify_one();
}

void PagePopulator::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_.store(true, std::memory_order_relaxed);
    queued_.clear();
  }
  cv_.notify_one();
  thread_.join();
}

void PagePopulator::Run() {
  NameThisThread("scopetrace pages");
  // A range is mapped in pieces, checking for Stop between them: Stop waits for one piece.
  constexpr uintptr_t kPiece = uintptr_t{2} << 20;
  for (;;) {
    std::pair<uintptr_t, uintptr_t> range;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock,
               [this] { return stopping_.load(std::memory_order_relaxed) || !queued_.empty(); });
      if (stopping_.load(std::memory_order_relaxed)) return;
      range = queued_.front();
      queued_.pop_front();
    }
    for (uintptr_t at = range.first; at < range.second; at += kPiece) {
      if (stopping_.load(std::memory_order_relaxed)) return;
      PopulatePagesForWrite(at, std::min(range.second, at + kPiece));
    }
  }
}

}  // namespace scopetrace::internal
