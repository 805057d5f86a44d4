// Analysis throughput: `scopetrace summary` + `scopetrace steps` (SummarizeOperators and
// AnalyzeSteps) over a synthetic in-memory trace of 10 M events, the size the CLI must
// handle within 10 s and 2 GiB. Reading the file is the reader's cost and is not timed.
//
//   build/analysis_benchmark --benchmark_filter=SummaryAndSteps
//
// Counters: events, events/s, peak_rss_mib (of the whole process, trace included).

#include <sys/resource.h>

#include <string>

#include "benchmark/benchmark.h"
#include "scopetrace/analysis.h"
#include "scopetrace/trace.h"

namespace scopetrace {
namespace {

// Steps of kOpsPerStep host ops, each with a launch inside and the kernel it caused on
// one of two streams: 1 + 3 · kOpsPerStep slices per step.
constexpr int kOpsPerStep = 2500;
constexpr int kNames = 32;

Trace MakeTrace(size_t target_events) {
  Trace trace;
  constexpr int64_t kPid = 100;
  trace.add_process({.pid = kPid, .name = "app"});
  trace.add_process({.pid = kDevicePidBase, .name = "sim0", .is_device = true});
  const TrackId main = trace.find_or_add_track(TrackKind::kThread, kPid, 1, "main");
  const TrackId streams[2] = {
      trace.find_or_add_track(TrackKind::kDeviceStream, kDevicePidBase, 0, "stream 0"),
      trace.find_or_add_track(TrackKind::kDeviceStream, kDevicePidBase, 1, "stream 1")};
  std::vector<StringId> ops, launches, kernels;
  for (int i = 0; i < kNames; ++i) {
    ops.push_back(trace.intern("op" + std::to_string(i)));
    launches.push_back(trace.intern("launch kernel" + std::to_string(i)));
    kernels.push_back(trace.intern("kernel" + std::to_string(i)));
  }
  const StringId host = trace.intern("host"), launch = trace.intern("launch");
  const StringId kernel = trace.intern("kernel"), step_cat = trace.intern("step");
  const size_t steps = target_events / (1 + 3 * kOpsPerStep);
  std::vector<Slice>& slices = trace.mutable_slices();
  slices.reserve(steps * (1 + 3 * kOpsPerStep));
  // One pass per track, so the slices come out in the documented order and SortEvents
  // has nothing to do: the benchmark's memory is the trace plus the analysis, not a sort.
  for (const TrackId only : {main, streams[0], streams[1]}) {
    int64_t t = 1'000'000;
    uint64_t id = 0;
    auto emit = [&](Slice slice) {
      if (slice.track == only) slices.push_back(std::move(slice));
    };
    for (size_t s = 0; s < steps; ++s) {
      const int64_t step_start = t;
      int64_t step_end = t;
      for (int i = 0; i < kOpsPerStep; ++i)
        step_end += 3'000 + 100 * ((i * 7 + static_cast<int>(s)) % kNames) + 300;
      emit({.track = main,
            .name = trace.intern("ProfilerStep#" + std::to_string(s)),
            .category = step_cat,
            .start_ns = step_start,
            .dur_ns = step_end - step_start});
      int64_t device_t = t;
      for (int i = 0; i < kOpsPerStep; ++i) {
        const int n = (i * 7 + static_cast<int>(s)) % kNames;
        const int64_t op_dur = 3'000 + 100 * n;
        emit({.track = main, .name = ops[n], .category = host, .start_ns = t, .dur_ns = op_dur});
        ++id;
        emit({.track = main,
              .name = launches[n],
              .category = launch,
              .start_ns = t + 500,
              .dur_ns = 2'000,
              .correlation_id = id,
              .flow_out = id});
        device_t = std::max(device_t, t + 2'500) + 200;
        const int64_t kernel_dur = 1'000 + 150 * n;
        emit({.track = streams[i % 2],
              .name = kernels[n],
              .category = kernel,
              .op_kind = DeviceOpKind::kKernel,
              .start_ns = device_t,
              .dur_ns = kernel_dur,
              .correlation_id = id,
              .flow_in = id});
        device_t += kernel_dur / 2;  // the two streams overlap
        t += op_dur + 300;
      }
      t += 10'000;
    }
  }
  trace.SortEvents();
  return trace;
}

const Trace& TenMillionEvents() {
  static const Trace* trace = new Trace(MakeTrace(10'000'000));
  return *trace;
}

void BM_SummaryAndSteps(benchmark::State& state) {
  const Trace& trace = TenMillionEvents();
  for (auto _ : state) {
    OperatorSummary summary = SummarizeOperators(trace);
    StepAnalysis steps = AnalyzeSteps(trace);
    benchmark::DoNotOptimize(summary);
    benchmark::DoNotOptimize(steps);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["events"] = static_cast<double>(trace.event_count());
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(trace.event_count()),
                                                  benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_rss_mib"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
}
BENCHMARK(BM_SummaryAndSteps)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Summary(benchmark::State& state) {
  const Trace& trace = TenMillionEvents();
  for (auto _ : state) benchmark::DoNotOptimize(SummarizeOperators(trace));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(trace.event_count()),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Summary)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Steps(benchmark::State& state) {
  const Trace& trace = TenMillionEvents();
  for (auto _ : state) benchmark::DoNotOptimize(AnalyzeSteps(trace));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(trace.event_count()),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Steps)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace scopetrace

BENCHMARK_MAIN();
