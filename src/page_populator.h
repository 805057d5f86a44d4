// Internal: maps memory for writing on a thread of its own, ahead of the thread that fills
// it (see populate_pages.h for why mapping ahead pays).
//
// The Perfetto reader fills hundreds of MiB of fresh slices; mapping their pages is about
// 40 % of its CPU on our VMs, and it need not be on the decoding thread. The decoder asks
// for the next windows of its vector's spare capacity to be mapped and goes on decoding
// into the windows already mapped. Populating never changes a byte, so the two threads
// may touch the same pages; what must not happen is a populate of memory the vector no
// longer owns, so the owner calls Stop() before the vector reallocates or goes away.
//
//   PagePopulator populator;
//   populator.Request(v.data() + v.size(), window_bytes);  // returns at once
//   ...                                                    // v filled meanwhile
//   populator.Stop();                                      // before v.reserve() / v's end

#ifndef SCOPETRACE_SRC_PAGE_POPULATOR_H_
#define SCOPETRACE_SRC_PAGE_POPULATOR_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

namespace scopetrace::internal {

class PagePopulator {
 public:
  PagePopulator() = default;
  PagePopulator(const PagePopulator&) = delete;
  PagePopulator& operator=(const PagePopulator&) = delete;
  ~PagePopulator() { Stop(); }

  // Queues the whole pages inside [data, data + bytes) to be mapped for writing; the
  // thread starts on the first request. Without a thread (none could be started) they are
  // mapped here, before returning.
  void Request(const void* data, size_t bytes);

  // Drops what is queued and waits until no populate is running. Request may be called
  // again afterwards (a new thread starts).
  void Stop();

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<uintptr_t, uintptr_t>> queued_;  // [begin, end), guarded by mu_
  // Set under mu_; also read between the pieces of a range, so Stop waits for one piece.
  std::atomic<bool> stopping_{false};
  bool no_thread_ = false;  // starting one failed: populate in Request
  std::thread thread_;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_PAGE_POPULATOR_H_
