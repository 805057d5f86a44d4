// Internal: walks a chunk's events in the order the Perfetto writer emits them.
//
// Perfetto has no "complete slice": a slice is a BEGIN/END pair on one track, and END
// closes the innermost open slice of that track (perfetto-format.md A.4). So each
// thread/stream's slices are walked as a stack (sorted by start, longest first) to produce
// BEGIN/END edges, with END(A) before BEGIN(B) when they share a timestamp. A slice that
// overlaps another without nesting (possible on device streams) cannot share a stack; it
// goes to the next "lane" of the track, an extra Perfetto track with the same name.
//
// Every lane, every track's instants and every counter track is one time-sorted source:
// the writer gives each its own packet sequence, whose timestamps then only go forward
// within a chunk and can be delta-encoded. The edges are handed to a visitor as they are
// found (no per-chunk edge array): per lane they come in time order; lanes of one track
// may interleave, which is harmless since each lane is its own sequence.
//
// Example:
//
//   order.Group(chunk);
//   for (TrackId t = 0; t < chunk.tracks().size(); ++t) {
//     order.WalkSlices(chunk, t, floors, [&](uint32_t lane, const Edge& e) { ... });
//     order.WalkPoints(chunk, t, EdgeKind::kInstant, [&](const Edge& e) { ... });
//   }

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_EVENT_ORDER_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_EVENT_ORDER_H_

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "scopetrace/trace.h"

namespace scopetrace::exporters {

enum class EdgeKind : uint8_t { kBegin, kEnd, kInstant, kCounter };

struct Edge {
  int64_t ts;
  uint32_t index;  // into chunk.slices(), instants() or counters(), by kind
  EdgeKind kind;
};

class EventOrder {
 public:
  // Groups the chunk's events (which need not be sorted) by track: O(n), reused buffers.
  void Group(const Trace& chunk);

  // Calls visit(lane, edge) for every BEGIN/END edge of track `t`'s slices; per lane in
  // time order. `floors`: per lane, the end of the last slice already written on it by
  // earlier chunks (null: no constraint). A slice starting before a lane's floor goes to
  // another lane, since it cannot be nested correctly with what the file already holds.
  template <typename Visit>
  void WalkSlices(const Trace& chunk, TrackId t, const std::vector<int64_t>* floors, Visit&& visit);

  // Track t's slice indices in walk order, for a caller that walks them itself: the
  // track's range is sorted first, as WalkSlices does, unless the chunk is in order.
  struct SliceRun {
    const uint32_t* order = nullptr;  // null: the chunk is in order, the indices are begin + i
    uint32_t begin = 0, end = 0;
    uint32_t size() const { return end - begin; }
    uint32_t operator[](uint32_t i) const {
      return order == nullptr ? begin + i : order[begin + i];
    }
  };
  SliceRun SortedSlices(const Trace& chunk, TrackId t);

  // Whether each of track t's slices lies within the one open before it, as scopes do:
  // then a BEGIN/END walk of SortedSlices needs one stack and no second lane
  // (EventEncoder::EncodeNestedSlices), which is what nearly every host thread's slices
  // are. For a chunk in order Group found it in its pass; otherwise it costs a pass over
  // the track's sorted slices.
  bool SlicesNest(const Trace& chunk, TrackId t);

  // Calls visit(edge) for track `t`'s instants or counter samples (by `kind`), in time
  // order; equal timestamps keep the order the producer recorded them in.
  template <typename Visit>
  void WalkPoints(const Trace& chunk, TrackId t, EdgeKind kind, Visit&& visit);

 private:
  struct Groups {
    // Event indices grouped by track, each track's in walk order; unused when `identity`
    // (the chunk's events are already in that order: order[i] would be i).
    std::vector<uint32_t> order;
    std::vector<uint32_t> offsets;  // track t: order[offsets[t], offsets[t + 1])
    bool identity = false;
    // Sorts track t's range (unless identity) and returns it.
    template <typename Sort>
    std::pair<uint32_t, uint32_t> Sorted(TrackId t, Sort sort) {
      if (t + 1 >= offsets.size()) return {0, 0};
      const uint32_t begin = offsets[t], end = offsets[t + 1];
      if (!identity && begin != end) sort(order.data() + begin, end - begin);
      return {begin, end};
    }
    // Calls f(event index) for track t's events in walk order (sorting its range first).
    template <typename Sort, typename F>
    void ForEach(TrackId t, Sort sort, F&& f) {
      const auto [begin, end] = Sorted(t, sort);
      if (identity) {
        for (uint32_t i = begin; i < end; ++i) f(i);
        return;
      }
      for (uint32_t i = begin; i < end; ++i) f(order[i]);
    }
  };
  // Sorts one track's slice indices parents first (by start, then longest first).
  void SortSlices(const Trace& chunk, uint32_t* idx, size_t n);
  void SortPoints(const Trace& chunk, EdgeKind kind, uint32_t* idx, size_t n);

  Groups slices_, instants_, counters_;
  // Per track, when slices_.identity: whether its slices nest (SlicesNest).
  std::vector<uint8_t> slices_nest_;
  std::vector<int64_t> nest_ends_;  // Group's scratch stack
  struct OpenSlice {
    int64_t end;
    uint32_t index;
  };
  std::vector<std::vector<OpenSlice>> lane_stacks_;  // open slices per lane
};

template <typename Visit>
void EventOrder::WalkSlices(const Trace& chunk, TrackId t, const std::vector<int64_t>* floors,
                            Visit&& visit) {
  const std::vector<Slice>& slices = chunk.slices();
  size_t lanes = 0;
  // Stacks hold each open slice's end, so closing never reads the (large) Slice again.
  auto close_until = [&](size_t lane, int64_t ts) {
    std::vector<OpenSlice>& stack = lane_stacks_[lane];
    while (!stack.empty()) {
      const OpenSlice top = stack.back();
      if (top.end > ts) break;
      stack.pop_back();
      visit(static_cast<uint32_t>(lane), Edge{top.end, top.index, EdgeKind::kEnd});
    }
  };
  auto sort = [&](uint32_t* idx, size_t n) { SortSlices(chunk, idx, n); };
  slices_.ForEach(t, sort, [&](const uint32_t s) {
    // The walk is memory-bound on Slice reads: fetch ahead (harmless past the end).
    __builtin_prefetch(slices.data() + s + 8);
    const int64_t start = slices[s].start_ns;
    // A negative duration is treated as 0 so that an END never precedes its BEGIN.
    const int64_t end = start + std::max<int64_t>(slices[s].dur_ns, 0);
    size_t lane = 0;
    for (;; ++lane) {
      if (lane == lanes) {
        if (lane_stacks_.size() <= lane) lane_stacks_.emplace_back();
        lane_stacks_[lane].clear();
        ++lanes;
      }
      // Earlier chunks' slices on this lane are already written: only go past them.
      if (floors != nullptr && lane < floors->size() && start < (*floors)[lane]) continue;
      close_until(lane, start);
      const std::vector<OpenSlice>& stack = lane_stacks_[lane];
      if (stack.empty() || stack.back().end >= end) break;
    }
    lane_stacks_[lane].push_back(OpenSlice{end, s});
    visit(static_cast<uint32_t>(lane), Edge{start, s, EdgeKind::kBegin});
  });
  for (size_t lane = 0; lane < lanes; ++lane) close_until(lane, INT64_MAX);
}

template <typename Visit>
void EventOrder::WalkPoints(const Trace& chunk, TrackId t, EdgeKind kind, Visit&& visit) {
  Groups& g = kind == EdgeKind::kCounter ? counters_ : instants_;
  auto sort = [&](uint32_t* idx, size_t n) { SortPoints(chunk, kind, idx, n); };
  g.ForEach(t, sort, [&](const uint32_t i) {
    const int64_t ts =
        kind == EdgeKind::kCounter ? chunk.counters()[i].ts_ns : chunk.instants()[i].ts_ns;
    visit(Edge{ts, i, kind});
  });
}

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_EVENT_ORDER_H_
