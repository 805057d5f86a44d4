// DiffTraces (step time percentiles, operator deltas, regression verdict) and
// MergeTraces (pids, tracks, wall clock alignment, correlation ids).

#include "gtest/gtest.h"
#include "scopetrace/analysis.h"
#include "tests/analysis_trace_builder.h"

namespace scopetrace {
namespace {

using testing::kUs;
using testing::TraceBuilder;

// 10 steps of `step_us`, each with one "forward" of half the step and a kernel.
Trace StepsOf(double step_us) {
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  for (int i = 0; i < 10; ++i) {
    const double t = i * step_us;
    b.Step(i, t, step_us);
    b.Host(b.main(), "forward", t, step_us / 2);
    b.Kernel(b.main(), t, 1, stream, "gemm", t + 1, step_us / 4);
  }
  return b.Build();
}

TEST(DiffTest, TenPercentSlowerRegresses) {
  const TraceDiff diff = DiffTraces(StepsOf(1000), StepsOf(1100));
  EXPECT_EQ(diff.base_steps.count, 10);
  EXPECT_EQ(diff.base_steps.p50_ns, 1000 * kUs);
  EXPECT_EQ(diff.new_steps.p99_ns, 1100 * kUs);
  EXPECT_DOUBLE_EQ(diff.p50_delta_pct, 10.0);
  EXPECT_DOUBLE_EQ(diff.p90_delta_pct, 10.0);
  EXPECT_DOUBLE_EQ(diff.p99_delta_pct, 10.0);
  EXPECT_TRUE(diff.regressed);
  EXPECT_FALSE(DiffTraces(StepsOf(1000), StepsOf(1100), {.max_regression_pct = 15}).regressed);
  // Top operators by the larger total: forward 5.5 ms, gemm 2.75 ms, launch gemm 10 µs.
  ASSERT_EQ(diff.operators.size(), 3u);
  EXPECT_EQ(diff.operators[0].name, "forward");
  EXPECT_FALSE(diff.operators[0].device);
  EXPECT_EQ(diff.operators[0].base_total_ns, 5000 * kUs);
  EXPECT_EQ(diff.operators[0].new_total_ns, 5500 * kUs);
  EXPECT_DOUBLE_EQ(diff.operators[0].delta_pct, 10.0);
  EXPECT_EQ(diff.operators[1].name, "gemm");
  EXPECT_TRUE(diff.operators[1].device);
  EXPECT_EQ(diff.operators[1].base_calls, 10);
  EXPECT_EQ(diff.operators[1].new_calls, 10);
  EXPECT_DOUBLE_EQ(diff.operators[2].delta_pct, 0.0);
}

TEST(DiffTest, EqualTracesDoNotRegressAndFasterIsFine) {
  const TraceDiff same = DiffTraces(StepsOf(1000), StepsOf(1000));
  EXPECT_FALSE(same.regressed);
  EXPECT_DOUBLE_EQ(same.p50_delta_pct, 0.0);
  EXPECT_FALSE(DiffTraces(StepsOf(1000), StepsOf(800)).regressed);
  // Without steps there is nothing to gate on.
  EXPECT_FALSE(DiffTraces(Trace(), StepsOf(1000)).regressed);
}

TEST(DiffTest, TopOperatorsLimit) {
  EXPECT_EQ(DiffTraces(StepsOf(1000), StepsOf(1000), {.top_operators = 1}).operators.size(), 1u);
}

// One process (pid 100) with a thread and one device (sim0) whose single launch has
// correlation id 1; the capture started at monotonic `start_us`, Unix time `wall_us`.
Trace Rank(std::string_view worker, double start_us, int64_t wall_us) {
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  b.Step(0, start_us, 100);
  b.Kernel(b.main(), start_us, 10, stream, "k", start_us + 10, 50);
  TraceMetadata& m = b.trace().mutable_metadata();
  m.worker = std::string(worker);
  m.pid = TraceBuilder::kHostPid;
  m.start_ns = static_cast<int64_t>(start_us * kUs);
  m.end_ns = m.start_ns + 100 * kUs;
  m.wall_clock_ns = wall_us * kUs;
  m.first_step = m.last_step = 0;
  m.dropped_events = 3;
  return b.Build();
}

TEST(MergeTest, TwoProcessesKeepTheirTracksAlignedByWallClock) {
  // Rank b started 2 ms (Unix time) after rank a; their monotonic clocks differ.
  const Trace a = Rank("a", 5000, 1'000'000'000);
  const Trace b = Rank("b", 100, 1'000'002'000);
  const Trace* inputs[] = {&a, &b};
  absl::StatusOr<Trace> merged = MergeTraces(inputs);
  ASSERT_TRUE(merged.ok()) << merged.status();

  ASSERT_EQ(merged->processes().size(), 4u);
  EXPECT_EQ(merged->processes()[0].pid, TraceBuilder::kHostPid);
  EXPECT_EQ(merged->processes()[1].pid, kDevicePidBase);
  EXPECT_EQ(merged->processes()[2].pid, TraceBuilder::kHostPid + 1);  // collided: remapped
  EXPECT_EQ(merged->processes()[3].pid, kDevicePidBase + 1);
  EXPECT_TRUE(merged->processes()[3].is_device);
  EXPECT_EQ(merged->processes()[1].name, "sim0");
  EXPECT_EQ(merged->processes()[3].name, "sim0 [b]");  // names stay distinguishable
  ASSERT_EQ(merged->tracks().size(), 4u);
  EXPECT_EQ(merged->tracks()[2].pid, TraceBuilder::kHostPid + 1);
  EXPECT_EQ(merged->tracks()[2].name, "main");
  EXPECT_EQ(merged->tracks()[3].pid, kDevicePidBase + 1);
  EXPECT_EQ(merged->tracks()[3].kind, TrackKind::kDeviceStream);
  EXPECT_EQ(merged->tracks()[3].name, "stream 0");
  EXPECT_EQ(merged->slices().size(), 6u);

  // b's step began at Unix time 1'000'002'000 µs, 2 ms after a's (at monotonic 5000 µs).
  const StepAnalysis steps = AnalyzeSteps(*merged);
  ASSERT_EQ(steps.steps.size(), 2u);
  EXPECT_EQ(steps.steps[0].start_ns, 5000 * kUs);
  EXPECT_EQ(steps.steps[1].start_ns, 7000 * kUs);
  EXPECT_EQ(steps.steps[1].pid, TraceBuilder::kHostPid + 1);
  // Each launch found its own device op, not the other rank's (same id in the inputs).
  ASSERT_EQ(steps.devices.size(), 2u);
  EXPECT_EQ(steps.steps[0].devices[0].launches, 1);
  EXPECT_EQ(steps.steps[0].devices[1].launches, 0);
  EXPECT_EQ(steps.steps[1].devices[0].launches, 0);
  EXPECT_EQ(steps.steps[1].devices[1].launches, 1);
  EXPECT_EQ(steps.steps[1].devices[1].compute_ns, 50 * kUs);

  const TraceMetadata& m = merged->metadata();
  EXPECT_EQ(m.start_ns, 5000 * kUs);
  EXPECT_EQ(m.end_ns, 7100 * kUs);
  EXPECT_EQ(m.wall_clock_ns, 1'000'000'000 * kUs);
  EXPECT_EQ(m.worker, "a,b");
  EXPECT_EQ(m.dropped_events, 6u);
}

TEST(MergeTest, NoInputIsAnError) { EXPECT_FALSE(MergeTraces({}).ok()); }

}  // namespace
}  // namespace scopetrace
