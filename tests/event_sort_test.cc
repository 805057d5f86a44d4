// The adaptive event sort gives exactly what a stable sort by (track, time key) gives: on
// the collector's arrival order (nested scopes, parents after their children, tracks
// interleaved in chunks), on random input (the comparison-sort fallback), with ties, and
// with sparse track ids.

#include "src/event_sort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace scopetrace::internal {
namespace {

struct Event {
  uint32_t track = 0;
  int64_t start = 0;
  int64_t dur = 0;
  int serial = 0;  // arrival position: tells a stable result from an unstable one
  bool operator==(const Event&) const = default;
};

void SortBoth(std::vector<Event>& events) {
  std::vector<Event> expected = events;
  std::stable_sort(expected.begin(), expected.end(), [](const Event& a, const Event& b) {
    if (a.track != b.track) return a.track < b.track;
    if (a.start != b.start) return a.start < b.start;
    return -a.dur < -b.dur;
  });
  SortByTrackAndTime(
      events, [](const Event& e) { return e.track; },
      [](const Event& e) {
        return TimeKey{e.start, -e.dur};
      });
  ASSERT_EQ(events.size(), expected.size());
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i], expected[i]) << "at " << i;
  }
}

// Emits a tree of scopes in post-order (children first), as rings deliver them.
void EmitTree(std::mt19937_64& rng, uint32_t track, int64_t start, int64_t dur, int depth,
              std::vector<Event>& out) {
  if (depth > 0 && dur > 16) {
    int64_t t = start + 1;
    std::uniform_int_distribution<int> children(0, 4);
    for (int c = children(rng); c > 0 && t < start + dur - 4; --c) {
      std::uniform_int_distribution<int64_t> len(1, std::max<int64_t>(1, (start + dur - t) / 2));
      const int64_t d = len(rng);
      EmitTree(rng, track, t, d, depth - 1, out);
      t += d + 1;
    }
  }
  out.push_back(Event{.track = track, .start = start, .dur = dur});
}

TEST(EventSortTest, NestedPostOrderFromInterleavedThreadsMatchesStableSort) {
  std::mt19937_64 rng(7);
  std::vector<std::vector<Event>> per_thread(3);
  for (uint32_t track = 0; track < 3; ++track) {
    for (int64_t step = 0; step < 200; ++step) {
      EmitTree(rng, track, step * 100'000, 90'000, 6, per_thread[track]);
    }
  }
  // Interleave in drain-sized chunks, like the collector does.
  std::vector<Event> events;
  std::vector<size_t> pos(3, 0);
  for (bool more = true; more;) {
    more = false;
    for (uint32_t track = 0; track < 3; ++track) {
      for (int k = 0; k < 37 && pos[track] < per_thread[track].size(); ++k) {
        events.push_back(per_thread[track][pos[track]++]);
      }
      more = more || pos[track] < per_thread[track].size();
    }
  }
  for (size_t i = 0; i < events.size(); ++i) events[i].serial = static_cast<int>(i);
  ASSERT_GT(events.size(), 2000u);
  SortBoth(events);
}

TEST(EventSortTest, RandomOrderWithTiesFallsBackAndStaysStable) {
  std::mt19937_64 rng(11);
  std::vector<Event> events(20'000);
  std::uniform_int_distribution<int64_t> start(0, 50);  // many equal keys
  std::uniform_int_distribution<uint32_t> track(0, 5);
  for (size_t i = 0; i < events.size(); ++i) {
    events[i] = Event{.track = track(rng),
                      .start = start(rng),
                      .dur = start(rng) % 3,
                      .serial = static_cast<int>(i)};
  }
  SortBoth(events);
}

TEST(EventSortTest, SparseAndHugeTrackIdsAreHandled) {
  std::vector<Event> events = {{.track = 4'000'000'000u, .start = 5, .serial = 0},
                               {.track = 3, .start = 9, .serial = 1},
                               {.track = 4'000'000'000u, .start = 1, .serial = 2},
                               {.track = 3, .start = 2, .serial = 3}};
  SortBoth(events);
  EXPECT_EQ(events.front().serial, 3);
}

TEST(EventSortTest, SortedInputIsLeftAsIs) {
  std::vector<Event> events;
  for (int i = 0; i < 1000; ++i) {
    events.push_back(Event{.track = static_cast<uint32_t>(i / 100), .start = i, .serial = i});
  }
  SortBoth(events);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(events[i].serial, i);
}

}  // namespace
}  // namespace scopetrace::internal
