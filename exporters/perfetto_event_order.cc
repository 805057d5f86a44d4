#include "exporters/perfetto_event_order.h"

#include <algorithm>

namespace scopetrace::exporters {
namespace {

// Fills `order` with the indices 0..n-1 grouped by track (a counting sort: O(n)), and
// `offsets` with each track's range in `order`.
template <typename Event>
void GroupByTrack(const std::vector<Event>& events, size_t num_tracks, std::vector<uint32_t>& order,
                  std::vector<uint32_t>& offsets) {
  offsets.assign(num_tracks + 1, 0);
  for (const Event& e : events) {
    if (e.track < num_tracks) ++offsets[e.track + 1];
  }
  for (size_t t = 0; t < num_tracks; ++t) offsets[t + 1] += offsets[t];
  order.resize(offsets[num_tracks]);
  std::vector<uint32_t> fill(offsets.begin(), offsets.end() - 1);
  for (uint32_t i = 0; i < events.size(); ++i) {
    const TrackId t = events[i].track;
    if (t < num_tracks) order[fill[t]++] = i;
  }
}

}  // namespace

void EventOrder::Build(const Trace& chunk, const LaneFloors& floors) {
  edges_.clear();
  sources_.clear();
  const size_t num_tracks = chunk.tracks().size();
  edges_.reserve(chunk.slices().size() * 2 + chunk.instants().size() + chunk.counters().size());

  GroupByTrack(chunk.slices(), num_tracks, order_, offsets_);
  for (TrackId t = 0; t < num_tracks; ++t) {
    const size_t n = offsets_[t + 1] - offsets_[t];
    if (n > 0) AddSliceSources(chunk, t, floors(t), order_.data() + offsets_[t], n);
  }

  GroupByTrack(chunk.instants(), num_tracks, order_, offsets_);
  for (TrackId t = 0; t < num_tracks; ++t) {
    const size_t n = offsets_[t + 1] - offsets_[t];
    if (n == 0) continue;
    ts_scratch_.resize(chunk.instants().size());
    uint32_t* idx = order_.data() + offsets_[t];
    for (size_t i = 0; i < n; ++i) ts_scratch_[idx[i]] = chunk.instants()[idx[i]].ts_ns;
    AddPointSource(t, EdgeKind::kInstant, ts_scratch_, idx, n);
  }

  GroupByTrack(chunk.counters(), num_tracks, order_, offsets_);
  for (TrackId t = 0; t < num_tracks; ++t) {
    const size_t n = offsets_[t + 1] - offsets_[t];
    if (n == 0) continue;
    ts_scratch_.resize(chunk.counters().size());
    uint32_t* idx = order_.data() + offsets_[t];
    for (size_t i = 0; i < n; ++i) ts_scratch_[idx[i]] = chunk.counters()[idx[i]].ts_ns;
    AddPointSource(t, EdgeKind::kCounter, ts_scratch_, idx, n);
  }
}

void EventOrder::AddPointSource(TrackId track, EdgeKind kind, const std::vector<int64_t>& ts,
                                uint32_t* idx, size_t n) {
  // Stable by time: equal timestamps keep the order the producer recorded them in.
  if (!std::is_sorted(idx, idx + n, [&](uint32_t a, uint32_t b) { return ts[a] < ts[b]; })) {
    std::stable_sort(idx, idx + n, [&](uint32_t a, uint32_t b) { return ts[a] < ts[b]; });
  }
  EdgeSource source{.track = track,
                    .lane = 0,
                    .begin = static_cast<uint32_t>(edges_.size()),
                    .end = 0,
                    .slices = false};
  for (size_t i = 0; i < n; ++i) edges_.push_back(Edge{ts[idx[i]], idx[i], kind});
  source.end = static_cast<uint32_t>(edges_.size());
  sources_.push_back(source);
}

void EventOrder::AddSliceSources(const Trace& chunk, TrackId track,
                                 const std::vector<int64_t>* floors, uint32_t* idx, size_t n) {
  const std::vector<Slice>& slices = chunk.slices();
  // Parents before children: by start, then longest first.
  auto before = [&](uint32_t a, uint32_t b) {
    const Slice& x = slices[a];
    const Slice& y = slices[b];
    return x.start_ns != y.start_ns ? x.start_ns < y.start_ns : x.dur_ns > y.dur_ns;
  };
  if (!std::is_sorted(idx, idx + n, before)) std::stable_sort(idx, idx + n, before);

  // A negative duration is treated as 0 so that an END never precedes its BEGIN.
  auto end_of = [&](uint32_t s) {
    return slices[s].start_ns + std::max<int64_t>(slices[s].dur_ns, 0);
  };
  size_t lanes = 0;
  auto close_until = [&](size_t lane, int64_t ts) {
    std::vector<uint32_t>& stack = lane_stacks_[lane];
    std::vector<Edge>& out = lane_edges_[lane];
    while (!stack.empty()) {
      const uint32_t top = static_cast<uint32_t>(stack.back());
      if (end_of(top) > ts) break;
      out.push_back(Edge{end_of(top), top, EdgeKind::kEnd});
      stack.pop_back();
    }
  };
  for (size_t i = 0; i < n; ++i) {
    const uint32_t s = idx[i];
    const Slice& slice = slices[s];
    size_t lane = 0;
    for (;; ++lane) {
      if (lane == lanes) {
        if (lane_edges_.size() <= lane) {
          lane_edges_.emplace_back();
          lane_stacks_.emplace_back();
        }
        lane_edges_[lane].clear();
        lane_stacks_[lane].clear();
        ++lanes;
      }
      // Earlier chunks' slices on this lane are already written: only go past them.
      if (floors != nullptr && lane < floors->size() && slice.start_ns < (*floors)[lane]) continue;
      close_until(lane, slice.start_ns);
      const std::vector<uint32_t>& stack = lane_stacks_[lane];
      if (stack.empty() || end_of(stack.back()) >= end_of(s)) break;
    }
    lane_edges_[lane].push_back(Edge{slice.start_ns, s, EdgeKind::kBegin});
    lane_stacks_[lane].push_back(s);
  }
  for (size_t lane = 0; lane < lanes; ++lane) {
    close_until(lane, INT64_MAX);
    if (lane_edges_[lane].empty()) continue;
    EdgeSource source{.track = track,
                      .lane = static_cast<uint32_t>(lane),
                      .begin = static_cast<uint32_t>(edges_.size()),
                      .end = 0,
                      .slices = true};
    edges_.insert(edges_.end(), lane_edges_[lane].begin(), lane_edges_[lane].end());
    source.end = static_cast<uint32_t>(edges_.size());
    sources_.push_back(source);
  }
}

}  // namespace scopetrace::exporters
