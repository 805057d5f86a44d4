// Diagnosis (`scopetrace diagnose`): each bottleneck verdict is one function that measures
// the trace against a named threshold (analysis.h) and, when passed, explains itself
// with the numbers and what to try.

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

#include "fmt/format.h"
#include "scopetrace/analysis.h"
#include "src/analysis/analysis_internal.h"

namespace scopetrace {
namespace {

using analysis_internal::Interval;
using analysis_internal::IntervalSet;
using analysis_internal::TrackRole;

double Percent(double share) { return 100.0 * share; }

// Step totals over all steps, per device.
struct DeviceTotals {
  std::string name;
  int64_t pid = 0;
  int64_t compute_ns = 0, copy_ns = 0, overlap_ns = 0, idle_ns = 0, launches = 0;
};

struct Context {
  explicit Context(const Trace& t) : trace(t), roles(analysis_internal::TrackRoles(t)) {}
  const Trace& trace;
  std::vector<TrackRole> roles;
  StepAnalysis steps;
  int64_t wall_ns = 0;       // sum of step windows
  int64_t host_step_ns = 0;  // sum of ProfilerStep slice durations
  std::vector<DeviceTotals> devices;
  // Each correlated slice pair: the host slice and the device op it launched.
  std::vector<std::pair<const Slice*, const Slice*>> launches;
};

Context BuildContext(const Trace& trace) {
  Context ctx(trace);
  ctx.steps = AnalyzeSteps(trace);
  ctx.devices.resize(ctx.steps.devices.size());
  for (size_t d = 0; d < ctx.devices.size(); ++d) {
    ctx.devices[d].name = ctx.steps.devices[d];
  }
  for (const StepRow& step : ctx.steps.steps) {
    ctx.wall_ns += step.wall_ns;
    ctx.host_step_ns += step.host_ns;
    for (size_t d = 0; d < step.devices.size(); ++d) {
      ctx.devices[d].pid = step.devices[d].pid;
      ctx.devices[d].compute_ns += step.devices[d].compute_ns;
      ctx.devices[d].copy_ns += step.devices[d].copy_ns;
      ctx.devices[d].overlap_ns += step.devices[d].overlap_ns;
      ctx.devices[d].idle_ns += step.devices[d].idle_ns;
      ctx.devices[d].launches += step.devices[d].launches;
    }
  }
  for (const analysis_internal::LaunchPair& pair :
       analysis_internal::JoinLaunches(trace, ctx.roles)) {
    if (pair.op != analysis_internal::kNoSlice) {
      ctx.launches.emplace_back(&trace.slices()[pair.host], &trace.slices()[pair.op]);
    }
  }
  return ctx;
}

int64_t Median(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  return NearestRankPercentile(values, 50);
}

std::optional<Finding> CheckHostBound(const Context& ctx) {
  // Launch cost: host launch slices of kernels.
  std::vector<int64_t> launch_costs;
  for (const auto& [host, op] : ctx.launches) {
    if (op->op_kind == DeviceOpKind::kKernel) launch_costs.push_back(host->dur_ns);
  }
  if (launch_costs.empty()) return std::nullopt;
  const int64_t launch_cost = Median(launch_costs);
  std::optional<Finding> best;
  for (size_t d = 0; d < ctx.devices.size(); ++d) {
    const DeviceTotals& dev = ctx.devices[d];
    const double idle_share = static_cast<double>(dev.idle_ns) / static_cast<double>(ctx.wall_ns);
    if (idle_share < kHostBoundMinIdleShare) continue;
    // Gaps between consecutive kernels (over all streams) that lie inside a step window.
    std::vector<Interval> kernels;
    for (const auto& [host, op] : ctx.launches) {
      if (op->op_kind == DeviceOpKind::kKernel && ctx.trace.tracks()[op->track].pid == dev.pid) {
        kernels.push_back({op->start_ns, op->end_ns()});
      }
    }
    const std::vector<Interval> busy = analysis_internal::UnionOf(std::move(kernels));
    std::vector<int64_t> gaps;
    for (size_t i = 1; i < busy.size(); ++i) {
      const int64_t from = busy[i - 1].end, to = busy[i].start;
      // The last step starting at or before the gap (steps are sorted by start).
      const auto after =
          std::upper_bound(ctx.steps.steps.begin(), ctx.steps.steps.end(), from,
                           [](int64_t t, const StepRow& step) { return t < step.start_ns; });
      if (after != ctx.steps.steps.begin() && to <= std::prev(after)->end_ns) {
        gaps.push_back(to - from);
      }
    }
    if (gaps.empty()) continue;
    const int64_t gap = Median(gaps);
    if (static_cast<double>(gap) >
        kHostBoundMaxGapPerLaunchCost * static_cast<double>(launch_cost)) {
      continue;
    }
    if (best && best->share >= idle_share) continue;
    const double steps = static_cast<double>(ctx.steps.steps.size());
    best = Finding{
        .kind = FindingKind::kHostBound,
        .share = idle_share,
        .title = fmt::format("host-bound: {} is idle {:.1f} % of the step, waiting for launches",
                             dev.name, Percent(idle_share)),
        .evidence = fmt::format(
            "{} idle {} of {} step time ({:.1f} %); median gap between kernels {} vs median "
            "host launch cost {}; {:.1f} launches per step",
            dev.name, FormatDuration(dev.idle_ns), FormatDuration(ctx.wall_ns), Percent(idle_share),
            FormatDuration(gap), FormatDuration(launch_cost),
            static_cast<double>(dev.launches) / steps),
        .advice =
            "the device finishes each kernel before the host launches the next: launch "
            "fewer, larger kernels (fuse ops, larger batches), batch launches or queue "
            "them from another thread, or capture the step as a graph",
    };
  }
  return best;
}

std::optional<Finding> CheckTransferBound(const Context& ctx) {
  std::optional<Finding> best;
  for (const DeviceTotals& dev : ctx.devices) {
    const int64_t exposed = dev.copy_ns - dev.overlap_ns;
    const double share = static_cast<double>(exposed) / static_cast<double>(ctx.wall_ns);
    if (share < kTransferBoundMinShare || (best && best->share >= share)) continue;
    best = Finding{
        .kind = FindingKind::kTransferBound,
        .share = share,
        .title = fmt::format("transfer-bound: copies not overlapped with compute take {:.1f} % "
                             "of the step on {}",
                             Percent(share), dev.name),
        .evidence = fmt::format(
            "{}: copies {} of {} step time, {} of it overlapped with kernels, {} exposed "
            "({:.1f} %); kernels {}",
            dev.name, FormatDuration(dev.copy_ns), FormatDuration(ctx.wall_ns),
            FormatDuration(dev.overlap_ns), FormatDuration(exposed), Percent(share),
            FormatDuration(dev.compute_ns)),
        .advice =
            "overlap copies with compute on another stream (pinned host memory, "
            "prefetch the next batch while this one computes), make fewer and larger "
            "copies, keep data on the device between steps",
    };
  }
  return best;
}

std::optional<Finding> CheckDeviceBound(const Context& ctx) {
  size_t best_device = ctx.devices.size();
  double best_share = 0;
  for (size_t d = 0; d < ctx.devices.size(); ++d) {
    const double share =
        static_cast<double>(ctx.devices[d].compute_ns) / static_cast<double>(ctx.wall_ns);
    if (share >= kDeviceBoundMinComputeShare && share > best_share) {
      best_device = d;
      best_share = share;
    }
  }
  if (best_device == ctx.devices.size()) return std::nullopt;
  const DeviceTotals& dev = ctx.devices[best_device];
  const OperatorSummary summary = SummarizeOperators(ctx.trace);
  std::string top;
  size_t listed = 0;
  for (const OperatorRow& row : summary.device) {
    if (row.op_kind != DeviceOpKind::kKernel || listed == kDeviceBoundTopKernels) continue;
    top += fmt::format("{}{} {} ({} calls, {:.1f} %)", listed ? "; " : "", row.name,
                       FormatDuration(row.total_ns), row.calls, row.percent);
    ++listed;
  }
  return Finding{
      .kind = FindingKind::kDeviceBound,
      .share = best_share,
      .title = fmt::format("device-bound: kernels fill {:.1f} % of the step on {}",
                           Percent(best_share), dev.name),
      .evidence = fmt::format("{}: kernels {} of {} step time ({:.1f} %); top kernels: {}",
                              dev.name, FormatDuration(dev.compute_ns), FormatDuration(ctx.wall_ns),
                              Percent(best_share), top),
      .advice =
          "the host keeps the device busy; speed up the top kernels (fusion, lower "
          "precision, better tiling) or spread the work over more devices",
  };
}

std::string Lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Host slices that wait for the device: synchronize calls and blocking copies.
bool IsSyncName(std::string_view name, std::string_view category) {
  const std::string lower = Lowercase(name);
  return category == "sync" || lower == "sync" || lower.find("synchronize") != std::string::npos;
}

std::optional<Finding> CheckSyncWaits(const Context& ctx) {
  if (ctx.host_step_ns <= 0) return std::nullopt;
  std::vector<Interval> waits;
  for (const Slice& s : ctx.trace.slices()) {
    if (analysis_internal::IsHostSlice(s, ctx.roles) &&
        IsSyncName(ctx.trace.str(s.name), ctx.trace.str(s.category))) {
      waits.push_back({s.start_ns, s.end_ns()});
    }
  }
  for (const auto& [host, op] : ctx.launches) {
    if (op->op_kind == DeviceOpKind::kMemcpyD2H) waits.push_back({host->start_ns, host->end_ns()});
  }
  const IntervalSet wait_set(analysis_internal::UnionOf(std::move(waits)));
  int64_t waited = 0;
  for (const StepRow& step : ctx.steps.steps) {
    waited += wait_set.LengthWithin(step.start_ns, step.start_ns + step.host_ns);
  }
  const double share = static_cast<double>(waited) / static_cast<double>(ctx.host_step_ns);
  if (share < kSyncWaitMinShare) return std::nullopt;
  return Finding{
      .kind = FindingKind::kSyncWaits,
      .share = share,
      .title = fmt::format("synchronization waits: the host waits for the device {:.1f} % of "
                           "the step",
                           Percent(share)),
      .evidence =
          fmt::format("{} of {} host step time in synchronize calls and blocking "
                      "device-to-host copies ({:.1f} %)",
                      FormatDuration(waited), FormatDuration(ctx.host_step_ns), Percent(share)),
      .advice =
          "remove synchronize calls the results do not need, read results back "
          "asynchronously (events, non-blocking copies into pinned memory), and batch "
          "the reads to once per step",
  };
}

std::optional<Finding> CheckCopyTrap(const Context& ctx) {
  const std::pair<const Slice*, const Slice*>* worst = nullptr;
  int64_t trapped = 0, excess_total = 0, blocking = 0;
  for (const auto& pair : ctx.launches) {
    const auto& [host, op] = pair;
    if (op->op_kind != DeviceOpKind::kMemcpyD2H && op->op_kind != DeviceOpKind::kMemcpyH2D) {
      continue;
    }
    ++blocking;
    const int64_t excess = host->dur_ns - op->dur_ns;
    if (static_cast<double>(host->dur_ns) <
            kCopyTrapMinHostPerDeviceRatio * static_cast<double>(op->dur_ns) ||
        excess < kCopyTrapMinExcessNs) {
      continue;
    }
    ++trapped;
    excess_total += excess;
    if (!worst || excess > worst->first->dur_ns - worst->second->dur_ns) worst = &pair;
  }
  if (!worst) return std::nullopt;
  const auto& [host, op] = *worst;
  const int64_t waited = std::max<int64_t>(0, op->start_ns - host->start_ns);
  const int64_t base = ctx.host_step_ns > 0 ? ctx.host_step_ns : host->dur_ns;
  const double share = static_cast<double>(excess_total) / static_cast<double>(base);
  return Finding{
      .kind = FindingKind::kCopyTrap,
      .share = std::min(share, 1.0),
      .title = fmt::format("copy trap: '{}' took {} on the host but its device copy only {}",
                           ctx.trace.str(host->name), FormatDuration(host->dur_ns),
                           FormatDuration(op->dur_ns)),
      .evidence = fmt::format(
          "the blocking copy '{}' lasted {} on the host while the copy itself ran {} on the "
          "device: it waited {} for kernels launched earlier to finish; {} of {} blocking "
          "copies look like this ({} of waiting in total)",
          ctx.trace.str(host->name), FormatDuration(host->dur_ns), FormatDuration(op->dur_ns),
          FormatDuration(waited), trapped, blocking, FormatDuration(excess_total)),
      .advice =
          "the copy is not slow, the kernels before it are: the host slice of a "
          "blocking copy includes waiting for all earlier work on the stream. "
          "Synchronize before the copy to see where the time goes, and look at the "
          "kernels (summary) rather than at the copy",
  };
}

}  // namespace

std::string_view FindingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kHostBound:
      return "host-bound";
    case FindingKind::kTransferBound:
      return "transfer-bound";
    case FindingKind::kDeviceBound:
      return "device-bound";
    case FindingKind::kSyncWaits:
      return "synchronization waits";
    case FindingKind::kCopyTrap:
      return "copy trap";
  }
  return "";
}

Diagnosis Diagnose(const Trace& trace) {
  Diagnosis diagnosis;
  const Context ctx = BuildContext(trace);
  if (ctx.steps.steps.empty()) {
    diagnosis.note = "no ProfilerStep slices: diagnosis works per step";
    return diagnosis;
  }
  if (ctx.wall_ns <= 0) {
    diagnosis.note = "every step has zero duration";
    return diagnosis;
  }
  for (auto check :
       {CheckHostBound, CheckTransferBound, CheckDeviceBound, CheckSyncWaits, CheckCopyTrap}) {
    if (std::optional<Finding> finding = check(ctx)) {
      diagnosis.findings.push_back(std::move(*finding));
    }
  }
  std::stable_sort(diagnosis.findings.begin(), diagnosis.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.share > b.share; });
  if (diagnosis.findings.empty()) {
    diagnosis.note = ctx.devices.empty()
                         ? "no device activity and no host waits: nothing to blame"
                         : "no threshold passed: the step is balanced between host and device";
  }
  return diagnosis;
}

}  // namespace scopetrace
