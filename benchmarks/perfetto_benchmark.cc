// Perfetto writer and reader throughput on a realistic host + device trace (~1.1 M events),
// shaped like a real capture of an inference server:
// - 2 host threads, each running an inference loop: ProfilerStep#N → forward → 150 named
//   ops per step (a fixed model graph: "aten::linear", "aten::layer_norm", ... for 12
//   transformer blocks plus embedding and head), each op with a cudaLaunchKernel slice;
// - a device with 2 compute streams (thread i launches to stream i) running one kernel per
//   op, connected to its launch by a flow and a correlation id, plus one H2D copy per step;
// - 2 counters sampled once per step; shape args on a few ops, bytes on copies.
// Durations come from a per-op distribution: each op has its own mean (drawn once, log-
// uniform 2..40 µs on the host, 3..200 µs on the device) and every occurrence takes
// mean × (1 + 3% gaussian noise); timestamps are ns-resolution values, as a TSC → ns
// conversion gives (no rounding to µs). Reports events/s and bytes/event (compressed size
// with zstd). Rates are per CPU second of the benchmark thread (google benchmark's
// default), so a shared machine does not skew them much. The Ceiling* rows are what zstd
// alone and the model's memory alone cost on the same trace in the same run: the bounds
// the encode and read rows are measured against.
//
//   cmake -S . -B build -DSCOPETRACE_BUILD_BENCHMARKS=ON && ninja -C build perfetto_benchmark
//   build/perfetto_benchmark

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "exporters/perfetto_input.h"
#include "exporters/perfetto_output.h"
#include "exporters/perfetto_stream_writer.h"
#include "exporters/trace_io.h"
#include "scopetrace/trace.h"
#include "src/background_thread.h"
#include "src/host_slice_runs.h"
#include "src/populate_pages.h"
#include "src/streaming_pipeline.h"
#include "src/streaming_sink.h"

namespace scopetrace {
namespace {

constexpr int64_t kPid = 31337;
constexpr int kThreads = 2;
constexpr int kStepsPerThread = 1'200;

struct OpSpec {
  StringId name;
  StringId kernel;
  double host_ns;    // mean host-side duration of the op (launch excluded)
  double launch_ns;  // mean cudaLaunchKernel duration
  double device_ns;  // mean kernel duration
  bool shape_arg;
};

// The model graph: ~150 ops per step, same names and order every step.
std::vector<OpSpec> ModelGraph(Trace& t, std::mt19937_64& rng) {
  struct Kind {
    const char* op;
    const char* kernel;
  };
  const Kind block[] = {
      {"aten::layer_norm",
       "void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::Half, float>"},
      {"aten::linear", "ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_stages_64x3_tn"},
      {"aten::view", "void at::native::elementwise_kernel<128, 2>(copy)"},
      {"aten::transpose", "void at::native::elementwise_kernel<128, 4>(transpose)"},
      {"aten::scaled_dot_product_attention", "fmha_cutlassF_f16_aligned_64x64_rf_sm80"},
      {"aten::linear", "ampere_fp16_s16816gemm_fp16_64x64_sliced1x2_ldg8_f2f_tn"},
      {"aten::add",
       "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<c10::Half>>"},
      {"aten::layer_norm",
       "void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::Half, float>"},
      {"aten::linear", "ampere_fp16_s16816gemm_fp16_256x128_ldg8_f2f_stages_64x3_tn"},
      {"aten::gelu",
       "void at::native::vectorized_elementwise_kernel<4, at::native::GeluCUDAKernelImpl>"},
      {"aten::linear", "ampere_fp16_s16816gemm_fp16_128x256_ldg8_f2f_stages_64x3_tn"},
      {"aten::add",
       "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<c10::Half>>"},
  };
  std::uniform_real_distribution<double> u(0.0, 1.0);
  auto log_uniform = [&](double lo, double hi) { return lo * std::pow(hi / lo, u(rng)); };
  std::vector<OpSpec> graph;
  auto add = [&](const char* op, const char* kernel) {
    graph.push_back(OpSpec{.name = t.intern(op),
                           .kernel = t.intern(kernel),
                           .host_ns = log_uniform(2'000, 40'000),
                           .launch_ns = log_uniform(3'000, 8'000),
                           .device_ns = log_uniform(3'000, 200'000),
                           .shape_arg = u(rng) < 0.1});
  };
  add("aten::embedding", "void at::native::indexSelectLargeIndex<c10::Half, long, unsigned int>");
  add("aten::add",
      "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<c10::Half>>");
  for (int layer = 0; layer < 12; ++layer) {
    for (const Kind& k : block) add(k.op, k.kernel);
  }
  add("aten::layer_norm",
      "void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::Half, float>");
  add("aten::linear", "ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_stages_64x3_nn");
  add("aten::softmax",
      "void at::native::(anonymous namespace)::cunn_SoftMaxForward<8, c10::Half, float>");
  add("aten::argmax",
      "void at::native::reduce_kernel<512, 1, at::native::ReduceOp<c10::Half, ArgMaxOps>>");
  return graph;
}

// `ids`: launches and kernels carry their correlation id and the flow between them, as a
// real capture's do. Without them (BM_PerfettoEncodeZstdWithoutIds only) the trace is the
// same events at the same times: what they cost in bytes is the difference.
const Trace* MakeRealisticTrace(bool ids) {
  auto* t = new Trace;
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0.0, 0.03);
  // A duration of mean `mean_ns` with 3% noise, in whole ns (TSC conversions are ns).
  auto dur = [&](double mean_ns) {
    return std::max<int64_t>(1, std::llround(mean_ns * (1.0 + noise(rng))));
  };
  t->add_process(Process{.pid = kPid, .name = "inference_server"});
  t->add_process(
      Process{.pid = kDevicePidBase, .name = "sim0", .sort_index = 1, .is_device = true});
  std::vector<TrackId> threads, streams;
  for (int i = 0; i < kThreads; ++i) {
    threads.push_back(t->add_track(Track{.kind = TrackKind::kThread,
                                         .pid = kPid,
                                         .tid = kPid + 1 + i,
                                         .name = "inference worker " + std::to_string(i)}));
    streams.push_back(t->add_track(Track{.kind = TrackKind::kDeviceStream,
                                         .pid = kDevicePidBase,
                                         .tid = i,
                                         .name = "stream " + std::to_string(7 + i)}));
  }
  const TrackId queue =
      t->add_track(Track{.kind = TrackKind::kCounter, .pid = kPid, .name = "queue_depth"});
  const TrackId memory = t->add_track(
      Track{.kind = TrackKind::kCounter, .pid = kDevicePidBase, .name = "sim0 memory"});
  const std::vector<OpSpec> graph = ModelGraph(*t, rng);
  const StringId host = t->intern("cpu_op"), launch_cat = t->intern("cuda_runtime"),
                 kernel_cat = t->intern("kernel"), step_cat = t->intern("user_annotation"),
                 h2d_cat = t->intern("gpu_memcpy"), launch_name = t->intern("cudaLaunchKernel"),
                 forward = t->intern("forward"),
                 copy_name = t->intern("Memcpy HtoD (Pinned -> Device)"),
                 bytes_key = t->intern("bytes"), shape_key = t->intern("Input Dims");
  uint64_t correlation = 1;
  int64_t step = 0;
  for (int th = 0; th < kThreads; ++th) {
    const TrackId thread = threads[th];
    const TrackId stream = streams[th];
    // A TSC-derived ns clock: an arbitrary large origin, not a round number.
    int64_t now = 1'712'345'678'901'234 + th * 7'919;
    int64_t device_free = now;
    for (int s = 0; s < kStepsPerThread; ++s, ++step) {
      const int64_t step_start = now;
      Slice profiler_step{.track = thread,
                          .name = t->intern("ProfilerStep#" + std::to_string(step)),
                          .category = step_cat,
                          .start_ns = step_start};
      Slice copy{.track = stream,
                 .name = copy_name,
                 .category = h2d_cat,
                 .op_kind = DeviceOpKind::kMemcpyH2D,
                 .start_ns = std::max(device_free, now + dur(9'000)),
                 .dur_ns = dur(48'000)};
      copy.args.push_back({bytes_key, int64_t{1'572'864}});
      device_free = copy.start_ns + copy.dur_ns + dur(1'200);
      t->mutable_slices().push_back(std::move(copy));
      now += dur(25'000);
      const int64_t fwd_start = now;
      for (const OpSpec& op : graph) {
        Slice op_slice{.track = thread, .name = op.name, .category = host, .start_ns = now};
        if (op.shape_arg) op_slice.args.push_back({shape_key, std::string("[[8, 512, 768]]")});
        now += dur(op.host_ns * 0.6);
        const int64_t launch_start = now;
        const int64_t launch_dur = dur(op.launch_ns);
        const uint64_t id = ids ? correlation : 0;
        ++correlation;
        t->mutable_slices().push_back(Slice{.track = thread,
                                            .name = launch_name,
                                            .category = launch_cat,
                                            .start_ns = launch_start,
                                            .dur_ns = launch_dur,
                                            .correlation_id = id,
                                            .flow_out = id});
        now += launch_dur + dur(op.host_ns * 0.4);
        op_slice.dur_ns = now - op_slice.start_ns;
        t->mutable_slices().push_back(std::move(op_slice));
        const int64_t dev_start = std::max(device_free, launch_start + dur(4'500));
        const int64_t dev_dur = dur(op.device_ns);
        device_free = dev_start + dev_dur + dur(1'100);
        t->mutable_slices().push_back(Slice{.track = stream,
                                            .name = op.kernel,
                                            .category = kernel_cat,
                                            .op_kind = DeviceOpKind::kKernel,
                                            .start_ns = dev_start,
                                            .dur_ns = dev_dur,
                                            .correlation_id = id,
                                            .flow_in = id});
      }
      t->mutable_slices().push_back(Slice{.track = thread,
                                          .name = forward,
                                          .category = host,
                                          .start_ns = fwd_start,
                                          .dur_ns = now - fwd_start});
      t->mutable_counters().push_back({queue, now, static_cast<double>(rng() % 8)});
      t->mutable_counters().push_back(
          {memory, device_free,
           static_cast<double>(int64_t{6'000} << 20) + static_cast<double>((rng() % 64) << 20)});
      // The host waits for the device (synchronize) before the next step.
      now = std::max(now, device_free) + dur(15'000);
      profiler_step.dur_ns = now - step_start;
      t->mutable_slices().push_back(std::move(profiler_step));
    }
  }
  t->SortEvents();
  return t;
}

const Trace& RealisticTrace(bool ids = true) {
  static const Trace* with_ids = MakeRealisticTrace(true);
  if (ids) return *with_ids;
  static const Trace* without_ids = MakeRealisticTrace(false);
  return *without_ids;
}

std::string OutputPath(const char* name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

// `events` per iteration, as a rate (per CPU second, or per wall second with UseRealTime).
void SetEventRate(benchmark::State& state, size_t events) {
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

void Encode(benchmark::State& state, bool zstd, bool ids = true) {
  const Trace& trace = RealisticTrace(ids);
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
  SetEventRate(state, trace.event_count());
  state.counters["bytes/event"] = static_cast<double>(bytes) / events;
}

void BM_PerfettoEncodeZstd(benchmark::State& state) { Encode(state, true); }
void BM_PerfettoEncodePlain(benchmark::State& state) { Encode(state, false); }
// What correlation ids and flows cost: each is a number new with every launch and kernel,
// which zstd can only store as literal bytes.
void BM_PerfettoEncodeZstdWithoutIds(benchmark::State& state) { Encode(state, true, false); }

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
  SetEventRate(state, events);
  std::remove(path.c_str());
}

void BM_PerfettoReadZstd(benchmark::State& state) { Decode(state, true); }
void BM_PerfettoReadPlain(benchmark::State& state) { Decode(state, false); }

// The ceilings the encode, read and size figures above are judged against, measured in the
// same run on the same trace (issue 4's targets are 10 M events/s for encode + zstd and
// 20 M events/s for reading): what zstd alone costs, with the writer's parameters and block
// size, on the bytes the writer produced; what zstd alone costs to give them back, through
// the reader's input layer; and what the in-memory model's memory costs before anything is
// decoded into it (fresh pages, as a reader of a new file gets them). Rates are events of
// the trace per CPU second, so they compare with the rows above directly.
std::vector<uint8_t> EncodedTrace() {
  const std::string path = OutputPath("scopetrace_bench_ceiling.pftrace");
  if (!exporters::WritePerfetto(RealisticTrace(), path, /*zstd=*/false).ok()) return {};
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  return bytes;
}

// zstd alone: the writer's output stream (level, parameters, 256 KiB writes, the file) fed
// the bytes BM_PerfettoEncodePlain writes. BM_PerfettoEncodeZstd cannot be faster.
void BM_CeilingZstdCompress(benchmark::State& state) {
  const std::vector<uint8_t> bytes = EncodedTrace();
  const std::string path = OutputPath("scopetrace_bench_ceiling.pftrace.zst");
  constexpr size_t kBlock = 256 << 10;
  uint64_t compressed = 0;
  for (auto _ : state) {
    auto out = exporters::PerfettoOutput::Open(path, /*zstd=*/true,
                                               exporters::PerfettoOutput::kDefaultZstdLevel);
    if (!out.ok()) {
      state.SkipWithError(std::string(out.status().message()).c_str());
      break;
    }
    for (size_t at = 0; at < bytes.size(); at += kBlock) {
      if (!(*out)->Write(bytes.data() + at, std::min(kBlock, bytes.size() - at)).ok()) {
        state.SkipWithError("write failed");
      }
    }
    if (!(*out)->Close().ok()) state.SkipWithError("close failed");
    compressed = (*out)->bytes_written();
  }
  SetEventRate(state, RealisticTrace().event_count());
  state.counters["bytes/event"] =
      static_cast<double>(compressed) / static_cast<double>(RealisticTrace().event_count());
  state.counters["MB/s"] = benchmark::Counter(
      static_cast<double>(bytes.size()) * static_cast<double>(state.iterations()) / 1e6,
      benchmark::Counter::kIsRate);
  std::remove(path.c_str());
}

// zstd alone, the other way: the reader's input layer (PerfettoInput) decompressing the
// writer's .pftrace.zst into one reused 256 KiB buffer. BM_PerfettoReadZstd cannot be faster.
void BM_CeilingZstdDecompress(benchmark::State& state) {
  const std::string path = OutputPath("scopetrace_bench_ceiling_r.pftrace.zst");
  if (!exporters::WritePerfetto(RealisticTrace(), path, /*zstd=*/true).ok()) {
    state.SkipWithError("write failed");
    return;
  }
  std::vector<uint8_t> block(256 << 10);
  uint64_t total = 0;
  for (auto _ : state) {
    auto in = exporters::PerfettoInput::Open(path);
    if (!in.ok()) {
      state.SkipWithError(std::string(in.status().message()).c_str());
      break;
    }
    total = 0;
    for (;;) {
      absl::StatusOr<size_t> n = (*in)->Read(block.data(), block.size());
      if (!n.ok() || *n == 0) break;
      total += *n;
    }
    benchmark::DoNotOptimize(total);
  }
  SetEventRate(state, RealisticTrace().event_count());
  state.counters["MB/s"] =
      benchmark::Counter(static_cast<double>(total) * static_cast<double>(state.iterations()) / 1e6,
                         benchmark::Counter::kIsRate);
  std::remove(path.c_str());
}

// The model's memory alone: the trace's slices pushed into a fresh vector, reserved and
// mapped ahead in 8 MiB windows by MADV_POPULATE_WRITE as the Perfetto reader maps them (on
// its populator thread), then freed. Large blocks come from mmap and go back on free, so
// each iteration pays for the fresh pages a reader of a new file pays for. No reader into
// this model can spend less CPU on this machine.
void BM_CeilingModelMemory(benchmark::State& state) {
  const size_t slices = RealisticTrace().slices().size();
  for (auto _ : state) {
    std::vector<Slice> fresh;
    fresh.reserve(slices);
    size_t populate_at = 0;
    for (size_t i = 0; i < slices; ++i) {
      if (i == populate_at) populate_at = internal::PopulateAhead(fresh);
      fresh.emplace_back();
    }
    benchmark::DoNotOptimize(fresh.data());
  }
  SetEventRate(state, RealisticTrace().event_count());
  state.counters["bytes/slice"] = static_cast<double>(sizeof(Slice));
}

// Streaming (collection_benchmark --streaming, issue 4 (a)): the encoder thread's CPU per
// event on chunks shaped like that run's: 2 threads of flat "produce" scopes (one every
// ~25 ns per thread, ~10 ns long, in bursts of 2048 with a ~0.4 ms pause between), handed over in
// chunks of 64 Ki slices as the collector keeps them (HostSliceRuns: one run of records per
// thread), through StreamingPipeline to one .pftrace.zst. Reported: CPU ns/event of the encoder
// thread, of its compression thread and both (the time below is both threads' CPU time), and
// compressed bytes/event. Filling the chunks
// (the collector's share) is not counted.
void BM_StreamingEncoder(benchmark::State& state) {
  constexpr size_t kChunkEvents = size_t{1} << 16;
  constexpr int kChunks = 48;  // ~3.1 M events
  const std::string path = OutputPath("scopetrace_bench_stream.pftrace.zst");
  uint64_t events = 0, bytes = 0;
  double total_events = 0, total_cpu_ns = 0, total_zstd_ns = 0;
  for (auto _ : state) {
    auto sink = internal::StreamingSink::Open({{Format::kPerfettoZstd, path}});
    if (!sink.ok()) {
      state.SkipWithError(std::string(sink.status().message()).c_str());
      break;
    }
    std::atomic<int64_t> cpu_ns{0}, zstd_ns{0};
    internal::StreamingSink* raw_sink = sink->get();
    Trace cycle;
    const TrackId threads[2] = {
        cycle.add_track(Track{.kind = TrackKind::kThread, .pid = kPid, .tid = 101, .name = "p0"}),
        cycle.add_track(Track{.kind = TrackKind::kThread, .pid = kPid, .tid = 102, .name = "p1"})};
    const StringId name = cycle.intern("produce"), category = cycle.intern("host");
    std::mt19937_64 rng(7);
    // Durations and gaps as that run's clock gives them: mostly 10 ns steps (its packets'
    // deltas are 10 ns 68 %, 20 ns 13 %, 11 ns 10 %, 9 ns 8 %, other multiples of 10 ns).
    auto tick = [&rng]() -> int64_t {
      const uint64_t r = rng() % 100;
      return r < 68 ? 10 : r < 81 ? 20 : r < 91 ? 11 : r < 99 ? 9 : 30 + 10 * (rng() % 5);
    };
    internal::HostSliceRuns runs;
    int64_t now[2] = {1'712'345'678'901'234, 1'712'345'678'905'321};
    uint64_t emitted[2] = {0, 0};
    events = 0;
    {
      absl::StatusOr<std::unique_ptr<internal::StreamingPipeline>> started =
          internal::StreamingPipeline::Start(*std::move(sink), &cpu_ns);
      if (!started.ok()) {
        state.SkipWithError(std::string(started.status().message()).c_str());
        break;
      }
      internal::StreamingPipeline& pipeline = **started;
      // The compression thread's share, apart (the pipeline would add it to cpu_ns).
      raw_sink->CountBackgroundCpuInto(&zstd_ns);
      for (int c = 0; c < kChunks; ++c) {
        for (int th = 0; th < 2; ++th) {
          for (size_t i = 0; i < kChunkEvents / 2; ++i) {
            const int64_t dur = tick();
            runs.Add(threads[th], name, category, now[th], now[th] + dur);
            now[th] += dur + tick();
            if (++emitted[th] % 2048 == 0) now[th] += 400'000 + static_cast<int64_t>(rng() % 9000);
          }
        }
        events += runs.size();
        if (!pipeline.Submit(cycle, runs).ok()) state.SkipWithError("submit failed");
      }
      absl::StatusOr<std::unique_ptr<internal::StreamingSink>> done = pipeline.Close();
      if (!done.ok() || !(*done)->Finish(cycle).ok()) state.SkipWithError("finish failed");
    }
    state.SetIterationTime(static_cast<double>(cpu_ns.load() + zstd_ns.load()) / 1e9);
    total_cpu_ns += static_cast<double>(cpu_ns.load());
    total_zstd_ns += static_cast<double>(zstd_ns.load());
    total_events += static_cast<double>(events);
    bytes = std::filesystem::file_size(path);
  }
  state.counters["ns/event"] = (total_cpu_ns + total_zstd_ns) / std::max(1.0, total_events);
  state.counters["encoder_ns/event"] = total_cpu_ns / std::max(1.0, total_events);
  state.counters["zstd_ns/event"] = total_zstd_ns / std::max(1.0, total_events);
  state.counters["bytes/event"] = static_cast<double>(bytes) / static_cast<double>(events);
  std::remove(path.c_str());
}

BENCHMARK(BM_StreamingEncoder)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PerfettoEncodeZstd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PerfettoEncodePlain)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PerfettoEncodeZstdWithoutIds)->Unit(benchmark::kMillisecond);
// The reader decompresses (zstd) and maps fresh pages on threads of its own: wall time is
// what a user waits, and the CPU column is the whole process's.
BENCHMARK(BM_PerfettoReadZstd)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_PerfettoReadPlain)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_CeilingZstdCompress)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CeilingZstdDecompress)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CeilingModelMemory)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace scopetrace

BENCHMARK_MAIN();
