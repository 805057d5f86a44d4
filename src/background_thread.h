// Internal: what the profiler's own background threads (collector, exporter) share: a name
// that shows in `top -H`, gdb and perf, and the CPU time they have used, so the profiler
// can report its own background cost next to the hot-path overhead it estimates.

#ifndef SCOPETRACE_SRC_BACKGROUND_THREAD_H_
#define SCOPETRACE_SRC_BACKGROUND_THREAD_H_

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace scopetrace::internal {

// Names the calling thread (at most 15 characters are kept by Linux).
inline void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

// CPU time the calling thread has used, in ns.
inline int64_t ThisThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Starts `body` on `thread`. A process out of threads (or of address space for a stack)
// makes std::thread throw std::system_error; this returns it as a Status instead, so that
// start() can report it and a streamed cycle can fall back, rather than the exception
// ending the process (on a background thread nothing could catch it).
template <typename Body>
absl::Status StartThread(std::thread& thread, std::string_view what, Body&& body) {
  try {
    thread = std::thread(std::forward<Body>(body));
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start the ", std::string(what), " thread: ", e.what()));
  }
  return absl::OkStatus();
}

// A background thread's CPU time, published by the thread and read by stats().
class CpuTimeMeter {
 public:
  void Publish() { ns_.store(ThisThreadCpuNs(), std::memory_order_relaxed); }
  int64_t ns() const { return ns_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> ns_{0};
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_BACKGROUND_THREAD_H_
