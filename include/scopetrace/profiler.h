// scopetrace/profiler.h
//
// `Profiler` decides which steps of an application are recorded (a `Schedule`, with the
// semantics of `torch.profiler.schedule`), collects the events of every thread and
// device during those steps, and hands each finished cycle to `on_trace_ready` on a
// background thread (by default: written to `output_dir` in `formats`).
//
// Example:
//
//   scopetrace::Profiler profiler({
//       .schedule = scopetrace::Schedule{.skip_first = 0, .wait = 1, .warmup = 1,
//                                        .active = 3, .repeat = 2},
//       .output_dir = "traces",
//       .formats = scopetrace::Format::kChromeJson | scopetrace::Format::kPerfettoZstd,
//   });
//   if (absl::Status s = profiler.start(); !s.ok()) { ...; }
//   for (int i = 0; i < 10; ++i) {
//     SCOPETRACE_SCOPE("iteration");
//     ...;
//     profiler.step();  // closes step i; recorded steps show as ProfilerStep#i
//   }
//   profiler.stop();    // finishes the open cycle and waits for the writers
//
// One profiler captures at a time in a process. `step()` and `stop()` may be called from
// any one thread (the "step thread"); instrumentation works from every thread.
//
// Failure behaviour (see docs/reliability.md):
//  - Process exit without stop(): the first start() registers a std::atexit handler that
//    stops the profiler still capturing, so exit() or returning from main hands the open
//    cycle over and waits for it to be written. Not covered (the open cycle is lost):
//    _exit(), quick_exit(), abort() and fatal signals; and exit() racing a step()/stop()
//    on another thread is the caller's data race.
//  - fork(): in the child the profiler is off (running() is false, step() and stop() do
//    nothing, instrumentation records nothing); the parent's capture is unaffected.
//  - A failing write or a throwing on_trace_ready: counted in ProfilerStats::export_errors
//    with last_export_error and one stderr line; no file is left under the final name or
//    a temporary one; capture goes on and later cycles are delivered.

#ifndef SCOPETRACE_PROFILER_H_
#define SCOPETRACE_PROFILER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "scopetrace/format.h"
#include "scopetrace/schedule.h"
#include "scopetrace/trace.h"

namespace scopetrace {

class DeviceSource;

// What the profiler does when a cycle's measured overhead exceeds the budget.
enum class OverheadPolicy : uint8_t {
  kReport,         // say so in the trace and log a warning naming the hottest scopes
  kSampleHottest,  // also keep 1 in N of the hottest scopes' events in later steps
};

// Fields are declared in this order so designated initializers in this order compile.
struct ProfilerOptions {
  // No schedule: one cycle from start() to stop().
  std::optional<Schedule> schedule;
  // Where the default on_trace_ready writes; created by start() if missing.
  std::string output_dir = "traces";
  Format formats = Format::kChromeJson;
  // Called on a background thread with each finished cycle. Default: write `formats`
  // to <output_dir>/<worker>.<pid>.cycle<K><extension>. Exceptions are caught and
  // reported; capture goes on. The Trace is valid during the call only, and the callback
  // must not call start() or stop(). While it runs, later cycles queue (up to 4); beyond
  // that the profiler waits for it rather than hold more memory, and events the threads
  // write meanwhile may be dropped (counted in the traces).
  std::function<void(const Trace&)> on_trace_ready;
  // Default: the host name.
  std::string worker_name;
  // Ring buffer per thread. A full ring drops (and counts) events, it never blocks. The
  // size is rounded up to a power of two of 24-byte records (the default: 6 MiB, 262 144
  // records); a thread's pages are mapped as it fills them, ahead of it, off its hot path.
  size_t buffer_kib_per_thread = 4096;
  // The share of wall time the profiler may cost; over it the trace says so.
  double overhead_budget_percent = 1.0;
  // Record key/value args of scopes and instants.
  bool record_args = true;
  // --- Beyond the design document's list ---
  OverheadPolicy overhead_policy = OverheadPolicy::kReport;
  // At the end of a cycle, how long to wait for device records still in flight.
  std::chrono::milliseconds device_flush_timeout{2000};
  // Encode the cycle while it is captured (Perfetto formats only), so memory stays
  // bounded however long the active window.
  bool streaming = false;
};

// What happened to the cycles of a session so far.
struct ProfilerStats {
  int64_t cycles_completed = 0;  // handed to on_trace_ready
  int64_t cycles_discarded = 0;  // stop() during warmup
  int64_t export_errors = 0;     // on_trace_ready failures (status or exception)
  uint64_t dropped_events = 0;   // all cycles
  absl::Status last_export_error;
  // CPU time of the profiler's background threads, this session (or the last one, after
  // stop()): the collector drains rings and assembles cycles; the exporter sorts and
  // writes them. Together with the hot-path overhead in each trace, the profiler's cost.
  double collector_cpu_seconds = 0;
  double exporter_cpu_seconds = 0;
  // With streaming: the threads that encode and compress each cycle while it is
  // captured (for .pftrace.zst, zstd runs on a thread of its own beside the encoder);
  // counted when a cycle's encoder ends.
  double stream_encoder_cpu_seconds = 0;
};

class Profiler {
 public:
  explicit Profiler(ProfilerOptions options = {});
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;
  // Stops the profiler if it is running.
  ~Profiler();

  // Adds a device whose activity is captured with the host's. Call before start().
  // The device must outlive the profiler's session (until stop() returns).
  void add_device(DeviceSource& device);

  // Validates the options (schedule, output directory), calibrates the clocks and the
  // overhead, and begins step 0. Errors: InvalidArgument for bad options,
  // FailedPrecondition when already running or another profiler is capturing.
  absl::Status start();

  // Closes the current step and begins the next. Never waits for export.
  void step();

  // Finishes the open cycle (a cycle in RECORD is handed over; one in WARMUP discarded),
  // and waits until every trace has been handed to on_trace_ready.
  void stop();

  bool running() const;
  // The step in progress (0 after start()).
  int64_t current_step() const;
  ProfilerAction current_action() const;
  ProfilerStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scopetrace

#endif  // SCOPETRACE_PROFILER_H_
