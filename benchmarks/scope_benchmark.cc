// Cost of the instrumentation hot path against the floor: two TSC reads and a 24-byte
// store into a thread_local array, the least any timestamped in-memory scope can cost.
// Run: build/scope_benchmark --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
//
// The profiler records every step (no schedule) and its collector drains the rings, as in
// a real session; "disabled" cases measure the macros before start() and in a WAIT step.

#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "scopetrace/scopetrace.h"

namespace {

struct FloorRecord {
  uint64_t begin;
  uint64_t end;
  const char* name;
};
constexpr size_t kFloorRecords = 1 << 16;
thread_local FloorRecord t_floor[kFloorRecords];
thread_local size_t t_floor_index = 0;

// The floor: what one scope must do at least (two timestamps, one record stored).
void BM_Floor(benchmark::State& state) {
  for (auto _ : state) {
    const uint64_t begin = __rdtsc();
    const uint64_t end = __rdtsc();
    FloorRecord& record = t_floor[t_floor_index++ & (kFloorRecords - 1)];
    record.begin = begin;
    record.end = end;
    record.name = "floor";
    benchmark::ClobberMemory();
  }
  state.counters["ns_per_event"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// One profiler for the whole binary, recording every step; a background thread calls
// step() every 10 ms, so each cycle is small and the collector drains continuously.
std::atomic<uint64_t> g_recorded{0};
std::atomic<uint64_t> g_dropped{0};

scopetrace::Profiler& RecordingProfiler() {
  static scopetrace::Profiler* profiler = [] {
    scopetrace::ProfilerOptions options;
    options.on_trace_ready = [](const scopetrace::Trace& trace) {
      g_recorded += trace.slices().size() + trace.instants().size() + trace.counters().size();
      g_dropped += trace.metadata().dropped_events;
    };
    options.schedule = scopetrace::Schedule{.active = 1};
    auto* p = new scopetrace::Profiler(options);
    if (!p->start().ok()) std::abort();
    std::thread([p] {
      for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        p->step();
      }
    }).detach();
    return p;
  }();
  return *profiler;
}

// Events the rings could not take (the collector fell behind) cost less than recorded
// ones, so the share of drops is printed beside every figure: a fast number with drops
// is not a fast profiler.
void ReportDrops(benchmark::State& state, uint64_t recorded_before, uint64_t dropped_before) {
  if (state.thread_index() != 0) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // let the last cycles land
  const double recorded = static_cast<double>(g_recorded - recorded_before);
  const double dropped = static_cast<double>(g_dropped - dropped_before);
  state.counters["dropped_pct"] =
      recorded + dropped > 0 ? 100.0 * dropped / (recorded + dropped) : 0;
}

void BM_ScopeStatic(benchmark::State& state) {
  RecordingProfiler();
  const uint64_t recorded_before = g_recorded, dropped_before = g_dropped;
  for (auto _ : state) {
    SCOPETRACE_SCOPE("forward");
    benchmark::ClobberMemory();
  }
  ReportDrops(state, recorded_before, dropped_before);
  state.counters["ns_per_event"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_ScopeTwoArgs(benchmark::State& state) {
  RecordingProfiler();
  const uint64_t recorded_before = g_recorded, dropped_before = g_dropped;
  int64_t i = 0;
  for (auto _ : state) {
    SCOPETRACE_SCOPE("conv2d", "batch", ++i, "scale", 0.5);
    benchmark::ClobberMemory();
  }
  ReportDrops(state, recorded_before, dropped_before);
  state.counters["ns_per_event"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_ScopeDynamic(benchmark::State& state) {
  RecordingProfiler();
  const uint64_t recorded_before = g_recorded, dropped_before = g_dropped;
  const std::string name = "layer_17_attention";
  for (auto _ : state) {
    SCOPETRACE_SCOPE_DYNAMIC(name);
    benchmark::ClobberMemory();
  }
  ReportDrops(state, recorded_before, dropped_before);
  state.counters["ns_per_event"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Instant(benchmark::State& state) {
  RecordingProfiler();
  const uint64_t recorded_before = g_recorded, dropped_before = g_dropped;
  for (auto _ : state) SCOPETRACE_INSTANT("cache_miss");
  ReportDrops(state, recorded_before, dropped_before);
  state.counters["ns_per_event"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Counter(benchmark::State& state) {
  RecordingProfiler();
  const uint64_t recorded_before = g_recorded, dropped_before = g_dropped;
  int64_t i = 0;
  for (auto _ : state) SCOPETRACE_COUNTER("queue_depth", ++i);
  ReportDrops(state, recorded_before, dropped_before);
  state.counters["ns_per_event"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Before any profiler starts, the macros cost a relaxed load and a branch.
void BM_ScopeDisabled(benchmark::State& state) {
  for (auto _ : state) {
    SCOPETRACE_SCOPE("forward");
    benchmark::ClobberMemory();
  }
  state.counters["ns_per_event"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

// Disabled first: nothing has started a profiler yet.
BENCHMARK(BM_ScopeDisabled);
BENCHMARK(BM_Floor)->Threads(1)->Threads(2);
BENCHMARK(BM_ScopeStatic)->Threads(1)->Threads(2);
BENCHMARK(BM_ScopeTwoArgs)->Threads(1)->Threads(2);
BENCHMARK(BM_ScopeDynamic)->Threads(1)->Threads(2);
BENCHMARK(BM_Instant)->Threads(1);
BENCHMARK(BM_Counter)->Threads(1);

BENCHMARK_MAIN();
