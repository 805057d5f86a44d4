// Internal: the export thread. Finished cycles queue here and are handed to
// `on_trace_ready` one at a time, off the application's threads, so step() never waits for
// a writer. Failures (an error status, an exception from a user callback) are contained,
// counted and logged; capture goes on.

#ifndef SCOPETRACE_SRC_EXPORTER_H_
#define SCOPETRACE_SRC_EXPORTER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "scopetrace/trace.h"
#include "src/background_thread.h"
#include "src/cycle_builder.h"
#include "src/event_storage_pool.h"

namespace scopetrace::internal {

class Exporter {
 public:
  // `export_trace` returns an error status for a failed export; exceptions it throws are
  // caught and turned into one.
  explicit Exporter(std::function<absl::Status(FinishedCycle&)> export_cycle);
  ~Exporter();

  absl::Status Start();  // fails only when no thread can be started
  // Queues a cycle for export; waits while kMaxQueuedCycles are queued already.
  void Enqueue(FinishedCycle cycle);
  // Exports everything queued, then ends the thread.
  void Finish();

  int64_t errors() const;
  // Where exported cycles' event vectors go back to for reuse.
  EventStoragePool& storage_pool() { return storage_pool_; }
  // CPU time the export thread has used so far.
  int64_t cpu_ns() const { return cpu_.ns(); }
  absl::Status last_error() const;

 private:
  void Run();
  void Export(FinishedCycle& cycle);

  std::function<absl::Status(FinishedCycle&)> export_cycle_;
  // std::mutex: visible to ThreadSanitizer (Debian's abseil is not instrumented).
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable room_cv_;  // the queue has room again
  // Cycles waiting for export beyond the one being exported.
  static constexpr size_t kMaxQueuedCycles = 4;
  std::deque<FinishedCycle> queue_;  // guarded by mu_
  bool finishing_ = false;           // guarded by mu_
  int64_t errors_ = 0;               // guarded by mu_
  absl::Status last_error_;          // guarded by mu_
  CpuTimeMeter cpu_;
  EventStoragePool storage_pool_;
  std::thread thread_;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_EXPORTER_H_
