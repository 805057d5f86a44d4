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

  // Collector: maps the ring's pages ahead of the producer, whose write index is `head`.
  // The ring is allocated without touching it (a thread that records little costs little
  // memory), so on its first lap every 4 KiB page the thread wrote was a page fault in its
  // hot path, one per ~170 records: 410 in the 440 instrumented iterations of
  // app_overhead_benchmark's demo loop (all of it inside the first lap of a 6 MiB ring), 33
  // with this. The collector maps a window proportional to what the thread wrote since the
  // last round; nothing is left to do after the first lap.
  void MapRingAhead(uint64_t head);

 private:
  size_t mapped_bytes_ = 0;       // collector-only: ring bytes [0, mapped_bytes_) are mapped
  uint64_t head_last_round_ = 0;  // collector-only
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
