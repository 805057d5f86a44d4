// Internal: puts a chunk's events into the order the Perfetto writer emits them.
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
// within a chunk and can be delta-encoded.

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_EVENT_ORDER_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_EVENT_ORDER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "scopetrace/trace.h"

namespace scopetrace::exporters {

enum class EdgeKind : uint8_t { kBegin, kEnd, kInstant, kCounter };

struct Edge {
  int64_t ts;
  uint32_t index;  // into chunk.slices(), instants() or counters(), by kind
  EdgeKind kind;
};

struct EdgeSource {
  TrackId track;
  uint32_t lane;   // 0: the track itself; > 0: an overflow lane for overlapping slices
  uint32_t begin;  // range in edges()
  uint32_t end;
  bool slices;  // BEGIN/END edges (else instants or counter samples)
};

class EventOrder {
 public:
  // For a track, the end of the last slice already written on each of its lanes by earlier
  // chunks (null: no constraint). A slice starting before a lane's floor goes to another
  // lane, since it cannot be nested correctly with what the file already holds there.
  using LaneFloors = std::function<const std::vector<int64_t>*(TrackId)>;

  // Computes the edges of every event in `chunk` (which need not be sorted).
  void Build(const Trace& chunk, const LaneFloors& floors);

  const std::vector<EdgeSource>& sources() const { return sources_; }
  // Each source's edges are edges()[begin, end), in time order.
  const std::vector<Edge>& edges() const { return edges_; }
  // The timestamp of a non-empty source's last edge (its latest).
  int64_t last_ts(const EdgeSource& source) const { return edges_[source.end - 1].ts; }

 private:
  void AddSliceSources(const Trace& chunk, TrackId track, const std::vector<int64_t>* floors,
                       uint32_t* idx, size_t n);
  void AddPointSource(TrackId track, EdgeKind kind, const std::vector<int64_t>& ts, uint32_t* idx,
                      size_t n);

  std::vector<Edge> edges_;
  std::vector<EdgeSource> sources_;
  // Scratch reused between chunks.
  std::vector<uint32_t> order_;
  std::vector<uint32_t> offsets_;
  std::vector<int64_t> ts_scratch_;
  std::vector<std::vector<Edge>> lane_edges_;
  std::vector<std::vector<uint32_t>> lane_stacks_;  // open slices (indices) per lane
};

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_EVENT_ORDER_H_
