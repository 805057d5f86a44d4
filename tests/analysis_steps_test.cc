// AnalyzeSteps: step windows extended by launched device work, host busy, per-device
// compute / copy / overlap / idle, launches, step time statistics.

#include <algorithm>
#include <random>

#include "gtest/gtest.h"
#include "scopetrace/analysis.h"
#include "tests/analysis_trace_builder.h"

namespace scopetrace {
namespace {

using testing::kUs;
using testing::TraceBuilder;

// Step 0 [0,1000) µs on main, step 1 [1000,2000).
//   main:   forward [50,950) with launches at 100, 300, 900 (10 µs each)
//   worker: load [960,1100)
//   sim0 stream 0: kernel k1 [200,700) (launch 100), kernel k3 [1000,1300) (launch 900)
//   sim0 stream 1: H2D copy [400,900) (launch 300)
//   sim1 stream 0: kernel k4 [1500,1600) launched at 1200 in step 1
Trace TwoStepTrace(bool sort = true) {
  TraceBuilder b;
  const TrackId s00 = b.Stream(0, 0);
  const TrackId s01 = b.Stream(0, 1);
  const TrackId s10 = b.Stream(1, 0);
  const TrackId worker = b.Thread(2, "worker");
  b.Step(0, 0, 1000);
  b.Step(1, 1000, 1000);
  b.Host(b.main(), "forward", 50, 900);
  b.Kernel(b.main(), 100, 10, s00, "k1", 200, 500);
  b.Launch(b.main(), "copy_to_device", 300, 10, s01, DeviceOpKind::kMemcpyH2D, "h2d", 400, 500);
  b.Kernel(b.main(), 900, 10, s00, "k3", 1000, 300);
  b.Host(worker, "load", 960, 140);
  b.Kernel(b.main(), 1200, 10, s10, "k4", 1500, 100);
  return b.Build(sort);
}

TEST(StepsTest, WindowsUnionsAndOverlaps) {
  const StepAnalysis a = AnalyzeSteps(TwoStepTrace());
  ASSERT_EQ(a.steps.size(), 2u);
  ASSERT_EQ(a.devices.size(), 2u);
  EXPECT_EQ(a.devices[0], "sim0");
  EXPECT_EQ(a.devices[1], "sim1");

  const StepRow& s0 = a.steps[0];
  EXPECT_EQ(s0.number, 0);
  EXPECT_EQ(s0.pid, TraceBuilder::kHostPid);
  EXPECT_EQ(s0.start_ns, 0);
  EXPECT_EQ(s0.host_ns, 1000 * kUs);
  EXPECT_EQ(s0.end_ns, 1300 * kUs);  // k3, launched in step 0, ends at 1300
  EXPECT_EQ(s0.wall_ns, 1300 * kUs);
  // forward [50,950) ∪ load [960,1100) ∪ step 1's launch [1200,1210), which lies in
  // step 0's extended window (the launches of step 0 lie inside forward).
  EXPECT_EQ(s0.host_busy_ns, 1050 * kUs);
  EXPECT_EQ(s0.launches, 3);
  ASSERT_EQ(s0.devices.size(), 2u);
  const DeviceStepStats& d0 = s0.devices[0];
  EXPECT_EQ(d0.device, "sim0");
  EXPECT_EQ(d0.pid, kDevicePidBase);
  EXPECT_EQ(d0.launches, 3);
  EXPECT_EQ(d0.compute_ns, 800 * kUs);  // [200,700) ∪ [1000,1300)
  EXPECT_EQ(d0.copy_ns, 500 * kUs);     // [400,900)
  EXPECT_EQ(d0.overlap_ns, 300 * kUs);  // [400,700)
  EXPECT_EQ(d0.idle_ns, 300 * kUs);     // 1300 − ([200,900) ∪ [1000,1300))
  const DeviceStepStats& d1 = s0.devices[1];
  EXPECT_EQ(d1.device, "sim1");
  EXPECT_EQ(d1.launches, 0);
  EXPECT_EQ(d1.compute_ns, 0);
  EXPECT_EQ(d1.idle_ns, 1300 * kUs);

  // Step 1 keeps its own start; k3's tail [1000,1300) lies in its window too.
  const StepRow& s1 = a.steps[1];
  EXPECT_EQ(s1.number, 1);
  EXPECT_EQ(s1.start_ns, 1000 * kUs);
  EXPECT_EQ(s1.end_ns, 2000 * kUs);  // k4 ends at 1600, inside the host step
  EXPECT_EQ(s1.wall_ns, 1000 * kUs);
  EXPECT_EQ(s1.launches, 1);
  EXPECT_EQ(s1.host_busy_ns, 110 * kUs);  // load [1000,1100) + launch [1200,1210)
  EXPECT_EQ(s1.devices[0].compute_ns, 300 * kUs);
  EXPECT_EQ(s1.devices[0].idle_ns, 700 * kUs);
  EXPECT_EQ(s1.devices[0].launches, 0);
  EXPECT_EQ(s1.devices[1].compute_ns, 100 * kUs);
  EXPECT_EQ(s1.devices[1].launches, 1);
  EXPECT_EQ(s1.devices[1].idle_ns, 900 * kUs);

  EXPECT_EQ(a.wall.count, 2);
  EXPECT_DOUBLE_EQ(a.wall.mean_ns, 1150.0 * kUs);
  EXPECT_EQ(a.wall.p50_ns, 1000 * kUs);
  EXPECT_EQ(a.wall.p90_ns, 1300 * kUs);
  EXPECT_EQ(a.wall.p99_ns, 1300 * kUs);
  EXPECT_DOUBLE_EQ(a.steps_per_second, 1e9 / (1150.0 * kUs));
}

TEST(StepsTest, UnsortedInputGivesTheSameSteps) {
  Trace trace = TwoStepTrace(/*sort=*/false);
  std::mt19937 rng(3);
  std::shuffle(trace.mutable_slices().begin(), trace.mutable_slices().end(), rng);
  const StepAnalysis shuffled = AnalyzeSteps(trace);
  const StepAnalysis sorted = AnalyzeSteps(TwoStepTrace());
  ASSERT_EQ(shuffled.steps.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(shuffled.steps[i].wall_ns, sorted.steps[i].wall_ns);
    EXPECT_EQ(shuffled.steps[i].host_busy_ns, sorted.steps[i].host_busy_ns);
    EXPECT_EQ(shuffled.steps[i].devices[0].overlap_ns, sorted.steps[i].devices[0].overlap_ns);
  }
}

TEST(StepsTest, WallPercentilesOverManySteps) {
  TraceBuilder b;
  double t = 0;
  for (int i = 1; i <= 100; ++i) {  // step i lasts i µs
    b.Step(i - 1, t, i);
    t += i;
  }
  const StepAnalysis a = AnalyzeSteps(b.Build());
  ASSERT_EQ(a.steps.size(), 100u);
  EXPECT_TRUE(a.devices.empty());
  EXPECT_TRUE(a.steps[0].devices.empty());
  EXPECT_EQ(a.steps[99].number, 99);
  EXPECT_EQ(a.wall.p50_ns, 50 * kUs);
  EXPECT_EQ(a.wall.p90_ns, 90 * kUs);
  EXPECT_EQ(a.wall.p99_ns, 99 * kUs);
  EXPECT_EQ(a.wall.min_ns, 1 * kUs);
  EXPECT_EQ(a.wall.max_ns, 100 * kUs);
  EXPECT_DOUBLE_EQ(a.wall.mean_ns, 50.5 * kUs);
}

TEST(StepsTest, NoStepsAndEmptyTrace) {
  TraceBuilder b;
  b.Host(b.main(), "forward", 0, 10);
  const StepAnalysis a = AnalyzeSteps(b.Build());
  EXPECT_TRUE(a.steps.empty());
  EXPECT_EQ(a.wall.count, 0);
  EXPECT_EQ(a.steps_per_second, 0);
  EXPECT_TRUE(AnalyzeSteps(Trace()).steps.empty());
}

}  // namespace
}  // namespace scopetrace
