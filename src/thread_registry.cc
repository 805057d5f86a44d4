#include "src/thread_registry.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <new>

#include "scopetrace/instrument.h"
#include "src/populate_pages.h"

namespace scopetrace {

namespace internal {

std::atomic<uint32_t> g_capture_enabled{0};
std::atomic<uint32_t> g_record_args{1};
thread_local ThreadRing* t_ring = nullptr;

namespace {

thread_local bool t_exited = false;
thread_local int64_t t_tid = 0;

// Destroyed at thread exit: hands the ring over to the collector.
struct ThreadExitHook {
  ThreadState* state = nullptr;
  ~ThreadExitHook() {
    t_exited = true;
    t_ring = nullptr;
    if (state != nullptr) state->exited.store(true, std::memory_order_release);
  }
};

thread_local ThreadExitHook t_exit_hook;

}  // namespace

int64_t CurrentTid() {
  if (t_tid == 0) t_tid = static_cast<int64_t>(syscall(SYS_gettid));
  return t_tid;
}

namespace {

// Mapped when a thread registers (its first event, already the slow path), so the
// records it writes before the collector's next round (1-8 ms) do not fault: ~5400
// records. More would cost every thread that records only a few events this much memory.
constexpr size_t kInitialMappedBytes = 128 * 1024;

}  // namespace

ThreadState::ThreadState(int64_t tid, uint64_t capacity)
    // Not value-initialized: a large ring costs no resident memory until it is written.
    : tid(tid), storage(new Record[capacity]), ring(storage.get(), capacity) {
  mapped_bytes_ = std::min(kInitialMappedBytes, capacity * sizeof(Record));
  PopulateCoveringForWrite(storage.get(), mapped_bytes_);
}

void ThreadState::MapRingAhead(uint64_t head) {
  const size_t ring_bytes = ring.capacity() * sizeof(Record);
  if (mapped_bytes_ >= ring_bytes) return;
  // Four rounds' worth of the thread's rate ahead (the collector's cadence aims at 1/8 of
  // the ring a round), at least the initial window, at most a quarter of the ring.
  const size_t written = (head - head_last_round_) * sizeof(Record);
  head_last_round_ = head;
  const size_t ahead = std::clamp(4 * written, kInitialMappedBytes, ring_bytes / 4);
  const size_t want = std::min(ring_bytes, static_cast<size_t>(head) * sizeof(Record) + ahead);
  if (want <= mapped_bytes_) return;
  PopulateCoveringForWrite(reinterpret_cast<const char*>(storage.get()) + mapped_bytes_,
                           want - mapped_bytes_);
  mapped_bytes_ = want;
}

ThreadRegistry& ThreadRegistry::Get() {
  static ThreadRegistry* registry = new ThreadRegistry();  // never destroyed: threads may
  return *registry;                                        // outlive static destruction
}

ThreadState* ThreadRegistry::Register(int64_t tid) {
  const size_t bytes = buffer_bytes_.load(std::memory_order_relaxed);
  const uint64_t capacity = std::bit_ceil(std::max<uint64_t>(64, bytes / sizeof(Record)));
  auto state = std::make_unique<ThreadState>(tid, capacity);
  ThreadState* raw = state.get();
  std::lock_guard<std::mutex> lock(mu_);
  state->serial = next_serial_++;
  threads_.push_back(std::move(state));
  return raw;
}

void ThreadRegistry::SetThreadName(int64_t tid, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  names_[tid] = std::string(name);
}

std::string ThreadRegistry::ThreadName(int64_t tid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = names_.find(tid);
  return it == names_.end() ? std::string() : it->second;
}

void ThreadRegistry::Snapshot(std::vector<ThreadState*>& out) const {
  out.clear();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& state : threads_) out.push_back(state.get());
}

void ThreadRegistry::Reap(ThreadState* state) {
  std::lock_guard<std::mutex> lock(mu_);
  // A thread id may be reused by a later thread, which then names itself again.
  names_.erase(state->tid);
  auto it = std::find_if(threads_.begin(), threads_.end(),
                         [state](const auto& owned) { return owned.get() == state; });
  if (it != threads_.end()) threads_.erase(it);
}

size_t ThreadRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_.size();
}

void ThreadRegistry::ResetAfterFork() {
  // The child has one thread; the mutex may have been held by another, so it is rebuilt
  // rather than locked. The old states are never freed (freeing memory another thread was
  // using at fork time is not safe to reason about) but stay reachable from a static, so
  // LeakSanitizer at the child's exit does not report them.
  new (&mu_) std::mutex();
  static auto* abandoned = new std::vector<std::unique_ptr<ThreadState>>();
  for (auto& state : threads_) abandoned->push_back(std::move(state));
  threads_.clear();
  names_.clear();
  t_ring = nullptr;
  t_tid = 0;
}

ThreadRing* RegisterCurrentThread() {
  if (t_exited) return nullptr;  // events from thread-exit destructors are not captured
  ThreadState* state = ThreadRegistry::Get().Register(CurrentTid());
  t_exit_hook.state = state;
  t_ring = &state->ring;
  return t_ring;
}

}  // namespace internal

void set_thread_name(std::string_view name) {
  internal::ThreadRegistry::Get().SetThreadName(internal::CurrentTid(), name);
}

}  // namespace scopetrace
