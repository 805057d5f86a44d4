#include "exporters/perfetto_event_order.h"

#include <algorithm>

namespace scopetrace::exporters {
namespace {

// Fills `offsets` with each track's range and, unless the events are already grouped by
// track and in walk order within each track (what Trace::SortEvents produces; checked in
// the same pass that counts, so a sorted chunk is read once), `order` with the indices
// grouped by track (a counting sort: O(n)); the walk then sorts each track's range.
// Events with an invalid track are dropped.
template <typename Event, typename Before>
bool GroupByTrack(const std::vector<Event>& events, size_t num_tracks, Before before,
                  std::vector<uint32_t>& order, std::vector<uint32_t>& offsets) {
  offsets.assign(num_tracks + 1, 0);
  bool in_order = true;
  for (size_t i = 0; i < events.size(); ++i) {
    const TrackId t = events[i].track;
    if (t >= num_tracks) {
      in_order = false;
      continue;
    }
    ++offsets[t + 1];
    if (i > 0) {
      const Event& prev = events[i - 1];
      if (prev.track > t || (prev.track == t && before(events[i], prev))) in_order = false;
    }
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

}  // namespace

void EventOrder::Group(const Trace& chunk) {
  const size_t num_tracks = chunk.tracks().size();
  slices_.identity =
      GroupByTrack(chunk.slices(), num_tracks, SliceBefore, slices_.order, slices_.offsets);
  auto ts_before = [](const auto& a, const auto& b) { return a.ts_ns < b.ts_ns; };
  instants_.identity =
      GroupByTrack(chunk.instants(), num_tracks, ts_before, instants_.order, instants_.offsets);
  counters_.identity =
      GroupByTrack(chunk.counters(), num_tracks, ts_before, counters_.order, counters_.offsets);
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
