// Latency baseline: P50 / P90 / P99 step latency and throughput for batch sizes 1 to 32,
// measured by the profiler itself, and the batch size where throughput stops growing.
//
//   latency_baseline [--steps N] [--quick]
//
// Each batch size gets its own profiler session whose schedule warms up before it
// records, so first-iteration effects (allocation, caches, clock calibration) stay out
// of the numbers. The statistics come from the recorded Trace, handed to on_trace_ready,
// through scopetrace::AnalyzeSteps: the same numbers `scopetrace steps` prints.

#include <fmt/format.h>
#include <scopetrace/analysis.h>
#include <scopetrace/scopetrace.h>
#include <scopetrace/sim/device.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono_literals;

// The assumed model: 20 kernels. Each keeps the device's compute units busy for 4 µs per
// image but never runs shorter than 32 µs (below 8 images the units are partly idle), so
// batching is free up to 8 images and costs linearly beyond.
constexpr int kLayers = 20;
constexpr auto kPerImage = 4us;
constexpr auto kMinKernel = 32us;
constexpr uint64_t kImageBytes = 3 * 224 * 224 * 4;
constexpr uint64_t kResultBytes = 1000 * 4;

// Throughput that grows by less than this from one batch size to the next has stopped
// growing.
constexpr double kMinGrowth = 0.10;

// One inference step of `batch` images.
void Infer(scopetrace::sim::Stream& stream, int batch) {
  SCOPETRACE_SCOPE("infer", "batch", batch);
  stream.copy_to_device(kImageBytes * batch);
  const auto kernel = std::max<std::chrono::nanoseconds>(kMinKernel, kPerImage * batch);
  for (int layer = 0; layer < kLayers; ++layer) stream.launch("layer", kernel);
  stream.copy_to_host(kResultBytes * batch);  // blocks: the step ends with its results
}

// Profiles `steps` steps at `batch` after two warmup steps; returns their statistics.
scopetrace::StepAnalysis Measure(int batch, int steps) {
  scopetrace::sim::Device npu({.name = "npu0"});
  std::mutex mu;
  scopetrace::StepAnalysis result;
  scopetrace::Profiler profiler({
      .schedule = scopetrace::Schedule{.warmup = 2, .active = steps, .repeat = 1},
      // No files: the trace is analysed in memory and thrown away.
      .on_trace_ready =
          [&](const scopetrace::Trace& trace) {
            std::lock_guard lock(mu);
            result = scopetrace::AnalyzeSteps(trace);
          },
  });
  profiler.add_device(npu);
  if (absl::Status started = profiler.start(); !started.ok()) {
    fmt::print(stderr, "latency_baseline: {}\n", started.ToString());
    return result;
  }
  for (int step = 0; step < steps + 2; ++step) {
    Infer(npu.stream(0), batch);
    profiler.step();
  }
  profiler.stop();
  std::lock_guard lock(mu);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 50;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      steps = 10;
    } else if (arg == "--steps" && i + 1 < argc &&
               std::from_chars(argv[i + 1], argv[i + 1] + std::strlen(argv[i + 1]), steps).ec ==
                   std::errc()) {
      ++i;
    } else {
      fmt::print(stderr, "usage: latency_baseline [--steps N] [--quick]\n");
      return 2;
    }
  }
  if (steps < 1) steps = 1;

  fmt::print("{:>5}  {:>10}  {:>10}  {:>10}  {:>14}\n", "batch", "P50", "P90", "P99", "images/s");
  double previous_throughput = 0;
  int previous_batch = 0;
  int knee = 0;
  for (int batch = 1; batch <= 32; batch *= 2) {
    const scopetrace::StepAnalysis analysis = Measure(batch, steps);
    if (analysis.steps.empty()) {
      fmt::print(stderr, "latency_baseline: no steps recorded at batch {}\n", batch);
      return 1;
    }
    const scopetrace::DurationStats& wall = analysis.wall;
    const double throughput = batch * analysis.steps_per_second;
    fmt::print("{:>5}  {:>10}  {:>10}  {:>10}  {:>14.0f}\n", batch,
               scopetrace::FormatDuration(wall.p50_ns), scopetrace::FormatDuration(wall.p90_ns),
               scopetrace::FormatDuration(wall.p99_ns), throughput);
    if (knee == 0 && previous_batch > 0 && throughput < previous_throughput * (1 + kMinGrowth)) {
      knee = previous_batch;
    }
    previous_throughput = throughput;
    previous_batch = batch;
  }
  if (knee > 0) {
    fmt::print("knee: throughput stops growing at batch {} (batch {} adds under {:.0f} %)\n", knee,
               2 * knee, 100 * kMinGrowth);
  } else {
    fmt::print("knee: none, throughput still grows at batch 32\n");
  }
  return 0;
}
