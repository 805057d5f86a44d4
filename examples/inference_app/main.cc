// The scopetrace demo: a MobileNetV2-like network on the simulated NPU, run twice under
// the profiler, naive and tuned, with each run's summary and diagnosis and the speedup.
//
//   inference_app [--out DIR] [--steps N] [--batch N] [--quick]
//
// Writes DIR/{naive,tuned}.trace.json and .pftrace.zst (open them in ui.perfetto.dev),
// an HTML report of each, and tells which `scopetrace` commands to run on them.

#include <fmt/format.h>
#include <scopetrace/report.h>
#include <scopetrace/scopetrace.h>
#include <scopetrace/sim/device.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "console.h"
#include "model.h"
#include "pipelines.h"

namespace {

using namespace std::chrono_literals;

struct Flags {
  std::string out = "out/demo";
  int steps = 20;  // recorded steps per configuration
  int batch = 1;
};

constexpr std::string_view kUsage =
    "usage: inference_app [--out DIR] [--steps N] [--batch N] [--quick]\n"
    "  --out DIR   where traces go (default out/demo)\n"
    "  --steps N   recorded steps per configuration (default 20)\n"
    "  --batch N   images per step (default 1)\n"
    "  --quick     few steps, for tests\n";

bool ParseInt(std::string_view text, int& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && value > 0;
}

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--quick") {
      flags.steps = 5;
    } else if (arg == "--out" && has_value) {
      flags.out = argv[++i];
    } else if (arg == "--steps" && has_value && ParseInt(argv[i + 1], flags.steps)) {
      ++i;
    } else if (arg == "--batch" && has_value && ParseInt(argv[i + 1], flags.batch)) {
      ++i;
    } else {
      fmt::print(stderr, "inference_app: bad argument '{}'\n{}", arg, kUsage);
      return std::nullopt;
    }
  }
  return flags;
}

using RunFunction = void (*)(const demo::Network&, int, const demo::HostCosts&, int,
                             scopetrace::sim::Device&, scopetrace::Profiler&);

// Runs one configuration under a profiler and returns the recorded cycle; writes it as
// <out>/<config>.trace.json, <out>/<config>.pftrace.zst and <out>/<config>.report.html.
std::optional<scopetrace::Trace> Profile(std::string_view config, RunFunction run,
                                         const demo::Network& network, const Flags& flags) {
  // 16 µs of host time per launch: the order of an eager kernel launch through an NPU
  // driver, and more than most of this network's kernels run at batch 1.
  scopetrace::sim::Device npu({.name = "npu0", .streams = 1, .drift_ppm = 20, .launch_cost = 16us});
  std::mutex mu;
  std::optional<scopetrace::Trace> recorded;
  scopetrace::Profiler profiler({
      // Step 0 is not recorded, step 1 warms the capture up, then `steps` recorded steps.
      .schedule = scopetrace::Schedule{.wait = 1, .warmup = 1, .active = flags.steps, .repeat = 1},
      // Called on the profiler's export thread once the cycle is complete. Without it the
      // profiler writes <output_dir>/<worker>.<pid>.cycle<K>.trace.json by itself.
      .on_trace_ready =
          [&](const scopetrace::Trace& trace) {
            for (scopetrace::Format format :
                 {scopetrace::Format::kChromeJson, scopetrace::Format::kPerfettoZstd}) {
              const std::string path =
                  fmt::format("{}/{}{}", flags.out, config, scopetrace::FormatExtension(format));
              if (absl::Status written = trace.Write(path, format); !written.ok()) {
                fmt::print(stderr, "inference_app: {}\n", written.ToString());
              }
            }
            // The same cycle as a self-contained HTML page: charts of the steps, the
            // top operators and the diagnosis (what `scopetrace report` writes).
            const std::string report = fmt::format("{}/{}.report.html", flags.out, config);
            if (absl::Status written = scopetrace::WriteHtmlReport(
                    trace, report, {.source = fmt::format("{}.trace.json", config)});
                !written.ok()) {
              fmt::print(stderr, "inference_app: {}\n", written.ToString());
            }
            std::lock_guard lock(mu);
            recorded = trace;
          },
      .worker_name = std::string(config),
  });
  profiler.add_device(npu);
  if (absl::Status started = profiler.start(); !started.ok()) {
    fmt::print(stderr, "inference_app: {}\n", started.ToString());
    return std::nullopt;
  }
  scopetrace::set_thread_name("main");
  run(network, flags.batch, demo::HostCosts{}, flags.steps + 2, npu, profiler);
  profiler.stop();  // hands the cycle to on_trace_ready and waits for it
  std::lock_guard lock(mu);
  return recorded;
}

void PrintRun(std::string_view title, const scopetrace::Trace& trace) {
  fmt::print("\n=== {} ===\n", title);
  demo::PrintSteps(trace);
  fmt::print("\n");
  demo::PrintSummary(trace, /*top=*/8);
  fmt::print("\n  diagnosis:\n");
  demo::PrintDiagnosis(trace);
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Flags> flags = ParseFlags(argc, argv);
  if (!flags) return 2;
  std::error_code error;
  std::filesystem::create_directories(flags->out, error);
  if (error) {
    fmt::print(stderr, "inference_app: cannot create {}: {}\n", flags->out, error.message());
    return 2;
  }

  const demo::Network network = demo::BuildMobileNetV2(flags->batch);
  fmt::print(
      "scopetrace demo: MobileNetV2-like network, {} device ops, batch {}, simulated NPU\n"
      "{} recorded steps per configuration\n",
      network.ops.size(), flags->batch, flags->steps);

  const std::optional<scopetrace::Trace> naive = Profile("naive", demo::RunNaive, network, *flags);
  const std::optional<scopetrace::Trace> tuned = Profile("tuned", demo::RunTuned, network, *flags);
  if (!naive || !tuned) {
    fmt::print(stderr, "inference_app: a configuration recorded no trace\n");
    return 1;
  }
  PrintRun("naive: the main thread launches one op at a time, synchronizes every step", *naive);
  PrintRun("tuned: launches through a launch queue thread, no per-step synchronization", *tuned);

  const demo::RunFigures before = demo::ComputeFigures(*naive);
  const demo::RunFigures after = demo::ComputeFigures(*tuned);
  fmt::print("\n=== naive -> tuned ===\n");
  fmt::print("  step time P50  {} -> {}  speedup {:.2f}x\n",
             scopetrace::FormatDuration(before.step.p50_ns),
             scopetrace::FormatDuration(after.step.p50_ns),
             static_cast<double>(before.step.p50_ns) / static_cast<double>(after.step.p50_ns));
  fmt::print("  device idle    {:.1f} % -> {:.1f} %\n", 100 * before.device_idle_share,
             100 * after.device_idle_share);
  fmt::print("  findings       naive: {}\n                 tuned: {}\n", before.findings,
             after.findings);

  // The tool is built next to this program (scripts/demo.sh builds both).
  std::filesystem::path cli = std::filesystem::path(argv[0]).parent_path() / "scopetrace";
  if (!std::filesystem::exists(cli)) cli = "scopetrace";
  const std::string& out = flags->out;
  fmt::print(
      "\ntraces:\n"
      "  {0}/naive.trace.json  {0}/naive.pftrace.zst\n"
      "  {0}/tuned.trace.json  {0}/tuned.pftrace.zst\n"
      "HTML reports (open in any browser): {0}/naive.report.html  {0}/tuned.report.html\n"
      "open one at https://ui.perfetto.dev (\"Open trace file\"); .pftrace.zst opens directly\n"
      "in Perfetto v58+, for older versions run `zstd -d` on it first.\n"
      "the same numbers from the command line:\n"
      "  {1} summary {0}/naive.trace.json --top 8\n"
      "  {1} diagnose {0}/naive.trace.json\n"
      "  {1} diff {0}/naive.trace.json {0}/tuned.trace.json\n",
      out, cli.string());
  return 0;
}
