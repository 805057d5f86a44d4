// Internal to the analysis library (src/analysis/*.cc and its tests): interval math and
// the views of a Trace every analysis shares. Users include scopetrace/analysis.h only.

#ifndef SCOPETRACE_SRC_ANALYSIS_ANALYSIS_INTERNAL_H_
#define SCOPETRACE_SRC_ANALYSIS_ANALYSIS_INTERNAL_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "scopetrace/trace.h"

namespace scopetrace::analysis_internal {

// Sorts `v` by `less` unless it is in order already: what a trace delivers is often sorted
// (one stream, one launching thread), and the check is one pass where a sort is n log n.
// Not stable, like std::sort: only for callers that do not depend on how ties end up.
template <typename T, typename Less = std::less<>>
void SortUnlessSorted(std::vector<T>& v, Less less = {}) {
  if (!std::is_sorted(v.begin(), v.end(), less)) std::sort(v.begin(), v.end(), less);
}

// A half-open time interval [start, end).
struct Interval {
  int64_t start = 0;
  int64_t end = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};

// Sorts `intervals` and merges overlapping or touching ones: the result is ascending and
// disjoint. Empty intervals (end <= start) are dropped.
std::vector<Interval> UnionOf(std::vector<Interval> intervals);
// The union of two ascending disjoint lists (linear).
std::vector<Interval> UnionOfDisjoint(const std::vector<Interval>& a,
                                      const std::vector<Interval>& b);
// The intersection of two ascending disjoint lists (linear).
std::vector<Interval> IntersectionOf(const std::vector<Interval>& a,
                                     const std::vector<Interval>& b);
int64_t TotalLength(const std::vector<Interval>& disjoint);

// Ascending disjoint intervals with prefix sums: the covered length inside any window in
// O(log n), so per-step figures cost no rescans.
class IntervalSet {
 public:
  IntervalSet() = default;
  explicit IntervalSet(std::vector<Interval> disjoint);
  // Covered length within [from, to).
  int64_t LengthWithin(int64_t from, int64_t to) const;
  const std::vector<Interval>& intervals() const { return intervals_; }

 private:
  // Covered length from `intervals_.front().start` up to `t`.
  int64_t CoveredBefore(int64_t t) const;
  std::vector<Interval> intervals_;
  std::vector<int64_t> prefix_;  // prefix_[i]: total length of intervals_[0, i)
};

// What a track holds, for analysis purposes.
enum class TrackRole : uint8_t { kOther, kHostThread, kDeviceStream };

// Role of each track: host threads of non-device processes, device streams, the rest.
std::vector<TrackRole> TrackRoles(const Trace& trace);

// True for a slice that is a device op (on a stream, or with an op kind).
inline bool IsDeviceOp(const Slice& slice, const std::vector<TrackRole>& roles) {
  return slice.op_kind != DeviceOpKind::kNone || roles[slice.track] == TrackRole::kDeviceStream;
}
inline bool IsHostSlice(const Slice& slice, const std::vector<TrackRole>& roles) {
  return slice.op_kind == DeviceOpKind::kNone && roles[slice.track] == TrackRole::kHostThread;
}

// Indices into trace.slices() in the documented (track, start_ns, -dur_ns) order: the
// identity when the trace is already sorted, so unsorted input analyses the same.
std::vector<uint32_t> SortedSliceOrder(const Trace& trace);

// A host slice that launched device work and the device op with its correlation id
// (kNoSlice when that op is not in the trace). Indices into trace.slices().
inline constexpr uint32_t kNoSlice = UINT32_MAX;
struct LaunchPair {
  uint32_t host = 0;
  uint32_t op = kNoSlice;
};
// Every host slice with a correlation id, joined to its device op; ordered by id.
std::vector<LaunchPair> JoinLaunches(const Trace& trace, const std::vector<TrackRole>& roles);

// For each StringId: whether it names a step ("ProfilerStep#<N>").
std::vector<bool> StepNameIds(const Trace& trace);
// N of "ProfilerStep#<N>", or -1.
int64_t StepNumber(std::string_view name);

}  // namespace scopetrace::analysis_internal

#endif  // SCOPETRACE_SRC_ANALYSIS_ANALYSIS_INTERNAL_H_
