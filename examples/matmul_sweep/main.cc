// Matmul sweep: C = A x B for M = N = K in {1024, 2048, 4096}, fp16 and fp32, on the
// simulated NPU, with the achieved TFLOP/s read back from the trace's device ops.
//
//   matmul_sweep [--repeats N] [--out DIR]
//
// Kernel durations come from a roofline model of an assumed accelerator (below): a
// matmul takes a fixed start-up time plus the longer of its compute time at peak FLOP/s
// and its memory time at peak bandwidth, so small matrices fall short of the peak. The
// sweep then measures what it would on a real device: FLOPs over the device time the
// trace shows. On the simulator the two agree to within clock synchronization error; on
// a real device the gap between them is what the model does not know about the kernel.

#include <fmt/format.h>
#include <scopetrace/analysis.h>
#include <scopetrace/scopetrace.h>
#include <scopetrace/sim/device.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace {

// The assumed accelerator: matrix units at 120 TFLOP/s in fp16 and 30 TFLOP/s in fp32,
// 1.2 TB/s of device memory bandwidth, 5 µs for a kernel to start and fill the units.
constexpr double kPeakFlopsFp16 = 120e12;
constexpr double kPeakFlopsFp32 = 30e12;
constexpr double kMemoryBytesPerS = 1.2e12;
constexpr double kKernelStartSeconds = 5e-6;

struct Config {
  std::string name;  // the kernel name in the trace, e.g. "matmul fp16 1024"
  int64_t size = 0;  // M = N = K
  int element_bytes = 0;
  double peak_flops = 0;

  double flops() const { return 2.0 * size * size * size; }
  double bytes() const { return 3.0 * size * size * element_bytes; }  // read A, B; write C
  double model_seconds() const {
    return kKernelStartSeconds + std::max(flops() / peak_flops, bytes() / kMemoryBytesPerS);
  }
};

}  // namespace

int main(int argc, char** argv) {
  int repeats = 10;
  std::string out = "out/matmul_sweep";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--repeats" && i + 1 < argc &&
        std::from_chars(argv[i + 1], argv[i + 1] + std::strlen(argv[i + 1]), repeats).ec ==
            std::errc()) {
      ++i;
    } else if (arg == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else {
      fmt::print(stderr, "usage: matmul_sweep [--repeats N] [--out DIR]\n");
      return 2;
    }
  }
  repeats = std::max(repeats, 1);

  // A custom on_trace_ready writes where it likes; the directory is ours to create.
  std::error_code ignored;  // a bad path shows up as a write error below
  std::filesystem::create_directories(out, ignored);
  std::vector<Config> configs;
  for (const auto& [dtype, bytes, peak] :
       {std::tuple{"fp16", 2, kPeakFlopsFp16}, std::tuple{"fp32", 4, kPeakFlopsFp32}}) {
    for (int64_t size : {1024, 2048, 4096}) {
      configs.push_back({fmt::format("matmul {} {}", dtype, size), size, bytes, peak});
    }
  }

  scopetrace::sim::Device npu({.name = "npu0"});
  std::mutex mu;
  std::optional<scopetrace::Trace> recorded;
  // No schedule: everything between start() and stop() is one cycle. The trace is kept
  // for the analysis below and written to `out` as JSON.
  scopetrace::Profiler profiler({
      .output_dir = out,
      .on_trace_ready =
          [&](const scopetrace::Trace& trace) {
            if (absl::Status s =
                    trace.Write(out + "/matmul_sweep.trace.json", scopetrace::Format::kChromeJson);
                !s.ok()) {
              fmt::print(stderr, "matmul_sweep: {}\n", s.ToString());
            }
            std::lock_guard lock(mu);
            recorded = trace;
          },
      .worker_name = "matmul_sweep",
  });
  profiler.add_device(npu);
  if (absl::Status started = profiler.start(); !started.ok()) {
    fmt::print(stderr, "matmul_sweep: {}\n", started.ToString());
    return 1;
  }
  for (const Config& config : configs) {
    SCOPETRACE_SCOPE("sweep", "size", config.size, "element_bytes", config.element_bytes);
    const auto duration =
        std::chrono::nanoseconds(static_cast<int64_t>(config.model_seconds() * 1e9));
    for (int i = 0; i < repeats; ++i) npu.stream(0).launch(config.name, duration);
    npu.synchronize();
    profiler.step();
  }
  profiler.stop();
  std::lock_guard lock(mu);
  if (!recorded) {
    fmt::print(stderr, "matmul_sweep: no trace recorded\n");
    return 1;
  }

  // Device time per kernel name, from the trace: the operator summary's device rows.
  const scopetrace::OperatorSummary summary = scopetrace::SummarizeOperators(*recorded);
  fmt::print("assumed device: {:.0f} TFLOP/s fp16, {:.0f} TFLOP/s fp32, {:.1f} TB/s\n",
             kPeakFlopsFp16 / 1e12, kPeakFlopsFp32 / 1e12, kMemoryBytesPerS / 1e12);
  fmt::print("{:<18} {:>6} {:>12} {:>15} {:>15} {:>8}\n", "kernel", "calls", "avg time",
             "model TFLOP/s", "trace TFLOP/s", "bound");
  for (const Config& config : configs) {
    const auto row = std::find_if(summary.device.begin(), summary.device.end(),
                                  [&](const auto& r) { return r.name == config.name; });
    if (row == summary.device.end()) {
      fmt::print(stderr, "matmul_sweep: no device op '{}' in the trace\n", config.name);
      return 1;
    }
    const double model_tflops = config.flops() / config.model_seconds() / 1e12;
    const double trace_tflops = config.flops() / (row->avg_ns * 1e-9) / 1e12;
    const bool compute_bound =
        config.flops() / config.peak_flops >= config.bytes() / kMemoryBytesPerS;
    fmt::print("{:<18} {:>6} {:>12} {:>15.2f} {:>15.2f} {:>8}\n", config.name, row->calls,
               scopetrace::FormatDuration(static_cast<int64_t>(row->avg_ns + 0.5)), model_tflops,
               trace_tflops, compute_bound ? "compute" : "memory");
  }
  fmt::print("trace: {}/matmul_sweep.trace.json\n", out);
  return 0;
}
