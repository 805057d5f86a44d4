// DeviceHub: cycle membership (warmup launches never leak in), missing and late records,
// flows and the trace conventions, clock conversion within the fit's bound, the memory
// counter, bounded bookkeeping. Devices run in virtual time, so every check is exact.

#include "src/device_hub.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "scopetrace/sim/device.h"

namespace scopetrace::internal {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

struct Rig {
  explicit Rig(int streams = 2, double drift_ppm = 120)
      : npu({.name = "npu0",
             .streams = streams,
             .tick_rate_hz = 1.6e9,
             .clock_offset_ns = 1'000'000'000,
             .drift_ppm = drift_ppm,
             .clock_jitter_ns = 200,
             .virtual_time = true,
             .keep_ground_truth = true}),
        hub({.host_clock_ns = [this] { return npu.host_now_ns(); }}) {
    hub.Add(&npu);
  }
  // Host work between launches, with the collector polling as it would every 1 ms.
  void Run(std::chrono::nanoseconds duration) {
    for (auto t = std::chrono::nanoseconds(0); t < duration; t += milliseconds(1)) {
      npu.advance_host_time(std::min<std::chrono::nanoseconds>(milliseconds(1), duration - t));
      hub.Poll();
    }
  }
  sim::Device npu;
  DeviceHub hub;
};

std::vector<uint64_t> Ids(const Trace& trace) {
  std::vector<uint64_t> ids;
  for (const Slice& s : trace.slices()) ids.push_back(s.correlation_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<uint64_t> Sorted(const absl::flat_hash_set<uint64_t>& set) {
  std::vector<uint64_t> ids(set.begin(), set.end());
  std::sort(ids.begin(), ids.end());
  return ids;
}

// A warmup step launches work, then an active step; only the active step's ops enter.
void MembershipScenario(bool begin_cycle) {
  Rig rig;
  ASSERT_TRUE(rig.hub.Start().ok());
  for (int i = 0; i < 5; ++i) rig.npu.stream(0).launch("warmup", microseconds(300));
  rig.Run(milliseconds(3));  // warmup ops complete and are delivered before the cycle
  if (begin_cycle) rig.hub.BeginCycle();
  const int64_t start = rig.npu.host_now_ns();
  // A warmup launch still running when the cycle begins must not leak in either.
  rig.npu.stream(1).launch("warmup_tail", milliseconds(2));
  absl::flat_hash_set<uint64_t> launched;
  for (int i = 0; i < 4; ++i) {
    launched.insert(rig.npu.stream(0).copy_to_device(1 << 20));
    launched.insert(rig.npu.stream(0).launch("conv", microseconds(400)));
    launched.insert(rig.npu.stream(1).launch("attn", microseconds(250)));
    rig.Run(milliseconds(1));
  }
  launched.insert(rig.npu.stream(0).copy_to_host(4096));
  const int64_t end = rig.npu.host_now_ns();
  Trace trace;
  rig.hub.CollectCycle(launched, start, end, absl::Milliseconds(5), trace);

  EXPECT_EQ(Ids(trace), Sorted(launched));
  EXPECT_EQ(trace.metadata().device_records_missing, 0u);
  EXPECT_EQ(trace.metadata().device_records_late, 0u);
  for (const Slice& s : trace.slices()) {
    EXPECT_NE(trace.str(s.name), "warmup");
    EXPECT_NE(trace.str(s.name), "warmup_tail");
    EXPECT_EQ(s.flow_in, s.correlation_id);
    EXPECT_EQ(s.flow_out, 0u);
    EXPECT_EQ(trace.str(s.category), DeviceOpKindCategory(s.op_kind));
  }

  // A second cycle after more unclaimed (wait-step) work gets only its own ops.
  rig.npu.stream(0).launch("wait_step", microseconds(100));
  rig.Run(milliseconds(2));
  if (begin_cycle) rig.hub.BeginCycle();
  absl::flat_hash_set<uint64_t> second{rig.npu.stream(1).launch("second", microseconds(100))};
  rig.npu.synchronize();
  Trace trace2;
  rig.hub.CollectCycle(second, end, rig.npu.host_now_ns(), absl::Milliseconds(5), trace2);
  EXPECT_EQ(Ids(trace2), Sorted(second));
  // Without BeginCycle the synchronize's record (an id above the cycle's) waits for the
  // next collection to be settled; with it, nothing is kept between cycles.
  EXPECT_EQ(rig.hub.pending_records(), begin_cycle ? 0u : 1u);
}

TEST(DeviceHubTest, OnlyOpsLaunchedByTheCycleEnterIt) { MembershipScenario(false); }
TEST(DeviceHubTest, OnlyOpsLaunchedByTheCycleEnterItWithBeginCycle) { MembershipScenario(true); }

TEST(DeviceHubTest, TraceFollowsTheDeviceConventions) {
  Rig rig(/*streams=*/3);
  ASSERT_TRUE(rig.hub.Start().ok());
  const int64_t start = rig.npu.host_now_ns();
  absl::flat_hash_set<uint64_t> launched{
      rig.npu.stream(2).copy_to_device(3000), rig.npu.stream(2).memset(512),
      rig.npu.stream(2).launch("gemm", microseconds(50)), rig.npu.stream(2).copy_to_host(100)};
  Trace trace;
  rig.hub.CollectCycle(launched, start, rig.npu.host_now_ns(), absl::Milliseconds(5), trace);

  ASSERT_EQ(trace.processes().size(), 1u);
  const Process& process = trace.processes()[0];
  EXPECT_EQ(process.pid, kDevicePidBase);
  EXPECT_EQ(process.name, "npu0");
  EXPECT_TRUE(process.is_device);
  int streams = 0;
  for (const Track& track : trace.tracks()) {
    EXPECT_EQ(track.pid, kDevicePidBase);
    if (track.kind == TrackKind::kDeviceStream) {
      EXPECT_EQ(track.name, "stream " + std::to_string(track.tid));
      ++streams;
    }
  }
  EXPECT_EQ(streams, 3);
  ASSERT_EQ(trace.slices().size(), 4u);
  absl::flat_hash_map<DeviceOpKind, const Slice*> by_kind;
  for (const Slice& s : trace.slices()) by_kind[s.op_kind] = &s;
  const StringId bytes = trace.find_string("bytes");
  const StringId stream = trace.find_string("stream");
  auto arg = [&](const Slice* s, StringId key) -> int64_t {
    for (const Arg& a : s->args) {
      if (a.key == key) return std::get<int64_t>(a.value);
    }
    return -1;
  };
  EXPECT_EQ(arg(by_kind[DeviceOpKind::kMemcpyH2D], bytes), 3000);
  EXPECT_EQ(arg(by_kind[DeviceOpKind::kMemset], bytes), 512);
  EXPECT_EQ(arg(by_kind[DeviceOpKind::kMemcpyD2H], bytes), 100);
  EXPECT_EQ(arg(by_kind[DeviceOpKind::kKernel], bytes), -1);
  EXPECT_EQ(arg(by_kind[DeviceOpKind::kKernel], stream), 2);
  EXPECT_EQ(trace.str(by_kind[DeviceOpKind::kKernel]->name), "gemm");
  EXPECT_EQ(trace.tracks()[by_kind[DeviceOpKind::kKernel]->track].tid, 2);
  ASSERT_EQ(trace.metadata().clock_fits.size(), 1u);
  EXPECT_EQ(trace.metadata().clock_fits[0].device, "npu0");
}

TEST(DeviceHubTest, MissingRecordsAreCountedAndLateOnesReportedInTheNextCycle) {
  Rig rig;
  ASSERT_TRUE(rig.hub.Start().ok());
  const int64_t start = rig.npu.host_now_ns();
  const uint64_t quick = rig.npu.stream(0).launch("quick", microseconds(10));
  // Still running when the cycle is collected: virtual time does not pass while waiting.
  const uint64_t slow = rig.npu.stream(1).launch("slow", milliseconds(50));
  rig.Run(milliseconds(1));
  Trace first;
  rig.hub.CollectCycle({quick, slow}, start, rig.npu.host_now_ns(), absl::Milliseconds(3), first);
  EXPECT_EQ(Ids(first), std::vector<uint64_t>{quick});
  EXPECT_EQ(first.metadata().device_records_missing, 1u);
  EXPECT_EQ(first.metadata().device_records_late, 0u);

  rig.Run(milliseconds(60));  // the slow op completes and arrives, too late
  const int64_t start2 = rig.npu.host_now_ns();
  const uint64_t next = rig.npu.stream(0).launch("next", microseconds(10));
  rig.npu.synchronize();
  Trace second;
  rig.hub.CollectCycle({next}, start2, rig.npu.host_now_ns(), absl::Milliseconds(3), second);
  EXPECT_EQ(Ids(second), std::vector<uint64_t>{next});
  EXPECT_EQ(second.metadata().device_records_late, 1u);
  EXPECT_EQ(second.metadata().device_records_missing, 0u);
}

TEST(DeviceHubTest, ConvertedTimesLieWithinTheFitBound) {
  Rig rig(/*streams=*/2, /*drift_ppm=*/-350);
  ASSERT_TRUE(rig.hub.Start().ok());
  rig.hub.BeginCycle();
  const int64_t start = rig.npu.host_now_ns();
  absl::flat_hash_set<uint64_t> launched;
  for (int i = 0; i < 3000; ++i) {  // 3 s
    launched.insert(rig.npu.stream(i % 2).launch("k", microseconds(900)));
    rig.Run(milliseconds(1));
  }
  rig.npu.synchronize();
  Trace trace;
  rig.hub.CollectCycle(launched, start, rig.npu.host_now_ns(), absl::Milliseconds(5), trace);
  ASSERT_EQ(trace.slices().size(), launched.size());
  absl::flat_hash_map<uint64_t, sim::OpTruth> truth;
  for (const sim::OpTruth& op : rig.npu.ground_truth()) truth[op.correlation_id] = op;
  const ClockFit& fit = trace.metadata().clock_fits.at(0);
  EXPECT_NEAR(fit.drift_ppm, -350, 1);
  EXPECT_GT(fit.error_bound_ns, 0);
  EXPECT_LT(fit.error_bound_ns, 2000);
  for (const Slice& s : trace.slices()) {
    const sim::OpTruth& t = truth.at(s.correlation_id);
    EXPECT_LE(std::abs(s.start_ns - t.start_ns), fit.error_bound_ns + 2) << s.correlation_id;
    EXPECT_LE(std::abs(s.end_ns() - t.end_ns), fit.error_bound_ns + 2) << s.correlation_id;
  }
}

TEST(DeviceHubTest, MemoryCounterCoversTheWindowWithItsStartingValue) {
  Rig rig;
  ASSERT_TRUE(rig.hub.Start().ok());
  absl::StatusOr<sim::DeviceMemory> weights = rig.npu.allocate(100 << 20);
  ASSERT_TRUE(weights.ok());
  rig.Run(milliseconds(30));
  const int64_t start = rig.npu.host_now_ns();
  rig.Run(milliseconds(5));
  absl::StatusOr<sim::DeviceMemory> activations = rig.npu.allocate(20 << 20);
  rig.Run(milliseconds(5));
  ASSERT_TRUE(rig.npu.free(*activations).ok());
  rig.Run(milliseconds(5));
  const int64_t end = rig.npu.host_now_ns();
  rig.Run(milliseconds(5));
  ASSERT_TRUE(rig.npu.free(*weights).ok());  // after the window: not in this cycle
  rig.Run(milliseconds(30));
  Trace trace;
  rig.hub.CollectCycle({}, start, end, absl::Milliseconds(1), trace);
  const StringId name = trace.find_string("npu0 memory");
  ASSERT_EQ(trace.tracks().back().name, "npu0 memory");
  std::vector<CounterSample> samples = trace.counters();
  std::sort(samples.begin(), samples.end(),
            [](const CounterSample& a, const CounterSample& b) { return a.ts_ns < b.ts_ns; });
  (void)name;
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].ts_ns, start);
  EXPECT_EQ(samples[0].value, 100 << 20);
  EXPECT_EQ(samples[1].value, 120 << 20);
  EXPECT_EQ(samples[2].value, 100 << 20);
  for (const CounterSample& s : samples) {
    EXPECT_GE(s.ts_ns, start);
    EXPECT_LE(s.ts_ns, end);
  }
}

// A source whose records the test writes directly.
class FakeSource : public DeviceSource {
 public:
  std::string_view name() const override { return "fake"; }
  int stream_count() const override { return 1; }
  absl::Status start() override { return absl::OkStatus(); }
  void stop() override {}
  ClockReading read_clock() override { return {now, 1e9}; }
  size_t drain_activity(std::vector<ActivityRecord>& out) override {
    const size_t n = records.size();
    out.insert(out.end(), records.begin(), records.end());
    records.clear();
    return n;
  }
  void Add(uint64_t id) {
    records.push_back(
        {.name = "op", .start_ticks = now - 10, .end_ticks = now - 5, .correlation_id = id});
  }
  int64_t now = 1'000'000'000;
  std::vector<ActivityRecord> records;
};

TEST(DeviceHubTest, UnclaimedRecordsAreBounded) {
  FakeSource source;
  DeviceHub hub({.max_pending_records = 1000, .host_clock_ns = [&source] { return source.now; }});
  hub.Add(&source);
  ASSERT_TRUE(hub.Start().ok());
  // An application that keeps launching long after its last recorded cycle.
  for (uint64_t id = 1; id <= 50'000; ++id) {
    source.Add(id);
    if (id % 100 == 0) {
      source.now += 1'000'000;
      hub.Poll();
      ASSERT_LE(hub.pending_records(), 1000u);
    }
  }
  EXPECT_GT(hub.evicted_records(), 0u);
  // The newest records survive eviction.
  source.Add(50'001);
  Trace trace;
  hub.CollectCycle({50'001, 50'000}, 0, source.now, absl::Milliseconds(1), trace);
  EXPECT_EQ(trace.slices().size(), 2u);
  EXPECT_EQ(hub.pending_records(), 0u);
}

TEST(DeviceHubTest, WithBeginCycleRecordsBetweenCyclesAreDroppedOnArrival) {
  FakeSource source;
  DeviceHub hub({.host_clock_ns = [&source] { return source.now; }});
  hub.Add(&source);
  ASSERT_TRUE(hub.Start().ok());
  hub.BeginCycle();
  source.Add(1);
  hub.Poll();
  Trace trace;
  hub.CollectCycle({1}, 0, source.now, absl::Milliseconds(1), trace);
  for (uint64_t id = 2; id < 5000; ++id) source.Add(id);  // wait steps
  hub.Poll();
  EXPECT_EQ(hub.pending_records(), 0u);
  hub.BeginCycle();
  source.Add(5000);
  hub.Poll();
  EXPECT_EQ(hub.pending_records(), 1u);
}

}  // namespace
}  // namespace scopetrace::internal
