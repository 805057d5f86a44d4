#include "src/report/report_series.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace scopetrace::report_internal {
namespace {

struct Interval {
  int64_t start = 0;
  int64_t end = 0;
};

// Sorts and merges overlapping intervals, so each instant is counted once.
std::vector<Interval> Union(std::vector<Interval> intervals) {
  std::sort(intervals.begin(), intervals.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<Interval> merged;
  for (const Interval& i : intervals) {
    if (i.end <= i.start) continue;
    if (!merged.empty() && i.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, i.end);
    } else {
      merged.push_back(i);
    }
  }
  return merged;
}

// Share of each bucket covered by `merged` (sorted, disjoint). Buckets are
// [start + k * bucket_ns, start + (k + 1) * bucket_ns); the last one is cut at `end`.
std::vector<double> Coverage(const std::vector<Interval>& merged, const TimeWindow& window,
                             int64_t bucket_ns, size_t buckets) {
  std::vector<double> covered(buckets, 0.0);
  for (const Interval& i : merged) {
    const int64_t s = std::max(i.start, window.start_ns);
    const int64_t e = std::min(i.end, window.end_ns);
    if (e <= s) continue;
    size_t k = static_cast<size_t>((s - window.start_ns) / bucket_ns);
    for (; k < buckets; ++k) {
      const int64_t b0 = window.start_ns + static_cast<int64_t>(k) * bucket_ns;
      const int64_t b1 = std::min(b0 + bucket_ns, window.end_ns);
      if (b0 >= e) break;
      covered[k] += static_cast<double>(std::min(e, b1) - std::max(s, b0));
    }
  }
  for (size_t k = 0; k < buckets; ++k) {
    const int64_t b0 = window.start_ns + static_cast<int64_t>(k) * bucket_ns;
    const int64_t width = std::min(b0 + bucket_ns, window.end_ns) - b0;
    covered[k] = width > 0 ? std::min(covered[k] / static_cast<double>(width), 1.0) : 0.0;
  }
  return covered;
}

}  // namespace

TimeWindow ReportWindow(const Trace& trace) {
  const TraceMetadata& meta = trace.metadata();
  if (meta.end_ns > meta.start_ns) return {meta.start_ns, meta.end_ns};
  TimeWindow window{INT64_MAX, INT64_MIN};
  const auto extend = [&](int64_t s, int64_t e) {
    window.start_ns = std::min(window.start_ns, s);
    window.end_ns = std::max(window.end_ns, e);
  };
  for (const Slice& s : trace.slices()) extend(s.start_ns, s.end_ns());
  for (const Instant& i : trace.instants()) extend(i.ts_ns, i.ts_ns);
  for (const CounterSample& c : trace.counters()) extend(c.ts_ns, c.ts_ns);
  if (window.start_ns > window.end_ns) return {};
  return window;
}

std::vector<StepGroup> GroupSteps(const StepAnalysis& analysis, size_t max_groups) {
  std::vector<StepGroup> groups;
  const size_t n = analysis.steps.size();
  if (n == 0 || max_groups == 0) return groups;
  const size_t per_group = (n + max_groups - 1) / max_groups;
  const size_t devices = analysis.devices.size();
  for (size_t first = 0; first < n; first += per_group) {
    const size_t last = std::min(first + per_group, n);
    StepGroup group;
    group.first_step = analysis.steps[first].number;
    group.last_step = analysis.steps[last - 1].number;
    group.count = last - first;
    group.min_wall_ns = analysis.steps[first].wall_ns;
    group.max_wall_ns = analysis.steps[first].wall_ns;
    group.devices.resize(devices);
    double wall_sum = 0;
    for (size_t i = first; i < last; ++i) {
      const StepRow& step = analysis.steps[i];
      wall_sum += static_cast<double>(step.wall_ns);
      group.min_wall_ns = std::min(group.min_wall_ns, step.wall_ns);
      group.max_wall_ns = std::max(group.max_wall_ns, step.wall_ns);
      for (size_t d = 0; d < devices && d < step.devices.size(); ++d) {
        const DeviceStepStats& s = step.devices[d];
        DeviceShare& share = group.devices[d];
        share.compute_only_ns += static_cast<double>(s.compute_ns - s.overlap_ns);
        share.copy_only_ns += static_cast<double>(s.copy_ns - s.overlap_ns);
        share.overlap_ns += static_cast<double>(s.overlap_ns);
        share.idle_ns += static_cast<double>(s.idle_ns);
      }
    }
    const double count = static_cast<double>(group.count);
    group.mean_wall_ns = wall_sum / count;
    for (DeviceShare& share : group.devices) {
      share.compute_only_ns /= count;
      share.copy_only_ns /= count;
      share.overlap_ns /= count;
      share.idle_ns /= count;
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

std::vector<DeviceUtilization> ComputeDeviceUtilization(const Trace& trace,
                                                        const TimeWindow& window, size_t buckets) {
  std::vector<const Process*> devices;
  for (const Process& p : trace.processes()) {
    if (p.is_device) devices.push_back(&p);
  }
  std::sort(devices.begin(), devices.end(),
            [](const Process* a, const Process* b) { return a->pid < b->pid; });
  std::vector<DeviceUtilization> result;
  if (devices.empty() || buckets == 0 || window.length() <= 0) {
    for (const Process* p : devices) {
      DeviceUtilization u;
      u.device = p->name;
      result.push_back(std::move(u));
    }
    return result;
  }
  absl::flat_hash_map<int64_t, size_t> index_of_pid;
  for (size_t i = 0; i < devices.size(); ++i) index_of_pid[devices[i]->pid] = i;
  std::vector<std::vector<Interval>> kernels(devices.size()), all(devices.size());
  for (const Slice& s : trace.slices()) {
    const Track& track = trace.tracks()[s.track];
    if (track.kind != TrackKind::kDeviceStream) continue;
    const auto it = index_of_pid.find(track.pid);
    if (it == index_of_pid.end()) continue;
    all[it->second].push_back({s.start_ns, s.end_ns()});
    if (s.op_kind == DeviceOpKind::kKernel) kernels[it->second].push_back({s.start_ns, s.end_ns()});
  }
  // The smallest round length (1, 2 or 5 × 10^k ns) that covers the window in `buckets`,
  // so the time axis reads 0, 2.5, 5 ms rather than 0, 1.81, 3.62 ms.
  const int64_t least = std::max<int64_t>(
      1, (window.length() + static_cast<int64_t>(buckets) - 1) / static_cast<int64_t>(buckets));
  int64_t bucket_ns = 1;
  for (int64_t magnitude = 1; bucket_ns < least; magnitude *= 10) {
    for (int64_t m : {1, 2, 5}) {
      bucket_ns = m * magnitude;
      if (bucket_ns >= least) break;
    }
  }
  const size_t used = static_cast<size_t>((window.length() + bucket_ns - 1) / bucket_ns);
  for (size_t d = 0; d < devices.size(); ++d) {
    DeviceUtilization u;
    u.device = devices[d]->name;
    u.bucket_ns = bucket_ns;
    u.compute = Coverage(Union(std::move(kernels[d])), window, bucket_ns, used);
    u.busy = Coverage(Union(std::move(all[d])), window, bucket_ns, used);
    result.push_back(std::move(u));
  }
  return result;
}

std::vector<CounterLine> CollectCounters(const Trace& trace, const TimeWindow& window,
                                         size_t max_points) {
  std::map<TrackId, std::vector<const CounterSample*>> by_track;
  for (const CounterSample& c : trace.counters()) by_track[c.track].push_back(&c);
  absl::flat_hash_map<int64_t, bool> is_device;
  for (const Process& p : trace.processes()) is_device[p.pid] = p.is_device;

  std::vector<CounterLine> lines;
  for (auto& [track_id, samples] : by_track) {
    std::stable_sort(
        samples.begin(), samples.end(),
        [](const CounterSample* a, const CounterSample* b) { return a->ts_ns < b->ts_ns; });
    const Track& track = trace.tracks()[track_id];
    CounterLine line;
    line.name = track.name;
    line.device = is_device[track.pid];
    line.samples = samples.size();
    line.min = line.max = samples.front()->value;
    line.last = samples.back()->value;
    for (const CounterSample* s : samples) {
      line.min = std::min(line.min, s->value);
      line.max = std::max(line.max, s->value);
    }
    const auto add = [&](const CounterSample* s) {
      line.offset_ns.push_back(
          static_cast<double>(std::max<int64_t>(s->ts_ns - window.start_ns, 0)));
      line.value.push_back(s->value);
    };
    // Runs of `chunk` samples keep their minimum and maximum, in time order.
    const size_t pairs = std::max<size_t>(max_points / 2, 1);
    const size_t chunk = std::max<size_t>(1, (samples.size() + pairs - 1) / pairs);
    for (size_t first = 0; first < samples.size(); first += chunk) {
      const size_t last = std::min(first + chunk, samples.size());
      if (last - first <= 2) {
        for (size_t i = first; i < last; ++i) add(samples[i]);
        continue;
      }
      const auto [lo, hi] = std::minmax_element(
          samples.begin() + static_cast<std::ptrdiff_t>(first),
          samples.begin() + static_cast<std::ptrdiff_t>(last),
          [](const CounterSample* a, const CounterSample* b) { return a->value < b->value; });
      if ((*lo)->ts_ns <= (*hi)->ts_ns) {
        add(*lo);
        if (hi != lo) add(*hi);
      } else {
        add(*hi);
        add(*lo);
      }
    }
    // A counter keeps its value until the next sample: draw the last one to the window's end.
    if (!line.offset_ns.empty() && line.offset_ns.back() < static_cast<double>(window.length())) {
      line.offset_ns.push_back(static_cast<double>(window.length()));
      line.value.push_back(line.last);
    }
    lines.push_back(std::move(line));
  }
  std::stable_sort(lines.begin(), lines.end(), [](const CounterLine& a, const CounterLine& b) {
    if (a.device != b.device) return a.device;
    return a.name < b.name;
  });
  return lines;
}

}  // namespace scopetrace::report_internal
