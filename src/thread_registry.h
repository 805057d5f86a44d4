// Internal: owns every thread's ring. A thread registers on its first event; its ring
// stays here after the thread exits until the collector has drained it, so a thread that
// exits mid-cycle loses nothing. The registry only grows with live threads: the collector
// reaps exited threads once their rings are empty.

#ifndef SCOPETRACE_SRC_THREAD_REGISTRY_H_
#define SCOPETRACE_SRC_THREAD_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "scopetrace/internal/ring.h"

namespace scopetrace::internal {

struct ThreadState {
  ThreadState(int64_t tid, uint64_t capacity);
  int64_t tid;
  std::unique_ptr<Record[]> storage;
  ThreadRing ring;
  // Set by the thread's exit hook; the collector reaps the state once drained.
  std::atomic<bool> exited{false};
  // Collector-only: registration order, a stable key across reaps.
  uint64_t serial = 0;
};

class ThreadRegistry {
 public:
  static ThreadRegistry& Get();

  // Ring capacity for threads registering from now on (ProfilerOptions).
  void set_buffer_bytes(size_t bytes) { buffer_bytes_.store(bytes, std::memory_order_relaxed); }

  ThreadState* Register(int64_t tid);
  void SetThreadName(int64_t tid, std::string_view name);
  std::string ThreadName(int64_t tid) const;

  // Collector: the registered threads now (stable pointers until Reap).
  void Snapshot(std::vector<ThreadState*>& out) const;
  // Collector: frees an exited thread's state; the caller has drained its ring.
  void Reap(ThreadState* state);
  size_t size() const;

  // After fork() in the child: the parent's other threads are gone; forget their rings
  // without touching locks a vanished thread may have held.
  void ResetAfterFork();

 private:
  ThreadRegistry() = default;
  // std::mutex: visible to ThreadSanitizer (Debian's abseil is not instrumented).
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<ThreadState>> threads_;  // guarded by mu_
  absl::flat_hash_map<int64_t, std::string> names_;    // guarded by mu_
  uint64_t next_serial_ = 0;                           // guarded by mu_
  std::atomic<size_t> buffer_bytes_{4096 * 1024};
};

int64_t CurrentTid();

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_THREAD_REGISTRY_H_
