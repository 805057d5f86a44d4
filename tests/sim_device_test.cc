// The simulated accelerator: stream order, concurrency, blocking copies, events, batched
// delivery, virtual time, memory, its clock. Most tests run in virtual time (exact and
// instant); the real-time ones allow for a loaded 2-core machine.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "scopetrace/sim/device.h"

namespace scopetrace::sim {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

DeviceOptions Virtual(int streams = 1) {
  return {.name = "sim0", .streams = streams, .virtual_time = true, .keep_ground_truth = true};
}

absl::flat_hash_map<uint64_t, OpTruth> TruthById(const Device& device) {
  absl::flat_hash_map<uint64_t, OpTruth> out;
  for (const OpTruth& op : device.ground_truth()) out[op.correlation_id] = op;
  return out;
}

std::vector<ActivityRecord> DrainAll(Device& device) {
  device.flush();
  std::vector<ActivityRecord> records;
  device.drain_activity(records);
  return records;
}

TEST(SimDeviceTest, DesignDocumentUsageCompiles) {
  Device npu({.name = "sim0", .streams = 2, .drift_ppm = 50, .virtual_time = true});
  Stream& s = npu.stream(0);
  s.copy_to_device(1 << 20);
  s.launch("conv2d", microseconds(120));
  s.copy_to_host(1 << 16);
  npu.synchronize();
  EXPECT_EQ(npu.stream_count(), 2);
  EXPECT_EQ(npu.name(), "sim0");
}

TEST(SimDeviceTest, StreamKeepsSubmissionOrder) {
  Device npu(Virtual());
  ASSERT_TRUE(npu.start().ok());
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(npu.stream(0).launch("k", microseconds(50 + 37 * (i % 5))));
    if (i % 3 == 0) ids.push_back(npu.stream(0).copy_to_device(4096));
  }
  npu.synchronize();
  const std::vector<ActivityRecord> records = DrainAll(npu);
  ASSERT_EQ(records.size(), ids.size() + 1);  // + the synchronize
  absl::flat_hash_map<uint64_t, ActivityRecord> by_id;
  for (const ActivityRecord& r : records) by_id[r.correlation_id] = r;
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_GE(by_id[ids[i]].start_ticks, by_id[ids[i - 1]].end_ticks) << i;
  }
  EXPECT_TRUE(std::all_of(records.begin(), records.end(),
                          [](const ActivityRecord& r) { return r.stream == 0; }));
}

TEST(SimDeviceTest, TwoStreamsOverlapWhenWorkAllows) {
  Device npu(Virtual(2));
  const uint64_t a = npu.stream(0).launch("a", milliseconds(10));
  const uint64_t b = npu.stream(1).launch("b", milliseconds(10));
  npu.synchronize();
  auto truth = TruthById(npu);
  EXPECT_LT(truth[b].start_ns, truth[a].end_ns);
  EXPECT_LT(truth[a].start_ns, truth[b].end_ns);
  // Launched back to back, both finish after ~10 ms, not 20.
  EXPECT_LT(std::max(truth[a].end_ns, truth[b].end_ns) - truth[a].start_ns, 11'000'000);
}

TEST(SimDeviceTest, RealTimeStreamsOverlapAndRunConcurrentlyWithTheHost) {
  Device npu({.streams = 2, .keep_ground_truth = true});
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t a = npu.stream(0).launch("a", milliseconds(30));
  const uint64_t b = npu.stream(1).launch("b", milliseconds(30));
  const auto launched = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(launched, milliseconds(10)) << "launches are asynchronous";
  npu.synchronize();
  const auto total = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(total, milliseconds(30));
  EXPECT_LT(total, milliseconds(55)) << "the streams ran concurrently";
  auto truth = TruthById(npu);
  EXPECT_LT(truth[b].start_ns, truth[a].end_ns);
}

TEST(SimDeviceTest, CopyToHostWaitsForEarlierKernels) {
  Device npu({.streams = 1,
              .launch_cost = microseconds(5),
              .virtual_time = true,
              .keep_ground_truth = true});
  for (int i = 0; i < 3; ++i) npu.stream(0).launch("long", milliseconds(20));
  const int64_t before = npu.host_now_ns();
  const uint64_t copy = npu.stream(0).copy_to_host(1 << 20);
  const int64_t blocked = npu.host_now_ns() - before;
  const OpTruth d2h = TruthById(npu)[copy];
  // 2 µs latency + 1 MiB at 12 GB/s ≈ 89 µs of copy; the host waited ~60 ms.
  EXPECT_NEAR(static_cast<double>(d2h.end_ns - d2h.start_ns), 89'381, 10);
  EXPECT_GE(blocked, 60'000'000 - 3 * 5'000);
  EXPECT_LE(blocked, 60'000'000 + 100'000);
  EXPECT_EQ(npu.host_now_ns(), d2h.end_ns);
}

TEST(SimDeviceTest, RealTimeCopyToHostBlocksForTheRemainingKernelTime) {
  Device npu({.keep_ground_truth = true});
  for (int i = 0; i < 3; ++i) npu.stream(0).launch("long", milliseconds(15));
  const auto t0 = std::chrono::steady_clock::now();
  npu.stream(0).copy_to_host(1 << 16);
  const auto blocked = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(blocked, milliseconds(44));
  EXPECT_LT(blocked, milliseconds(80));
}

TEST(SimDeviceTest, EventsOrderWorkAcrossStreams) {
  Device npu(Virtual(2));
  const uint64_t producer = npu.stream(0).launch("produce", milliseconds(5));
  Event ready = npu.stream(0).record_event();
  EXPECT_FALSE(ready.query());
  npu.stream(1).wait_event(ready);
  const uint64_t consumer = npu.stream(1).launch("consume", milliseconds(1));
  auto truth = TruthById(npu);
  EXPECT_GE(truth[consumer].start_ns, truth[producer].end_ns);
  ready.synchronize();
  EXPECT_TRUE(ready.query());
  EXPECT_EQ(npu.host_now_ns(), truth[producer].end_ns);
}

TEST(SimDeviceTest, RecordsArriveInBatchesAfterTheFact) {
  Device npu({.virtual_time = true,
              .activity_batch_records = 8,
              .activity_flush_interval = milliseconds(2),
              .keep_ground_truth = true});
  ASSERT_TRUE(npu.start().ok());
  for (int i = 0; i < 20; ++i) npu.stream(0).launch("k", microseconds(100));
  auto truth = TruthById(npu);
  std::vector<size_t> batches;
  std::vector<ActivityRecord> records;
  for (int step = 0; step < 200; ++step) {  // 10 ms in 50 µs steps
    const size_t before = records.size();
    if (npu.drain_activity(records) > 0) {
      batches.push_back(records.size() - before);
      for (size_t i = before; i < records.size(); ++i) {
        EXPECT_LE(npu.true_host_ns(records[i].end_ticks), npu.host_now_ns())
            << "delivered before it ended";
      }
    }
    npu.advance_host_time(microseconds(50));
  }
  // Two full batches as they fill, then the rest once its first record is 2 ms old.
  EXPECT_EQ(batches, (std::vector<size_t>{8, 8, 4}));
  ASSERT_EQ(records.size(), 20u);
  for (const ActivityRecord& r : records) {
    const OpTruth& t = truth[r.correlation_id];
    EXPECT_NEAR(static_cast<double>(npu.true_host_ns(r.start_ticks)),
                static_cast<double>(t.start_ns), 1.0);
    EXPECT_EQ(r.name, "k");
    EXPECT_EQ(r.kind, DeviceOpKind::kKernel);
  }
}

TEST(SimDeviceTest, RealTimeDriverReleasesBatchesOnItsOwnThread) {
  Device npu({.activity_batch_records = 1000, .activity_flush_interval = milliseconds(3)});
  ASSERT_TRUE(npu.start().ok());
  for (int i = 0; i < 10; ++i) npu.stream(0).launch("k", microseconds(200));
  std::vector<ActivityRecord> records;
  int non_empty = 0;
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(500);
  while (records.size() < 10 && std::chrono::steady_clock::now() < deadline) {
    if (npu.drain_activity(records) > 0) ++non_empty;  // never flushed: the driver released
    std::this_thread::sleep_for(microseconds(200));
  }
  EXPECT_EQ(records.size(), 10u);
  EXPECT_LE(non_empty, 3) << "records come in batches, not one by one";
  npu.stop();
}

TEST(SimDeviceTest, NothingIsRecordedBeforeStartOrAfterStop) {
  Device npu(Virtual());
  npu.stream(0).launch("before", microseconds(10));
  ASSERT_TRUE(npu.start().ok());
  EXPECT_FALSE(npu.start().ok());
  npu.stream(0).launch("during", microseconds(10));
  npu.synchronize();
  npu.stop();
  npu.stream(0).launch("after", microseconds(10));
  npu.synchronize();
  std::vector<ActivityRecord> records = DrainAll(npu);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].name, "during");
  EXPECT_EQ(records[1].kind, DeviceOpKind::kSync);
}

TEST(SimDeviceTest, SynchronizeIsRecordedWhereTheLastStreamFinished) {
  Device npu(Virtual(2));
  ASSERT_TRUE(npu.start().ok());
  npu.stream(0).launch("short", milliseconds(1));
  const uint64_t long_id = npu.stream(1).launch("long", milliseconds(3));
  npu.synchronize();
  std::vector<ActivityRecord> records = DrainAll(npu);
  ASSERT_EQ(records.size(), 3u);
  const ActivityRecord& sync = records.back();
  EXPECT_EQ(sync.kind, DeviceOpKind::kSync);
  EXPECT_EQ(sync.stream, 1u);
  EXPECT_EQ(sync.start_ticks, sync.end_ticks);
  for (const ActivityRecord& r : records) {
    if (r.correlation_id == long_id) EXPECT_EQ(r.end_ticks, sync.start_ticks);
  }
}

TEST(SimDeviceTest, VirtualTimeRunsAMinuteOfTimelineFast) {
  Device npu({.streams = 2, .virtual_time = true});
  ASSERT_TRUE(npu.start().ok());
  const auto wall0 = std::chrono::steady_clock::now();
  const int64_t t0 = npu.host_now_ns();
  size_t delivered = 0;
  std::vector<ActivityRecord> records;
  while (npu.host_now_ns() - t0 < 60'000'000'000) {
    npu.stream(0).launch("step", milliseconds(4));
    npu.stream(1).copy_to_device(8 << 20);
    npu.stream(0).copy_to_host(1 << 20);
    records.clear();
    delivered += npu.drain_activity(records);
  }
  delivered += DrainAll(npu).size();
  const auto wall = std::chrono::steady_clock::now() - wall0;
  EXPECT_LT(wall, std::chrono::seconds(5));
  EXPECT_GT(delivered, 40'000u);
  EXPECT_EQ(npu.dropped_records(), 0u);
}

TEST(SimDeviceTest, MemorySamplesFollowAllocations) {
  Device npu({.virtual_time = true, .memory_capacity_bytes = 1 << 30});
  absl::StatusOr<DeviceMemory> early = npu.allocate(1000);
  ASSERT_TRUE(early.ok());
  ASSERT_TRUE(npu.start().ok());
  absl::StatusOr<DeviceMemory> a = npu.allocate(4 << 20);
  npu.advance_host_time(microseconds(10));
  absl::StatusOr<DeviceMemory> b = npu.allocate(8 << 20);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->address, b->address);
  EXPECT_TRUE(npu.free(*a).ok());
  EXPECT_EQ(npu.free(*a).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(npu.allocate(2u << 30).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(npu.memory_in_use(), 1000 + (8 << 20));
  std::vector<MemorySample> samples;
  ASSERT_EQ(npu.drain_memory(samples), 4u);
  EXPECT_EQ(samples[0].bytes_in_use, 1000);  // the value in use at start()
  EXPECT_EQ(samples[1].bytes_in_use, 1000 + (4 << 20));
  EXPECT_EQ(samples[2].bytes_in_use, 1000 + (12 << 20));
  EXPECT_EQ(samples[3].bytes_in_use, 1000 + (8 << 20));
  EXPECT_GT(samples[2].ticks, samples[1].ticks);
  EXPECT_EQ(npu.drain_memory(samples), 0u);
}

TEST(SimDeviceTest, ClockFollowsTheModelWithinTheJitter) {
  Device npu({.tick_rate_hz = 2.5e9,
              .clock_offset_ns = -1'500'000'000,
              .drift_ppm = -80,
              .clock_jitter_ns = 250,
              .virtual_time = true,
              .clock_read_cost = std::chrono::nanoseconds(400)});
  for (int i = 0; i < 1000; ++i) {
    const int64_t before = npu.host_now_ns();
    const ClockReading reading = npu.read_clock();
    const int64_t after = npu.host_now_ns();
    EXPECT_EQ(after - before, 400);
    EXPECT_EQ(reading.tick_rate_hz, 2.5e9);
    const int64_t at = npu.true_host_ns(reading.ticks);
    EXPECT_GE(at, before - 251);
    EXPECT_LE(at, after + 251);
    npu.advance_host_time(milliseconds(3));
  }
  const int64_t t = 7'000'000'000'000;
  EXPECT_NEAR(static_cast<double>(npu.true_host_ns(npu.true_ticks(t))), static_cast<double>(t),
              1.0);
}

TEST(SimDeviceTest, ManyHostThreadsShareTheDevice) {
  Device npu({.streams = 4, .launch_cost = std::chrono::nanoseconds(0)});
  ASSERT_TRUE(npu.start().ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&npu, t] {
      for (int i = 0; i < 200; ++i) {
        npu.stream(t).launch("k", microseconds(5));
        if (i % 50 == 0) npu.stream(t).synchronize();
      }
    });
  }
  std::vector<ActivityRecord> records;
  for (auto& thread : threads) thread.join();
  npu.synchronize();
  npu.flush();
  npu.drain_activity(records);
  npu.stop();
  EXPECT_EQ(records.size(), 4u * (200 + 4) + 1);
}

}  // namespace
}  // namespace scopetrace::sim
