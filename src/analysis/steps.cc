// Step analysis (`scopetrace steps`): per ProfilerStep#N window, host busy time and the
// device's compute / copy / overlap / idle time, from interval unions built once per
// device and queried per step window in O(log n).

#include <algorithm>
#include <limits>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "scopetrace/analysis.h"
#include "src/analysis/analysis_internal.h"

namespace scopetrace {
namespace {

using analysis_internal::Interval;
using analysis_internal::IntervalSet;
using analysis_internal::TrackRole;

// The unions of one device's activity over all its streams.
struct DeviceTimeline {
  int64_t pid = 0;
  std::string name;
  IntervalSet compute;  // kernels
  IntervalSet copy;     // memcpy H2D / D2H, memset
  IntervalSet overlap;  // compute ∩ copy
  IntervalSet busy;     // compute ∪ copy
};

bool IsCopyKind(DeviceOpKind kind) {
  return kind == DeviceOpKind::kMemcpyH2D || kind == DeviceOpKind::kMemcpyD2H ||
         kind == DeviceOpKind::kMemset;
}

// Device pid of each track (or -1), and the devices by pid.
std::vector<DeviceTimeline> BuildDeviceTimelines(const Trace& trace,
                                                 const std::vector<TrackRole>& roles,
                                                 std::vector<int32_t>& device_of_track) {
  std::vector<int64_t> pids;
  for (size_t t = 0; t < roles.size(); ++t) {
    if (roles[t] == TrackRole::kDeviceStream) pids.push_back(trace.tracks()[t].pid);
  }
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  device_of_track.assign(roles.size(), -1);
  for (size_t t = 0; t < roles.size(); ++t) {
    if (roles[t] != TrackRole::kDeviceStream) continue;
    device_of_track[t] = static_cast<int32_t>(
        std::lower_bound(pids.begin(), pids.end(), trace.tracks()[t].pid) - pids.begin());
  }
  std::vector<std::vector<Interval>> kernels(pids.size()), copies(pids.size());
  for (const Slice& s : trace.slices()) {
    const int32_t d = device_of_track[s.track];
    if (d < 0) continue;
    const Interval interval{s.start_ns, s.end_ns()};
    if (IsCopyKind(s.op_kind)) {
      copies[d].push_back(interval);
    } else if (s.op_kind != DeviceOpKind::kSync) {
      kernels[d].push_back(interval);  // a kernel, or device work of unknown kind
    }
  }
  std::vector<DeviceTimeline> devices(pids.size());
  for (size_t d = 0; d < pids.size(); ++d) {
    devices[d].pid = pids[d];
    devices[d].name = "pid " + std::to_string(pids[d]);
    for (const Process& p : trace.processes()) {
      if (p.pid == pids[d] && !p.name.empty()) devices[d].name = p.name;
    }
    std::vector<Interval> compute = analysis_internal::UnionOf(std::move(kernels[d]));
    std::vector<Interval> copy = analysis_internal::UnionOf(std::move(copies[d]));
    devices[d].overlap = IntervalSet(analysis_internal::IntersectionOf(compute, copy));
    devices[d].busy = IntervalSet(analysis_internal::UnionOfDisjoint(compute, copy));
    devices[d].compute = IntervalSet(std::move(compute));
    devices[d].copy = IntervalSet(std::move(copy));
  }
  return devices;
}

// Union of non-step host slices per host process. Only the part of each slice beyond
// what its track already covers is added, so nested children cost nothing.
absl::flat_hash_map<int64_t, IntervalSet> BuildHostBusy(const Trace& trace,
                                                        const std::vector<TrackRole>& roles,
                                                        const std::vector<bool>& is_step) {
  absl::flat_hash_map<int64_t, std::vector<Interval>> by_pid;
  const std::vector<Slice>& slices = trace.slices();
  TrackId track = std::numeric_limits<TrackId>::max();
  int64_t covered_until = std::numeric_limits<int64_t>::min();
  for (uint32_t i : analysis_internal::SortedSliceOrder(trace)) {
    const Slice& s = slices[i];
    if (!analysis_internal::IsHostSlice(s, roles) || is_step[s.name]) continue;
    if (s.track != track) {
      track = s.track;
      covered_until = std::numeric_limits<int64_t>::min();
    }
    if (s.end_ns() <= covered_until) continue;
    by_pid[trace.tracks()[s.track].pid].push_back(
        {std::max(s.start_ns, covered_until), s.end_ns()});
    covered_until = s.end_ns();
  }
  absl::flat_hash_map<int64_t, IntervalSet> busy;
  for (auto& [pid, intervals] : by_pid) {
    busy[pid] = IntervalSet(analysis_internal::UnionOf(std::move(intervals)));
  }
  return busy;
}

struct Launch {
  int64_t pid = 0;
  int64_t start_ns = 0;
  int32_t device = -1;  // where its device op ran; -1: op not in the trace
  int64_t op_end_ns = 0;
};

// Host slices carrying a correlation id, joined to their device op, by (pid, start).
std::vector<Launch> BuildLaunches(const Trace& trace, const std::vector<TrackRole>& roles,
                                  const std::vector<int32_t>& device_of_track) {
  const std::vector<Slice>& slices = trace.slices();
  std::vector<Launch> launches;
  for (const analysis_internal::LaunchPair& pair : analysis_internal::JoinLaunches(trace, roles)) {
    const Slice& host = slices[pair.host];
    Launch launch{.pid = trace.tracks()[host.track].pid, .start_ns = host.start_ns};
    if (pair.op != analysis_internal::kNoSlice) {
      const Slice& op = slices[pair.op];
      launch.device = device_of_track[op.track];
      launch.op_end_ns = op.end_ns();
    }
    launches.push_back(launch);
  }
  // Usually sorted already (one launching thread: ids rise with time). Ties may come in any
  // order: a step only counts its launches and takes the latest op end.
  analysis_internal::SortUnlessSorted(launches, [](const Launch& a, const Launch& b) {
    return std::pair(a.pid, a.start_ns) < std::pair(b.pid, b.start_ns);
  });
  return launches;
}

}  // namespace

StepAnalysis AnalyzeSteps(const Trace& trace) {
  StepAnalysis analysis;
  const std::vector<TrackRole> roles = analysis_internal::TrackRoles(trace);
  const std::vector<bool> is_step = analysis_internal::StepNameIds(trace);
  std::vector<int32_t> device_of_track;
  const std::vector<DeviceTimeline> devices = BuildDeviceTimelines(trace, roles, device_of_track);
  for (const DeviceTimeline& d : devices) analysis.devices.push_back(d.name);

  for (const Slice& s : trace.slices()) {
    if (!analysis_internal::IsHostSlice(s, roles) || !is_step[s.name]) continue;
    StepRow& row = analysis.steps.emplace_back();
    row.number = analysis_internal::StepNumber(trace.str(s.name));
    row.pid = trace.tracks()[s.track].pid;
    row.start_ns = s.start_ns;
    row.end_ns = s.end_ns();
    row.host_ns = s.dur_ns;
  }
  if (analysis.steps.empty()) return analysis;
  std::sort(analysis.steps.begin(), analysis.steps.end(), [](const StepRow& a, const StepRow& b) {
    return std::tuple(a.start_ns, a.pid, a.number) < std::tuple(b.start_ns, b.pid, b.number);
  });

  const auto host_busy = BuildHostBusy(trace, roles, is_step);
  const std::vector<Launch> launches = BuildLaunches(trace, roles, device_of_track);
  std::vector<int64_t> walls;
  for (StepRow& step : analysis.steps) {
    const int64_t host_end = step.end_ns;
    step.devices.resize(devices.size());
    auto first = std::lower_bound(
        launches.begin(), launches.end(), step, [](const Launch& l, const StepRow& st) {
          return std::pair(l.pid, l.start_ns) < std::pair(st.pid, st.start_ns);
        });
    for (auto it = first; it != launches.end() && it->pid == step.pid && it->start_ns < host_end;
         ++it) {
      ++step.launches;
      if (it->device < 0) continue;
      ++step.devices[it->device].launches;
      step.end_ns = std::max(step.end_ns, it->op_end_ns);
    }
    step.wall_ns = step.end_ns - step.start_ns;
    if (auto it = host_busy.find(step.pid); it != host_busy.end()) {
      step.host_busy_ns = it->second.LengthWithin(step.start_ns, step.end_ns);
    }
    for (size_t d = 0; d < devices.size(); ++d) {
      DeviceStepStats& stats = step.devices[d];
      stats.device = devices[d].name;
      stats.pid = devices[d].pid;
      stats.compute_ns = devices[d].compute.LengthWithin(step.start_ns, step.end_ns);
      stats.copy_ns = devices[d].copy.LengthWithin(step.start_ns, step.end_ns);
      stats.overlap_ns = devices[d].overlap.LengthWithin(step.start_ns, step.end_ns);
      stats.idle_ns = step.wall_ns - devices[d].busy.LengthWithin(step.start_ns, step.end_ns);
    }
    walls.push_back(step.wall_ns);
  }
  analysis.wall = ComputeDurationStats(walls);
  if (analysis.wall.mean_ns > 0) analysis.steps_per_second = 1e9 / analysis.wall.mean_ns;
  return analysis;
}

}  // namespace scopetrace
