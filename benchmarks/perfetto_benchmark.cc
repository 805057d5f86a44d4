// Perfetto writer and reader throughput on a realistic host + device trace (~1 M events):
// 4 host threads running ProfilerStep → forward → aten ops with kernel launches, a device
// with 2 streams running the kernels and copies, flows and correlation ids between them,
// and counters. Reports events/s and bytes/event (compressed size with zstd). Rates are
// per CPU second of the benchmark thread, so a shared machine does not skew them.
//
//   cmake -S . -B build -DSCOPETRACE_BUILD_BENCHMARKS=ON && ninja -C build perfetto_benchmark
//   build/perfetto_benchmark

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "exporters/perfetto_stream_writer.h"
#include "exporters/trace_io.h"
#include "scopetrace/trace.h"

namespace scopetrace {
namespace {

constexpr int64_t kPid = 31337;

const Trace& RealisticTrace() {
  static const Trace* trace = [] {
    auto* t = new Trace;
    std::mt19937_64 rng(42);
    auto jitter = [&](int64_t base) {
      return base + static_cast<int64_t>(rng() % static_cast<uint64_t>(base / 2 + 1));
    };
    t->add_process(Process{.pid = kPid, .name = "inference_server"});
    t->add_process(
        Process{.pid = kDevicePidBase, .name = "sim0", .sort_index = 1, .is_device = true});
    std::vector<TrackId> threads, streams;
    for (int i = 0; i < 4; ++i) {
      threads.push_back(t->add_track(Track{.kind = TrackKind::kThread,
                                           .pid = kPid,
                                           .tid = kPid + i,
                                           .name = "worker " + std::to_string(i)}));
    }
    for (int i = 0; i < 2; ++i) {
      streams.push_back(t->add_track(Track{.kind = TrackKind::kDeviceStream,
                                           .pid = kDevicePidBase,
                                           .tid = i,
                                           .name = "stream " + std::to_string(i)}));
    }
    const TrackId queue =
        t->add_track(Track{.kind = TrackKind::kCounter, .pid = kPid, .name = "queue_depth"});
    const TrackId memory = t->add_track(
        Track{.kind = TrackKind::kCounter, .pid = kDevicePidBase, .name = "sim0 memory"});
    const char* ops[] = {"aten::conv2d", "aten::batch_norm", "aten::relu",       "aten::add_",
                         "aten::linear", "aten::softmax",    "aten::layer_norm", "aten::matmul"};
    const char* kernels[] = {"sm80_xmma_fprop_implicit_gemm_f16f16_f16f32_nhwckrsc_nhwc",
                             "batch_norm_collect_statistics_kernel",
                             "vectorized_elementwise_kernel<relu>",
                             "vectorized_elementwise_kernel<add>",
                             "ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_tn",
                             "cunn_SoftMaxForward",
                             "layer_norm_kernel",
                             "cutlass_gemm_tn"};
    const StringId host = t->intern("host"), launch = t->intern("launch"),
                   kernel = t->intern("kernel"), step_cat = t->intern("step"),
                   h2d = t->intern("memcpy_h2d"), bytes_key = t->intern("bytes"),
                   shape_key = t->intern("shape");
    uint64_t correlation = 1;
    int64_t device_free[2] = {0, 0};
    int64_t step = 0;
    for (TrackId thread : threads) {
      int64_t now = 1'700'000'000'000 + static_cast<int64_t>(thread) * 1'000;
      for (int s = 0; s < 4'700; ++s, ++step) {
        const int64_t step_start = now;
        Slice profiler_step{.track = thread,
                            .name = t->intern("ProfilerStep#" + std::to_string(step)),
                            .category = step_cat,
                            .start_ns = step_start};
        now += jitter(2'000);
        const int64_t fwd_start = now;
        for (int layer = 0; layer < 16; ++layer) {
          const int op = static_cast<int>(rng() % 8);
          Slice op_slice{
              .track = thread, .name = t->intern(ops[op]), .category = host, .start_ns = now};
          if (layer % 4 == 0) op_slice.args.push_back({shape_key, std::string("8x3x224x224")});
          now += jitter(1'500);
          const int64_t launch_start = now;
          const int64_t launch_dur = jitter(3'000);
          const uint64_t id = correlation++;
          t->mutable_slices().push_back(
              Slice{.track = thread,
                    .name = t->intern(std::string("launch ") + kernels[op]),
                    .category = launch,
                    .start_ns = launch_start,
                    .dur_ns = launch_dur,
                    .correlation_id = id,
                    .flow_out = id});
          now += launch_dur + jitter(1'000);
          op_slice.dur_ns = now - op_slice.start_ns;
          t->mutable_slices().push_back(std::move(op_slice));
          const int stream = static_cast<int>(id % 2);
          const int64_t dev_start = std::max(device_free[stream], launch_start + jitter(4'000));
          const int64_t dev_dur = jitter(12'000);
          device_free[stream] = dev_start + dev_dur + 500;
          t->mutable_slices().push_back(Slice{.track = streams[stream],
                                              .name = t->intern(kernels[op]),
                                              .category = kernel,
                                              .start_ns = dev_start,
                                              .dur_ns = dev_dur,
                                              .op_kind = DeviceOpKind::kKernel,
                                              .correlation_id = id,
                                              .flow_in = id});
        }
        t->mutable_slices().push_back(Slice{.track = thread,
                                            .name = t->intern("forward"),
                                            .category = host,
                                            .start_ns = fwd_start,
                                            .dur_ns = now - fwd_start});
        Slice copy{.track = streams[0],
                   .name = t->intern("Memcpy HtoD"),
                   .category = h2d,
                   .start_ns = device_free[0],
                   .dur_ns = jitter(20'000),
                   .op_kind = DeviceOpKind::kMemcpyH2D};
        copy.args.push_back({bytes_key, int64_t{602'112}});
        device_free[0] += copy.dur_ns + 500;
        t->mutable_slices().push_back(std::move(copy));
        t->mutable_counters().push_back({queue, now, static_cast<double>(rng() % 32)});
        t->mutable_counters().push_back(
            {memory, device_free[0], static_cast<double>((rng() % 4096) << 20)});
        now += jitter(3'000);
        profiler_step.dur_ns = now - step_start;
        t->mutable_slices().push_back(std::move(profiler_step));
      }
    }
    t->SortEvents();
    return t;
  }();
  return *trace;
}

std::string OutputPath(const char* name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

void Encode(benchmark::State& state, bool zstd) {
  const Trace& trace = RealisticTrace();
  const std::string path =
      OutputPath(zstd ? "scopetrace_bench.pftrace.zst" : "scopetrace_bench.pftrace");
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto writer = exporters::PerfettoStreamWriter::Open(path, zstd);
    if (!writer.ok()) state.SkipWithError(std::string(writer.status().message()).c_str());
    if (!(*writer)->Append(trace).ok() || !(*writer)->Finish(trace.metadata()).ok()) {
      state.SkipWithError("write failed");
      break;
    }
    bytes = (*writer)->bytes_written();
  }
  const double events = static_cast<double>(trace.event_count());
  state.counters["events"] = events;
  state.counters["events/s"] = benchmark::Counter(events * static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
  state.counters["bytes/event"] = static_cast<double>(bytes) / events;
}

void BM_PerfettoEncodeZstd(benchmark::State& state) { Encode(state, true); }
void BM_PerfettoEncodePlain(benchmark::State& state) { Encode(state, false); }

void Decode(benchmark::State& state, bool zstd) {
  const Trace& trace = RealisticTrace();
  const std::string path =
      OutputPath(zstd ? "scopetrace_bench_r.pftrace.zst" : "scopetrace_bench_r.pftrace");
  if (!exporters::WritePerfetto(trace, path, zstd).ok()) {
    state.SkipWithError("write failed");
    return;
  }
  size_t events = 0;
  for (auto _ : state) {
    absl::StatusOr<Trace> read = exporters::ReadPerfetto(path);
    if (!read.ok()) {
      state.SkipWithError("read failed");
      break;
    }
    events = read->event_count();
    benchmark::DoNotOptimize(events);
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  std::remove(path.c_str());
}

void BM_PerfettoReadZstd(benchmark::State& state) { Decode(state, true); }
void BM_PerfettoReadPlain(benchmark::State& state) { Decode(state, false); }

BENCHMARK(BM_PerfettoEncodeZstd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PerfettoEncodePlain)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PerfettoReadZstd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PerfettoReadPlain)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace scopetrace

BENCHMARK_MAIN();
