// scopetrace/analysis.h
//
// Analysis of a captured `Trace`: what the `scopetrace` command line tool prints and
// what the HTML report draws. Five questions, one function each:
//
//   SummarizeOperators  where does the time go?    (host scopes and device ops table)
//   AnalyzeSteps        how long is a step, and what fills it?  (per ProfilerStep#N)
//   Diagnose            what is the bottleneck, and what should I try?
//   DiffTraces          did the new run get slower?  (a CI gate)
//   MergeTraces         several processes or ranks on one timeline
//
// Example:
//
//   absl::StatusOr<scopetrace::Trace> trace = scopetrace::ReadTrace("run.trace.json");
//   if (!trace.ok()) return trace.status();
//   scopetrace::StepAnalysis steps = scopetrace::AnalyzeSteps(*trace);
//   fmt::print("P50 step {} ns, {:.1f} steps/s\n", steps.wall.p50_ns, steps.steps_per_second);
//   for (const scopetrace::Finding& f : scopetrace::Diagnose(*trace).findings) {
//     fmt::print("{}: {}\n  try: {}\n", f.title, f.evidence, f.advice);
//   }
//
// Every function reads the trace and never modifies it; a `const Trace` may be analysed
// from several threads at once. The cost is O(n log n) in the number of events, with a
// few bytes of scratch memory per event; no event is copied. Input that is not sorted
// (a builder that forgot `Trace::SortEvents()`) gives the same results as sorted input.
//
// Definitions used throughout (durations are nanoseconds):
// - Host slice: a slice on a TrackKind::kThread track of a non-device process. Device
//   op: a slice on a kDeviceStream track, or any slice with op_kind != kNone.
// - Step slice: a host slice named "ProfilerStep#<N>". Steps are not operators: they
//   are left out of the operator tables and analysed by `AnalyzeSteps`.
// - Percentiles are exact, by the nearest-rank method: P(q) of n sorted values is the
//   value at 1-based rank ceil(q / 100 * n), so it is always an observed duration.

#ifndef SCOPETRACE_ANALYSIS_H_
#define SCOPETRACE_ANALYSIS_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scopetrace/trace.h"

namespace scopetrace {

// --- Percentiles -----------------------------------------------------------------------

// Nearest-rank percentile of `sorted` (ascending), `q` in [0, 100]; 0 when empty.
// P0 is the minimum and P100 the maximum.
int64_t NearestRankPercentile(std::span<const int64_t> sorted, double q);

// Summary statistics of a set of durations.
struct DurationStats {
  int64_t count = 0;
  int64_t total_ns = 0;
  double mean_ns = 0;
  int64_t min_ns = 0;
  int64_t p50_ns = 0;
  int64_t p90_ns = 0;
  int64_t p99_ns = 0;
  int64_t max_ns = 0;
};

// Statistics of `durations` (any order; sorted in place).
DurationStats ComputeDurationStats(std::vector<int64_t>& durations);

// A duration for people: "850 ns", "12.3 µs", "4.56 ms", "1.234 s".
std::string FormatDuration(int64_t ns);

// --- Operator summary ------------------------------------------------------------------

struct SummaryOptions {
  // Keep the `top` rows of each table by total time; 0 keeps every row.
  size_t top = 0;
  // Group by name and args (e.g. input shape), not by name alone.
  bool group_by_args = false;
};

// One operator: every slice with the same name (and args, with group_by_args).
struct OperatorRow {
  std::string name;
  // The grouping args as "key=value, key=value"; empty unless group_by_args.
  std::string args;
  bool device = false;
  DeviceOpKind op_kind = DeviceOpKind::kNone;  // device ops: the kind of the first one seen
  int64_t calls = 0;
  int64_t total_ns = 0;
  // Total minus the time of children on the same track (the time in this operator
  // itself). A child sticking out of its parent counts only for the part inside.
  int64_t self_ns = 0;
  double avg_ns = 0;
  int64_t min_ns = 0;
  int64_t p50_ns = 0;
  int64_t p99_ns = 0;
  int64_t max_ns = 0;
  // total_ns as a percentage of the table's summed self time: the time the host threads
  // (or device streams) were busy, counted once. Nested operators add up past 100 %.
  double percent = 0;
};

struct OperatorSummary {
  std::vector<OperatorRow> host;    // sorted by total_ns, largest first
  std::vector<OperatorRow> device;  // sorted by total_ns, largest first
  int64_t host_self_ns = 0;         // sum of self time over every host row (before `top`)
  int64_t device_self_ns = 0;       // sum of self time over every device row
};

OperatorSummary SummarizeOperators(const Trace& trace, const SummaryOptions& options = {});

// --- Steps -----------------------------------------------------------------------------

// One device's share of one step. Every figure is a length of time inside the step window.
struct DeviceStepStats {
  std::string device;  // the device process name, e.g. "sim0"
  int64_t pid = 0;
  int64_t compute_ns = 0;  // union of kernel intervals, over all streams
  int64_t copy_ns = 0;     // union of memcpy (H2D, D2H) and memset intervals
  int64_t overlap_ns = 0;  // compute ∩ copy
  int64_t idle_ns = 0;     // window − (compute ∪ copy)
  int64_t launches = 0;    // host launches in the step whose device op ran on this device
};

// One recorded step.
//   Window: from the start of the host ProfilerStep#N slice to the later of its end and
//   the end of the last device op launched in it. "Launched in it": a device op whose
//   correlation_id matches a host slice (of the step's process) starting inside the
//   ProfilerStep slice. So device work queued by a step counts for that step even
//   when it finishes after the host moved on.
struct StepRow {
  int64_t number = -1;   // N of ProfilerStep#N
  int64_t pid = 0;       // the process that recorded it
  int64_t start_ns = 0;  // window start
  int64_t end_ns = 0;    // window end
  int64_t host_ns = 0;   // duration of the ProfilerStep slice itself
  int64_t wall_ns = 0;   // end_ns − start_ns
  // Host busy: union of every host slice other than step slices, on every thread of
  // the step's process, inside the window. Time no host thread spends in any scope is
  // not busy.
  int64_t host_busy_ns = 0;
  int64_t launches = 0;  // host slices with a correlation id starting inside the step
  std::vector<DeviceStepStats> devices;  // one per device, in StepAnalysis::devices order
};

struct StepAnalysis {
  std::vector<StepRow> steps;        // by start time
  std::vector<std::string> devices;  // device process names, by pid
  DurationStats wall;                // of StepRow::wall_ns
  // 1 / mean wall time; 0 without steps.
  double steps_per_second = 0;
};

StepAnalysis AnalyzeSteps(const Trace& trace);

// --- Diagnosis -------------------------------------------------------------------------
//
// Each verdict is decided on the totals over all steps (windows summed), for the device
// whose verdict is strongest. The thresholds are shares of the summed step windows
// unless stated otherwise.

// Host-bound: the device is idle at least this share of the step ...
inline constexpr double kHostBoundMinIdleShare = 0.5;
// ... and the median gap between consecutive kernels is at most this multiple of the
// median host launch slice: the device waits for the next launch, not for work.
inline constexpr double kHostBoundMaxGapPerLaunchCost = 2.0;
// Transfer-bound: copy time not overlapped with compute is at least this share.
inline constexpr double kTransferBoundMinShare = 0.3;
// Device-bound: the union of kernels covers at least this share.
inline constexpr double kDeviceBoundMinComputeShare = 0.7;
// Synchronization waits: host time in synchronize calls and blocking device-to-host
// copies is at least this share of the host step time (the ProfilerStep slices).
inline constexpr double kSyncWaitMinShare = 0.2;
// The copy trap: a blocking copy whose host slice lasts at least this many times its
// device copy ...
inline constexpr double kCopyTrapMinHostPerDeviceRatio = 5.0;
// ... and at least this much longer in absolute terms (ignores microsecond noise).
inline constexpr int64_t kCopyTrapMinExcessNs = 100'000;
// How many kernels the device-bound evidence lists.
inline constexpr size_t kDeviceBoundTopKernels = 3;

enum class FindingKind {
  kHostBound,
  kTransferBound,
  kDeviceBound,
  kSyncWaits,
  kCopyTrap,
};

// "host-bound", "transfer-bound", "device-bound", "synchronization waits", "copy trap".
std::string_view FindingKindName(FindingKind kind);

struct Finding {
  FindingKind kind;
  // How strongly the trace shows it, as the share (0..1) the threshold is applied to;
  // findings are sorted by it, strongest first.
  double share = 0;
  std::string title;     // one line, e.g. "device-bound: kernels fill 92.0 % of the step"
  std::string evidence;  // the numbers that prove it
  std::string advice;    // what to try
};

struct Diagnosis {
  // Empty when no threshold is passed (or the trace has no steps; see `note`).
  std::vector<Finding> findings;
  // Why nothing could be concluded, or "" (e.g. "no ProfilerStep slices").
  std::string note;
};

Diagnosis Diagnose(const Trace& trace);

// --- Diff ------------------------------------------------------------------------------

struct DiffOptions {
  // A P50 or P99 step time more than this many percent above the base is a regression.
  double max_regression_pct = 5.0;
  // Operators shown: the `top` by the larger of the two totals.
  size_t top_operators = 10;
};

struct OperatorDelta {
  std::string name;
  bool device = false;
  int64_t base_calls = 0;
  int64_t new_calls = 0;
  int64_t base_total_ns = 0;
  int64_t new_total_ns = 0;
  double delta_pct = 0;  // (new − base) / base × 100; 0 when base is 0
};

struct TraceDiff {
  DurationStats base_steps;  // step wall time
  DurationStats new_steps;
  double p50_delta_pct = 0;
  double p90_delta_pct = 0;
  double p99_delta_pct = 0;
  std::vector<OperatorDelta> operators;
  // P50 or P99 step time grew by more than max_regression_pct. Never true when either
  // trace has no steps (check base_steps.count and new_steps.count).
  bool regressed = false;
};

TraceDiff DiffTraces(const Trace& base, const Trace& next, const DiffOptions& options = {});

// --- Merge -----------------------------------------------------------------------------

// Puts several traces (processes, ranks) on one timeline. Each process keeps its own
// tracks; the first trace's timeline is kept and the others are shifted by the
// difference of their metadata().wall_clock_ns (Unix time at start_ns), so events that
// happened at the same moment line up. A trace without a wall clock (0) is not shifted.
// A pid already taken by an earlier trace is remapped to an unused one (device pids
// stay at or above kDevicePidBase), and a process name already taken gets the worker
// name appended ("sim0 [rank1]"; "sim0 [input 2]" when the workers share a name);
// correlation and flow ids are offset per trace so launches only ever match their own
// device ops. Metadata: the first trace's, with the window, steps, drops, clock fits and
// truncation combined over all inputs.
absl::StatusOr<Trace> MergeTraces(std::span<const Trace* const> traces);

}  // namespace scopetrace

#endif  // SCOPETRACE_ANALYSIS_H_
