#include "exporters/perfetto_event_order.h"

#include <algorithm>

#include "src/event_sort.h"

namespace scopetrace::exporters {
namespace {

// Fills `offsets` with each track's range and, unless the events are already grouped by
// track and in walk order within each track (what Trace::SortEvents produces; checked in
// the same pass that counts, so a sorted chunk is read once), `order` with the indices
// grouped by track (a counting sort: O(n)); the walk then sorts each track's range.
// Events with an invalid track are dropped. `inspect(event, track changed)` sees every
// event of that pass while the events are still in order.
template <typename Event, typename Before, typename Inspect>
bool GroupByTrack(const std::vector<Event>& events, size_t num_tracks, Before before,
                  Inspect inspect, std::vector<uint32_t>& order, std::vector<uint32_t>& offsets) {
  offsets.assign(num_tracks + 1, 0);
  bool in_order = true;
  for (size_t i = 0; i < events.size(); ++i) {
    const TrackId t = events[i].track;
    if (t >= num_tracks) {
      in_order = false;
      continue;
    }
    ++offsets[t + 1];
    bool new_track = true;
    if (i > 0) {
      const Event& prev = events[i - 1];
      if (prev.track > t || (prev.track == t && before(events[i], prev))) in_order = false;
      new_track = prev.track != t;
    }
    if (in_order) inspect(events[i], new_track);
  }
  for (size_t t = 0; t < num_tracks; ++t) offsets[t + 1] += offsets[t];
  if (in_order) return true;
  order.resize(offsets[num_tracks]);
  std::vector<uint32_t> fill(offsets.begin(), offsets.end() - 1);
  for (uint32_t i = 0; i < events.size(); ++i) {
    const TrackId t = events[i].track;
    if (t < num_tracks) order[fill[t]++] = i;
  }
  return false;
}

bool SliceBefore(const Slice& x, const Slice& y) {
  return x.start_ns != y.start_ns ? x.start_ns < y.start_ns : x.dur_ns > y.dur_ns;
}

// WalkSlices' ends (a negative duration counts as 0).
int64_t WalkEnd(const Slice& s) { return s.start_ns + std::max<int64_t>(s.dur_ns, 0); }

}  // namespace

void EventOrder::Group(const Trace& chunk) {
  const size_t num_tracks = chunk.tracks().size();
  // While the slices are in walk order, each track's go through lane 0 of the stack walk
  // as they are counted: one that does not nest marks its track.
  slices_nest_.assign(num_tracks, 1);
  nest_ends_.clear();
  auto check_nesting = [&](const Slice& s, bool new_track) {
    if (new_track) nest_ends_.clear();
    if (!internal::OpenNested(nest_ends_, s.start_ns, WalkEnd(s))) slices_nest_[s.track] = 0;
  };
  slices_.identity = GroupByTrack(chunk.slices(), num_tracks, SliceBefore, check_nesting,
                                  slices_.order, slices_.offsets);
  auto ts_before = [](const auto& a, const auto& b) { return a.ts_ns < b.ts_ns; };
  auto nothing = [](const auto&, bool) {};
  instants_.identity = GroupByTrack(chunk.instants(), num_tracks, ts_before, nothing,
                                    instants_.order, instants_.offsets);
  counters_.identity = GroupByTrack(chunk.counters(), num_tracks, ts_before, nothing,
                                    counters_.order, counters_.offsets);
}

EventOrder::SliceRun EventOrder::SortedSlices(const Trace& chunk, TrackId t) {
  auto sort = [&](uint32_t* idx, size_t n) { SortSlices(chunk, idx, n); };
  const auto [begin, end] = slices_.Sorted(t, sort);
  return SliceRun{
      .order = slices_.identity ? nullptr : slices_.order.data(), .begin = begin, .end = end};
}

bool EventOrder::SlicesNest(const Trace& chunk, TrackId t) {
  if (slices_.identity) return t < slices_nest_.size() && slices_nest_[t] != 0;
  const SliceRun run = SortedSlices(chunk, t);
  const std::vector<Slice>& slices = chunk.slices();
  nest_ends_.clear();
  for (uint32_t i = 0; i < run.size(); ++i) {
    const Slice& s = slices[run[i]];
    if (!internal::OpenNested(nest_ends_, s.start_ns, WalkEnd(s))) return false;
  }
  return true;
}

void EventOrder::SortSlices(const Trace& chunk, uint32_t* idx, size_t n) {
  const std::vector<Slice>& slices = chunk.slices();
  auto before = [&](uint32_t a, uint32_t b) { return SliceBefore(slices[a], slices[b]); };
  if (!std::is_sorted(idx, idx + n, before)) std::stable_sort(idx, idx + n, before);
}

void EventOrder::SortPoints(const Trace& chunk, EdgeKind kind, uint32_t* idx, size_t n) {
  // Stable by time: equal timestamps keep the order the producer recorded them in.
  auto sort = [&](const auto& events) {
    auto before = [&](uint32_t a, uint32_t b) { return events[a].ts_ns < events[b].ts_ns; };
    if (!std::is_sorted(idx, idx + n, before)) std::stable_sort(idx, idx + n, before);
  };
  if (kind == EdgeKind::kCounter) {
    sort(chunk.counters());
  } else {
    sort(chunk.instants());
  }
}

}  // namespace scopetrace::exporters
