// The cost of one sim::Stream::launch with the profiler recording against not recording,
// in the same binary. launch_cost = 0 and zero-length kernels, so only our overhead
// shows: the host slice ("launch <name>" + correlation id into the thread's ring) and
// the device's activity record. Target: recording adds <= 50 ns per launch.
//
//   build/launch_benchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only
//
// Recording runs a schedule of back-to-back active steps, one step() per 65536 launches
// (its cost is amortized into ns/launch; each step hands a cycle to a no-op
// on_trace_ready), so memory stays flat however long the benchmark runs. Compare CPU
// times: on a loaded machine wall time includes other processes.

#include <benchmark/benchmark.h>

#include <chrono>

#include "scopetrace/scopetrace.h"
#include "scopetrace/sim/device.h"

namespace {

// Launches per step (and per recorded cycle). Large, so the collector keeps up: this
// loop launches far faster than any real application.
constexpr int kLaunchesPerStep = 1 << 16;

scopetrace::sim::DeviceOptions BenchDevice() {
  return {.name = "bench", .streams = 1, .launch_cost = std::chrono::nanoseconds(0)};
}

void BM_LaunchNotRecording(benchmark::State& state) {
  scopetrace::sim::Device npu(BenchDevice());
  scopetrace::sim::Stream& stream = npu.stream(0);
  for (auto _ : state) {
    benchmark::DoNotOptimize(stream.launch("conv2d", std::chrono::nanoseconds(0)));
  }
  state.counters["ns/launch"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_LaunchNotRecording);

void BM_LaunchRecording(benchmark::State& state) {
  scopetrace::sim::Device npu(BenchDevice());
  scopetrace::Profiler profiler({
      .schedule = scopetrace::Schedule{.active = 1},
      .on_trace_ready = [](const scopetrace::Trace&) {},
  });
  profiler.add_device(npu);
  if (absl::Status s = profiler.start(); !s.ok()) {
    state.SkipWithError(std::string(s.message()).c_str());
    return;
  }
  // Until the profiler starts its devices itself, record device activity here, so the
  // measurement includes the activity record a recorded launch costs.
  const bool started_here = npu.start().ok();
  scopetrace::sim::Stream& stream = npu.stream(0);
  int in_step = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(stream.launch("conv2d", std::chrono::nanoseconds(0)));
    if (++in_step == kLaunchesPerStep) {
      in_step = 0;
      profiler.step();
    }
  }
  profiler.stop();
  if (started_here) npu.stop();
  state.counters["ns/launch"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(started_here ? "device started by the benchmark" : "device started by profiler");
}
BENCHMARK(BM_LaunchRecording);

}  // namespace

BENCHMARK_MAIN();
