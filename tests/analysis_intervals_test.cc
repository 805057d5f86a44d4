// Interval union / intersection math, nearest-rank percentiles and duration text.

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scopetrace/analysis.h"
#include "src/analysis/analysis_internal.h"

namespace scopetrace {
namespace {

using analysis_internal::Interval;
using analysis_internal::IntervalSet;
using ::testing::ElementsAre;

TEST(UnionOfTest, MergesOverlappingAndTouchingKeepsDisjointDropsEmpty) {
  EXPECT_THAT(analysis_internal::UnionOf({{50, 60}, {0, 10}, {5, 20}, {20, 30}, {40, 40}}),
              ElementsAre(Interval{0, 30}, Interval{50, 60}));
  EXPECT_THAT(analysis_internal::UnionOf({{0, 100}, {10, 20}, {30, 40}}),
              ElementsAre(Interval{0, 100}));
  EXPECT_TRUE(analysis_internal::UnionOf({}).empty());
}

TEST(UnionOfTest, DisjointListsMerge) {
  EXPECT_THAT(analysis_internal::UnionOfDisjoint({{0, 10}, {30, 40}}, {{5, 15}, {50, 60}}),
              ElementsAre(Interval{0, 15}, Interval{30, 40}, Interval{50, 60}));
}

TEST(IntersectionOfTest, OverlapsOnly) {
  // compute [0,10) [20,40); copy [5,25) [35,50): overlap [5,10) [20,25) [35,40).
  EXPECT_THAT(analysis_internal::IntersectionOf({{0, 10}, {20, 40}}, {{5, 25}, {35, 50}}),
              ElementsAre(Interval{5, 10}, Interval{20, 25}, Interval{35, 40}));
  EXPECT_TRUE(analysis_internal::IntersectionOf({{0, 10}}, {{10, 20}}).empty());
  EXPECT_EQ(analysis_internal::TotalLength({{5, 10}, {20, 25}, {35, 40}}), 15);
}

TEST(IntervalSetTest, LengthWithinClipsToTheWindow) {
  const IntervalSet set({{10, 20}, {30, 40}, {50, 60}});
  EXPECT_EQ(set.LengthWithin(0, 100), 30);
  EXPECT_EQ(set.LengthWithin(15, 35), 10);  // [15,20) + [30,35)
  EXPECT_EQ(set.LengthWithin(20, 30), 0);   // a gap
  EXPECT_EQ(set.LengthWithin(32, 38), 6);   // inside one interval
  EXPECT_EQ(set.LengthWithin(60, 10), 0);   // empty window
  EXPECT_EQ(IntervalSet().LengthWithin(0, 100), 0);
}

TEST(PercentileTest, NearestRankOnKnownSets) {
  const std::vector<int64_t> ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(NearestRankPercentile(ten, 0), 1);
  EXPECT_EQ(NearestRankPercentile(ten, 50), 5);
  EXPECT_EQ(NearestRankPercentile(ten, 90), 9);
  EXPECT_EQ(NearestRankPercentile(ten, 99), 10);
  EXPECT_EQ(NearestRankPercentile(ten, 100), 10);
  // The textbook example: {15, 20, 35, 40, 50}.
  const std::vector<int64_t> five = {15, 20, 35, 40, 50};
  EXPECT_EQ(NearestRankPercentile(five, 30), 20);
  EXPECT_EQ(NearestRankPercentile(five, 40), 20);
  EXPECT_EQ(NearestRankPercentile(five, 50), 35);
  EXPECT_EQ(NearestRankPercentile(five, 100), 50);
  EXPECT_EQ(NearestRankPercentile({}, 50), 0);
  std::vector<int64_t> hundred;
  for (int64_t i = 1; i <= 100; ++i) hundred.push_back(i);
  EXPECT_EQ(NearestRankPercentile(hundred, 29), 29);  // no floating point round-up
  EXPECT_EQ(NearestRankPercentile(hundred, 99), 99);
}

TEST(PercentileTest, DurationStatsOfUnsortedValues) {
  std::vector<int64_t> values = {40, 10, 30, 20};
  const DurationStats stats = ComputeDurationStats(values);
  EXPECT_EQ(stats.count, 4);
  EXPECT_EQ(stats.total_ns, 100);
  EXPECT_DOUBLE_EQ(stats.mean_ns, 25);
  EXPECT_EQ(stats.min_ns, 10);
  EXPECT_EQ(stats.p50_ns, 20);
  EXPECT_EQ(stats.p90_ns, 40);
  EXPECT_EQ(stats.p99_ns, 40);
  EXPECT_EQ(stats.max_ns, 40);
  std::vector<int64_t> none;
  EXPECT_EQ(ComputeDurationStats(none).count, 0);
}

TEST(FormatDurationTest, PicksUnits) {
  EXPECT_EQ(FormatDuration(850), "850 ns");
  EXPECT_EQ(FormatDuration(12'345), "12.3 µs");
  EXPECT_EQ(FormatDuration(4'560'000), "4.56 ms");
  EXPECT_EQ(FormatDuration(1'234'000'000), "1.234 s");
  EXPECT_EQ(FormatDuration(-2'000), "-2.0 µs");
}

}  // namespace
}  // namespace scopetrace
