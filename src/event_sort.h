// Internal: puts a trace's events in the documented order (by track, then time) fast
// when they are nearly in order already, which is how they arrive.
//
// The collector appends events as threads finish them: a thread's flat scopes arrive in
// time order, and a parent arrives right after its children (its record is written when it
// ends), so each track's sequence is sorted except that every parent sits after its
// descendants. Sorting that by comparison costs n log n (about 20 comparisons per event for
// a million); here events are grouped by track with a counting pass, each track's run is
// fixed by insertion (a parent moves back over its descendants only, so the work is n times
// the nesting depth), and the events are moved once into their places. Input far from sorted (more
// moves than a budget allows) falls back to a comparison sort for that track. The result is the
// same as a stable sort by (track, time key).

#ifndef SCOPETRACE_SRC_EVENT_SORT_H_
#define SCOPETRACE_SRC_EVENT_SORT_H_

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "scopetrace/trace.h"

namespace scopetrace::internal {

// The position of an event within its track: earlier first; on a tie, `second` smaller
// first (slices use -duration, so an enclosing slice precedes what it encloses).
struct TimeKey {
  int64_t first = 0;
  int64_t second = 0;
  friend bool operator<(const TimeKey& a, const TimeKey& b) {
    return a.first < b.first || (a.first == b.first && a.second < b.second);
  }
};

// One step of a walk over one track's slices in walk order (by start, longer first) with
// a stack of the ends still open: closes those that end by `start`, then opens [start,
// end) if it lies within the slice still open, as scopes do, and returns false otherwise
// (the slice overlaps its predecessor without nesting: a walk would need another lane).
inline bool OpenNested(std::vector<int64_t>& open_ends, int64_t start, int64_t end) {
  while (!open_ends.empty() && open_ends.back() <= start) open_ends.pop_back();
  if (!open_ends.empty() && open_ends.back() < end) return false;
  open_ends.push_back(end);
  return true;
}

// Sorts `order` (indices into the events, grouped by track, each group in arrival order)
// within each group by TimeKey, stably. Out of line: the same for every event type.
void SortRunsByTime(const std::vector<uint32_t>& group_begin, std::vector<TimeKey>& keys,
                    std::vector<uint32_t>& order);

// Moves events[order[i]] to position i for every i. A large vector is gathered into a new
// one: sequential writes, and reads that run through each track's events in order, where
// an in-place permutation would jump around memory (a cache miss per event, several times
// slower for millions of events). Small ones are permuted in place, cycle by cycle.
template <typename Event>
void ApplyOrder(std::vector<Event>& events, std::vector<uint32_t>& order) {
  constexpr size_t kGatherBytes = 4 << 20;
  if (events.size() * sizeof(Event) >= kGatherBytes) {
    std::vector<Event> sorted;
    sorted.reserve(events.size());
    for (const uint32_t from : order) sorted.push_back(std::move(events[from]));
    events.swap(sorted);
    return;
  }
  for (uint32_t i = 0; i < order.size(); ++i) {
    if (order[i] == i) continue;
    Event held = std::move(events[i]);
    uint32_t j = i;
    while (order[j] != i) {
      const uint32_t from = order[j];
      events[j] = std::move(events[from]);
      order[j] = j;
      j = from;
    }
    events[j] = std::move(held);
    order[j] = j;
  }
}

// Sorts `events` stably by (track(e), time(e)). `track` returns a uint32_t, `time` a
// TimeKey.
template <typename Event, typename TrackFn, typename TimeFn>
void SortByTrackAndTime(std::vector<Event>& events, TrackFn track, TimeFn time) {
  const size_t n = events.size();
  if (n < 2) return;
  if (n > UINT32_MAX) {  // beyond 32-bit indices: a plain stable sort
    std::stable_sort(events.begin(), events.end(), [&](const Event& a, const Event& b) {
      const uint32_t ta = track(a), tb = track(b);
      return ta < tb || (ta == tb && time(a) < time(b));
    });
    return;
  }
  bool sorted = true;
  uint32_t max_track = 0;
  for (size_t i = 0; i < n; ++i) {
    max_track = std::max<uint32_t>(max_track, track(events[i]));
    if (i > 0 && sorted) {
      const uint32_t a = track(events[i - 1]), b = track(events[i]);
      sorted = a < b || (a == b && !(time(events[i]) < time(events[i - 1])));
    }
  }
  if (sorted) return;
  if (max_track > 4 * n + 65'536) {  // ids far beyond the events (a hostile file): no table
    std::stable_sort(events.begin(), events.end(), [&](const Event& a, const Event& b) {
      const uint32_t ta = track(a), tb = track(b);
      return ta < tb || (ta == tb && time(a) < time(b));
    });
    return;
  }
  // Counting pass: the start of each track's group (tracks are small dense ids; a sparse
  // id range from a hostile file still costs only one counter per id up to the largest).
  std::vector<uint32_t> group_begin(static_cast<size_t>(max_track) + 2, 0);
  for (const Event& e : events) ++group_begin[track(e) + 1];
  for (size_t t = 1; t < group_begin.size(); ++t) group_begin[t] += group_begin[t - 1];
  std::vector<uint32_t> order(n);
  std::vector<TimeKey> keys(n);
  {
    std::vector<uint32_t> next(group_begin.begin(), group_begin.end() - 1);
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t slot = next[track(events[i])]++;
      order[slot] = i;
      keys[slot] = time(events[i]);
    }
  }
  SortRunsByTime(group_begin, keys, order);
  ApplyOrder(events, order);
}

// The orders Trace::SortEvents documents: slices by (track, start, longer first),
// instants and counter samples by (track, time). Trace::SortEvents calls it.
void SortTraceEvents(Trace& trace);

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_EVENT_SORT_H_
