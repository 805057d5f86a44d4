// Interval union / intersection math, and the shared views of a trace (track roles,
// sorted slice order, step names) that every analysis starts from.

#include <algorithm>
#include <charconv>
#include <numeric>
#include <tuple>

#include "src/analysis/analysis_internal.h"

namespace scopetrace::analysis_internal {

std::vector<Interval> UnionOf(std::vector<Interval> intervals) {
  std::erase_if(intervals, [](const Interval& i) { return i.end <= i.start; });
  // Often sorted already (one stream or thread); the union does not depend on how ties
  // are ordered.
  SortUnlessSorted(intervals,
                   [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<Interval> merged;
  for (const Interval& i : intervals) {
    if (!merged.empty() && i.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, i.end);
    } else {
      merged.push_back(i);
    }
  }
  return merged;
}

std::vector<Interval> UnionOfDisjoint(const std::vector<Interval>& a,
                                      const std::vector<Interval>& b) {
  std::vector<Interval> both;
  both.reserve(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both),
             [](const Interval& x, const Interval& y) { return x.start < y.start; });
  std::vector<Interval> merged;
  for (const Interval& i : both) {
    if (!merged.empty() && i.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, i.end);
    } else {
      merged.push_back(i);
    }
  }
  return merged;
}

std::vector<Interval> IntersectionOf(const std::vector<Interval>& a,
                                     const std::vector<Interval>& b) {
  std::vector<Interval> out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const int64_t start = std::max(a[i].start, b[j].start);
    const int64_t end = std::min(a[i].end, b[j].end);
    if (start < end) out.push_back({start, end});
    // Advance whichever ends first: it cannot meet anything further in the other list.
    if (a[i].end < b[j].end) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

int64_t TotalLength(const std::vector<Interval>& disjoint) {
  int64_t total = 0;
  for (const Interval& i : disjoint) total += i.end - i.start;
  return total;
}

IntervalSet::IntervalSet(std::vector<Interval> disjoint) : intervals_(std::move(disjoint)) {
  prefix_.resize(intervals_.size() + 1);
  prefix_[0] = 0;
  for (size_t i = 0; i < intervals_.size(); ++i) {
    prefix_[i + 1] = prefix_[i] + (intervals_[i].end - intervals_[i].start);
  }
}

int64_t IntervalSet::CoveredBefore(int64_t t) const {
  // First interval starting at or after t: everything before it is covered up to t.
  const auto it = std::lower_bound(intervals_.begin(), intervals_.end(), t,
                                   [](const Interval& i, int64_t v) { return i.start < v; });
  const size_t k = static_cast<size_t>(it - intervals_.begin());
  if (k == 0) return 0;
  const Interval& last = intervals_[k - 1];
  return prefix_[k - 1] + (std::min(last.end, t) - last.start);
}

int64_t IntervalSet::LengthWithin(int64_t from, int64_t to) const {
  if (to <= from || intervals_.empty()) return 0;
  return CoveredBefore(to) - CoveredBefore(from);
}

std::vector<TrackRole> TrackRoles(const Trace& trace) {
  std::vector<TrackRole> roles(trace.tracks().size(), TrackRole::kOther);
  for (size_t i = 0; i < roles.size(); ++i) {
    const Track& track = trace.tracks()[i];
    if (track.kind == TrackKind::kDeviceStream) {
      roles[i] = TrackRole::kDeviceStream;
    } else if (track.kind == TrackKind::kThread) {
      bool device_process = false;
      for (const Process& p : trace.processes()) {
        if (p.pid == track.pid) device_process = p.is_device;
      }
      roles[i] = device_process ? TrackRole::kDeviceStream : TrackRole::kHostThread;
    }
  }
  return roles;
}

std::vector<uint32_t> SortedSliceOrder(const Trace& trace) {
  const std::vector<Slice>& slices = trace.slices();
  std::vector<uint32_t> order(slices.size());
  std::iota(order.begin(), order.end(), 0u);
  auto before = [&](uint32_t a, uint32_t b) {
    const Slice& x = slices[a];
    const Slice& y = slices[b];
    return std::tuple(x.track, x.start_ns, -x.dur_ns) < std::tuple(y.track, y.start_ns, -y.dur_ns);
  };
  if (!std::is_sorted(order.begin(), order.end(), before)) {
    std::stable_sort(order.begin(), order.end(), before);
  }
  return order;
}

int64_t StepNumber(std::string_view name) {
  constexpr std::string_view kPrefix = "ProfilerStep#";
  if (!name.starts_with(kPrefix)) return -1;
  const std::string_view digits = name.substr(kPrefix.size());
  int64_t n = -1;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (error != std::errc() || end != digits.data() + digits.size() || n < 0) return -1;
  return n;
}

std::vector<bool> StepNameIds(const Trace& trace) {
  std::vector<bool> is_step(trace.strings().size());
  for (size_t i = 0; i < is_step.size(); ++i) is_step[i] = StepNumber(trace.strings()[i]) >= 0;
  return is_step;
}

}  // namespace scopetrace::analysis_internal
