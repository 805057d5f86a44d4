// Clock synchronization: the least-squares fit on its own, then the end-to-end
// check: a simulated device with a 3 s offset, 200 ppm drift and read jitter, run for a
// minute of device time in virtual time, mapped onto the host timeline by DeviceHub.

#include "src/clock_sync.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "scopetrace/sim/device.h"
#include "src/device_hub.h"

namespace scopetrace::internal {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// A device clock at 1.5 GHz, 200 ppm fast, with ticks around 1e13.
int64_t TicksAt(double host_ns) {
  return static_cast<int64_t>(std::floor((host_ns * (1 + 200e-6) + 3e9) * 1.5 + 1.3e13));
}

// A 1 GHz clock 50 ppm slow.
int64_t SlowTicksAt(int64_t host_ns) {
  return 10'000'000'000'000 + static_cast<int64_t>(static_cast<double>(host_ns) * (1 - 50e-6));
}

TEST(ClockSyncTest, RecoversLineExactlyWithLargeValues) {
  ClockSync sync("dev", 1.5e9);
  const int64_t base = 5'000'000'000'000;  // host ns, ~1.4 h of uptime
  for (int i = 0; i < 40; ++i) {
    const int64_t host = base + i * 25'000'000LL;
    ASSERT_TRUE(sync.AddPair({host - 100, TicksAt(static_cast<double>(host)), host + 100}));
  }
  const ClockFit& fit = sync.fit();
  EXPECT_NEAR(fit.drift_ppm, 200.0, 1e-3);
  EXPECT_EQ(fit.pairs, 40);
  EXPECT_NEAR(fit.max_half_bracket_ns, 100.0, 1e-9);
  EXPECT_LT(fit.max_residual_ns, 2.0);  // tick quantization only
  EXPECT_NEAR(fit.error_bound_ns, fit.max_residual_ns + fit.max_half_bracket_ns, 1e-9);
  for (int64_t host = base; host < base + 1'000'000'000; host += 7'777'777) {
    EXPECT_NEAR(static_cast<double>(sync.ToHostNs(TicksAt(static_cast<double>(host)))),
                static_cast<double>(host), 2.0);
  }
}

TEST(ClockSyncTest, WindowSlidesAndFollowsAChangedDrift) {
  ClockSyncOptions options;
  options.window_pairs = 8;
  ClockSync sync("dev", 1e9, options);
  // 100 ppm slow for 20 pairs, then 100 ppm fast: the window must forget the first part.
  double ticks = 1e13;
  int64_t host = 1'000'000'000'000;
  for (int i = 0; i < 40; ++i) {
    const double ppm = i < 20 ? -100 : 100;
    sync.AddPair({host, static_cast<int64_t>(ticks), host});
    host += 10'000'000;
    ticks += 10'000'000 * (1 + ppm * 1e-6);
  }
  EXPECT_NEAR(sync.fit().drift_ppm, 100.0, 0.01);
  EXPECT_EQ(sync.fit().pairs, 40);
}

TEST(ClockSyncTest, ErrorBoundCoversNoisyPairs) {
  ClockSync sync("dev", 1e9);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> half_bracket(50, 400);
  std::uniform_real_distribution<double> where(0, 1);
  const int64_t base = 2'000'000'000'000;
  for (int i = 0; i < 60; ++i) {
    const int64_t read_at = base + i * 20'000'000LL;
    const int64_t half = half_bracket(rng);
    const int64_t before = read_at - static_cast<int64_t>(where(rng) * 2 * half);
    sync.AddPair({before, SlowTicksAt(read_at), before + 2 * half});
  }
  const ClockFit& fit = sync.fit();
  EXPECT_LE(fit.max_half_bracket_ns, 400);
  EXPECT_GT(fit.max_residual_ns, 0);
  // Every true read instant maps within the bound.
  for (int i = 20; i < 60; ++i) {
    const int64_t read_at = base + i * 20'000'000LL;
    const int64_t ticks = SlowTicksAt(read_at);
    EXPECT_LE(std::abs(sync.ToHostNs(ticks) - read_at), fit.error_bound_ns + 2) << i;
  }
}

TEST(ClockSyncTest, RejectsPairsWithAWideBracket) {
  ClockSync sync("dev", 1e9);
  for (int i = 0; i < 10; ++i) {
    const int64_t host = 1'000'000'000 + i * 1'000'000LL;
    ASSERT_TRUE(sync.AddPair({host - 100, host, host + 100}));
  }
  // Preempted between its host reads: 1 ms wide, and its midpoint 500 µs off.
  EXPECT_FALSE(sync.AddPair({1'020'000'000, 1'020'000'000, 1'021'000'000}));
  EXPECT_EQ(sync.rejected_pairs(), 1u);
  EXPECT_EQ(sync.ToHostNs(1'030'000'000), 1'030'000'000);
}

TEST(ClockSyncTest, NominalSlopeUntilTheWindowSpansEnoughTime) {
  ClockSync sync("dev", 2e9);
  // A burst of reads 1 µs apart cannot tell drift from noise.
  sync.AddPair({1000, 2000, 1000});
  sync.AddPair({2000, 4100, 2000});
  sync.AddPair({3000, 5900, 3000});
  EXPECT_DOUBLE_EQ(sync.fit().slope_ns_per_tick, 0.5);
}

// The test. Device: offset 3 s, drift 200 ppm, ±300 ns read jitter, 1.2 GHz.
TEST(ClockSyncTest, SimDeviceMinuteOfDeviceTimeMapsWithinOneMicrosecond) {
  sim::Device npu({.name = "sim0",
                   .streams = 2,
                   .tick_rate_hz = 1.2e9,
                   .clock_offset_ns = 3'000'000'000,
                   .drift_ppm = 200,
                   .clock_jitter_ns = 300,
                   .virtual_time = true,
                   .keep_ground_truth = true});
  DeviceHub hub({.host_clock_ns = [&npu] { return npu.host_now_ns(); }});
  hub.Add(&npu);
  ASSERT_TRUE(hub.Start().ok());
  // What a profiler without drift correction does: the offset from the first pairs, the
  // nominal rate from then on.
  ClockSync offset_only("sim0", 1.2e9, {.model = ClockSyncModel::kOffsetOnly});
  for (int i = 0; i < 4; ++i) {
    const int64_t before = npu.host_now_ns();
    const int64_t ticks = npu.read_clock().ticks;
    offset_only.AddPair({before, ticks, npu.host_now_ns()});
  }

  hub.BeginCycle();
  const int64_t start_ns = npu.host_now_ns();
  absl::flat_hash_set<uint64_t> launched;
  const auto wall_start = std::chrono::steady_clock::now();
  while (npu.host_now_ns() - start_ns < 60'000'000'000) {
    launched.insert(npu.stream(0).launch("gemm", microseconds(700)));
    launched.insert(npu.stream(1).copy_to_device(1 << 20));
    npu.advance_host_time(milliseconds(1));
    hub.Poll();
  }
  npu.synchronize();
  const int64_t end_ns = npu.host_now_ns();
  Trace trace;
  hub.CollectCycle(launched, start_ns, end_ns, absl::Milliseconds(10), trace);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  EXPECT_LT(wall_s, 20.0) << "virtual time must not sleep";

  absl::flat_hash_map<uint64_t, sim::OpTruth> truth;
  for (const sim::OpTruth& op : npu.ground_truth()) truth[op.correlation_id] = op;
  ASSERT_EQ(trace.slices().size(), launched.size());
  EXPECT_EQ(trace.metadata().device_records_missing, 0u);
  int64_t worst_fit = 0;
  int64_t worst_offset_only = 0;
  int64_t offset_only_at_end = 0;
  for (const Slice& slice : trace.slices()) {
    const sim::OpTruth& t = truth.at(slice.correlation_id);
    worst_fit = std::max(
        {worst_fit, std::abs(slice.start_ns - t.start_ns), std::abs(slice.end_ns() - t.end_ns)});
    const int64_t naive = offset_only.ToHostNs(npu.true_ticks(t.start_ns));
    worst_offset_only = std::max(worst_offset_only, std::abs(naive - t.start_ns));
    if (t.end_ns >= end_ns - 1'000'000) offset_only_at_end = std::abs(naive - t.start_ns);
  }
  const ClockFit& fit = trace.metadata().clock_fits.at(0);
  std::printf(
      "60 s, offset 3 s, drift 200 ppm, jitter 300 ns: worst error %lld ns with the fit "
      "(bound %.0f ns, %lld pairs, drift %.3f ppm); %lld ns offset-only (%lld ns at "
      "the end); %.2f s wall\n",
      static_cast<long long>(worst_fit), fit.error_bound_ns, static_cast<long long>(fit.pairs),
      fit.drift_ppm, static_cast<long long>(worst_offset_only),
      static_cast<long long>(offset_only_at_end), wall_s);
  EXPECT_LE(worst_fit, 1000);
  EXPECT_NEAR(fit.drift_ppm, 200, 0.5);
  EXPECT_GT(fit.pairs, 2000) << "the fit is refreshed during the session";
  // 200 ppm over 60 s is 12 ms: without drift correction the trace would be off by that.
  EXPECT_GT(offset_only_at_end, 100'000);
  EXPECT_GT(worst_offset_only, 10'000'000);
}

}  // namespace
}  // namespace scopetrace::internal
