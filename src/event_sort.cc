#include "src/event_sort.h"

#include <numeric>

namespace scopetrace::internal {
namespace {

// Insertion moves allowed per event before a run is judged far from sorted: generous for
// nesting depths seen in practice (each event moves back over its descendants once).
constexpr size_t kMovesPerEvent = 64;

// Insertion sort of keys[begin, end) (with order alongside); false if it would exceed
// `budget` moves, leaving the range a permutation of itself (still a valid input for the
// fallback).
bool InsertionSort(std::vector<TimeKey>& keys, std::vector<uint32_t>& order, size_t begin,
                   size_t end, size_t budget) {
  size_t moves = 0;
  for (size_t i = begin + 1; i < end; ++i) {
    if (!(keys[i] < keys[i - 1])) continue;
    const TimeKey key = keys[i];
    const uint32_t index = order[i];
    size_t j = i;
    while (j > begin && key < keys[j - 1]) {  // strict: equal keys keep arrival order
      keys[j] = keys[j - 1];
      order[j] = order[j - 1];
      --j;
      if (++moves > budget) {
        keys[j] = key;
        order[j] = index;
        return false;
      }
    }
    keys[j] = key;
    order[j] = index;
  }
  return true;
}

void ComparisonSort(std::vector<TimeKey>& keys, std::vector<uint32_t>& order, size_t begin,
                    size_t end) {
  // Ties broken by the original index: the same result as a stable sort.
  std::vector<uint32_t> positions(end - begin);
  std::iota(positions.begin(), positions.end(), static_cast<uint32_t>(begin));
  std::sort(positions.begin(), positions.end(), [&](uint32_t a, uint32_t b) {
    if (keys[a] < keys[b]) return true;
    if (keys[b] < keys[a]) return false;
    return order[a] < order[b];
  });
  std::vector<TimeKey> sorted_keys(end - begin);
  std::vector<uint32_t> sorted_order(end - begin);
  for (size_t k = 0; k < positions.size(); ++k) {
    sorted_keys[k] = keys[positions[k]];
    sorted_order[k] = order[positions[k]];
  }
  std::copy(sorted_keys.begin(), sorted_keys.end(), keys.begin() + begin);
  std::copy(sorted_order.begin(), sorted_order.end(), order.begin() + begin);
}

}  // namespace

void SortRunsByTime(const std::vector<uint32_t>& group_begin, std::vector<TimeKey>& keys,
                    std::vector<uint32_t>& order) {
  for (size_t t = 0; t + 1 < group_begin.size(); ++t) {
    const size_t begin = group_begin[t], end = group_begin[t + 1];
    if (end - begin < 2) continue;
    if (!InsertionSort(keys, order, begin, end, kMovesPerEvent * (end - begin))) {
      ComparisonSort(keys, order, begin, end);
    }
  }
}

void SortTraceEvents(Trace& trace) {
  SortByTrackAndTime(
      trace.mutable_slices(), [](const Slice& s) { return s.track; },
      // ~dur = -dur - 1: longer first, and no overflow for any duration.
      [](const Slice& s) {
        return TimeKey{s.start_ns, ~s.dur_ns};
      });
  SortByTrackAndTime(
      trace.mutable_instants(), [](const Instant& i) { return i.track; },
      [](const Instant& i) {
        return TimeKey{i.ts_ns, 0};
      });
  SortByTrackAndTime(
      trace.mutable_counters(), [](const CounterSample& c) { return c.track; },
      [](const CounterSample& c) {
        return TimeKey{c.ts_ns, 0};
      });
}

}  // namespace scopetrace::internal
