// The simulated device under the real Profiler, end to end: exact device ops and flows
// per cycle with warmup steps that launch work, causality and stream order, the copy
// trap in a written trace.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "scopetrace/scopetrace.h"
#include "scopetrace/sim/device.h"

namespace scopetrace {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// Collects every cycle handed over.
struct Sink {
  std::mutex mu;
  std::vector<std::unique_ptr<Trace>> traces;
  std::function<void(const Trace&)> callback() {
    return [this](const Trace& trace) {
      std::lock_guard lock(mu);
      traces.push_back(std::make_unique<Trace>(trace));
    };
  }
};

bool IsDeviceSlice(const Trace& trace, const Slice& s) {
  return trace.tracks()[s.track].kind == TrackKind::kDeviceStream;
}

// One step of a small "model": H2D, two kernels on two streams, D2H.
void RunStep(sim::Device& npu) {
  npu.stream(0).copy_to_device(256 << 10);
  npu.stream(0).launch("conv", microseconds(300));
  npu.stream(1).launch("attn", microseconds(200));
  npu.stream(0).copy_to_host(64 << 10);
  npu.synchronize();
}

TEST(DeviceProfilerTest, ExactDeviceOpsAndFlowsPerCycleWithWarmupLaunches) {
  sim::Device npu({.name = "sim0", .streams = 2, .drift_ppm = 50});
  Sink sink;
  Profiler profiler({.schedule = Schedule{.wait = 1, .warmup = 2, .active = 3, .repeat = 2},
                     .on_trace_ready = sink.callback()});
  profiler.add_device(npu);
  ASSERT_TRUE(profiler.start().ok());
  for (int step = 0; step < 14; ++step) {
    RunStep(npu);
    profiler.step();
  }
  profiler.stop();
  ASSERT_EQ(sink.traces.size(), 2u);
  for (const auto& trace : sink.traces) {
    // 3 recorded steps x (H2D, 2 kernels, D2H, sync) = 15 device ops, each with its flow.
    std::vector<uint64_t> launches, ops;
    for (const Slice& s : trace->slices()) {
      if (IsDeviceSlice(*trace, s)) {
        ops.push_back(s.flow_in);
        EXPECT_EQ(s.correlation_id, s.flow_in);
      } else if (s.flow_out != 0) {
        launches.push_back(s.flow_out);
      }
    }
    std::sort(launches.begin(), launches.end());
    std::sort(ops.begin(), ops.end());
    EXPECT_EQ(ops.size(), 15u);
    EXPECT_EQ(launches, ops) << "every launch has its device op and vice versa";
    EXPECT_EQ(trace->metadata().device_records_missing, 0u);
    ASSERT_EQ(trace->metadata().clock_fits.size(), 1u);
    EXPECT_LT(trace->metadata().clock_fits[0].error_bound_ns, 50'000);
    for (const Process& p : trace->processes()) {
      if (p.is_device) EXPECT_EQ(p.name, "sim0");
    }
  }
}

TEST(DeviceProfilerTest, DeviceOpsStartAfterTheirLaunchAndKeepStreamOrder) {
  sim::Device npu({.name = "sim0", .streams = 2, .drift_ppm = -120, .clock_jitter_ns = 100});
  Sink sink;
  Profiler profiler({.on_trace_ready = sink.callback()});
  profiler.add_device(npu);
  ASSERT_TRUE(profiler.start().ok());
  for (int step = 0; step < 20; ++step) {
    npu.stream(0).launch("a", microseconds(500));
    npu.stream(1).launch("b", microseconds(500));
    if (step % 5 == 4) npu.synchronize();
  }
  npu.synchronize();
  profiler.stop();
  ASSERT_EQ(sink.traces.size(), 1u);
  const Trace& trace = *sink.traces[0];
  absl::flat_hash_map<uint64_t, const Slice*> launch_by_id;
  std::vector<const Slice*> device_ops;
  for (const Slice& s : trace.slices()) {
    if (IsDeviceSlice(trace, s)) {
      device_ops.push_back(&s);
    } else if (s.flow_out != 0) {
      launch_by_id[s.flow_out] = &s;
    }
  }
  ASSERT_EQ(device_ops.size(), 40u + 5u);
  absl::flat_hash_map<TrackId, std::vector<const Slice*>> by_stream;
  for (const Slice* op : device_ops) {
    const Slice* launch = launch_by_id.at(op->correlation_id);
    EXPECT_GE(op->start_ns, launch->start_ns) << trace.str(op->name);
    by_stream[op->track].push_back(op);
  }
  bool overlap = false;
  for (auto& [track, ops] : by_stream) {
    // Slices are sorted by start; in-order execution means ids increase and ops never
    // overlap on one stream.
    for (size_t i = 1; i < ops.size(); ++i) {
      EXPECT_GT(ops[i]->correlation_id, ops[i - 1]->correlation_id);
      EXPECT_GE(ops[i]->start_ns, ops[i - 1]->end_ns() - 1000);
    }
  }
  for (const Slice* a : by_stream.begin()->second) {
    for (auto it = std::next(by_stream.begin()); it != by_stream.end(); ++it) {
      for (const Slice* b : it->second) {
        overlap |= a->op_kind == DeviceOpKind::kKernel && b->op_kind == DeviceOpKind::kKernel &&
                   a->start_ns < b->end_ns() && b->start_ns < a->end_ns();
      }
    }
  }
  EXPECT_TRUE(overlap) << "two streams run concurrently";
}

TEST(DeviceProfilerTest, CopyTrapShowsInTheWrittenTrace) {
  sim::Device npu({.name = "sim0", .streams = 1});
  Sink sink;
  Profiler profiler({.on_trace_ready = sink.callback()});
  profiler.add_device(npu);
  ASSERT_TRUE(profiler.start().ok());
  for (int i = 0; i < 4; ++i) npu.stream(0).launch("big_kernel", milliseconds(10));
  npu.stream(0).copy_to_host(1 << 20);  // the host "times the copy": it waits ~40 ms
  profiler.stop();
  ASSERT_EQ(sink.traces.size(), 1u);

  const std::string path =
      (std::filesystem::temp_directory_path() / "device_profiler_test.trace.json").string();
  ASSERT_TRUE(sink.traces[0]->Write(path, Format::kChromeJson).ok());
  absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  std::remove(path.c_str());
  const Slice* host_copy = nullptr;
  const Slice* device_copy = nullptr;
  for (const Slice& s : read->slices()) {
    if (read->str(s.name) == "copy_to_host") host_copy = &s;
    if (s.op_kind == DeviceOpKind::kMemcpyD2H) device_copy = &s;
  }
  ASSERT_NE(host_copy, nullptr);
  ASSERT_NE(device_copy, nullptr);
  EXPECT_EQ(host_copy->correlation_id, device_copy->correlation_id);
  EXPECT_GT(host_copy->dur_ns, 30'000'000);
  EXPECT_LT(device_copy->dur_ns, 1'000'000);  // ~90 µs at 12 GB/s
  EXPECT_GT(host_copy->dur_ns, 100 * device_copy->dur_ns);
}

}  // namespace
}  // namespace scopetrace
