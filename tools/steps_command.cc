// `scopetrace steps TRACE`: one row per recorded step, then step time percentiles.

#include <string>

#include "fmt/format.h"
#include "scopetrace/analysis.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace scopetrace::cli {
namespace {

constexpr std::string_view kHelp = R"(usage: scopetrace steps TRACE

One row per recorded step (ProfilerStep#N slice). The window starts with the host step
slice and ends at the later of its end and the end of the last device op launched in
it (matched by correlation id), so device work queued by a step counts for that step.

columns:
  Wall        window length
  Host        the ProfilerStep slice itself
  Host busy   union of all host scopes (any thread of the process) inside the window
  Launches    host launch slices in the step
  per device: compute (union of kernels over all streams), copy (union of memcpy and
  memset), overlap (compute and copy at once), idle (window minus compute and copy)
Then mean, P50, P90, P99 of the wall time (exact, nearest rank) and throughput
(1 / mean wall).
)";

}  // namespace

int RunStepsCommand(int argc, char** argv) {
  CommandLine cl;
  std::string error;
  if (!cl.Parse(argc, argv, {}, error)) return Fail("steps", error);
  if (cl.help()) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (cl.positional().size() != 1)
    return Fail("steps", "expects exactly one TRACE file (see --help)");
  const std::string& path = cl.positional()[0];
  std::optional<Trace> trace = LoadTrace("steps", path);
  if (!trace) return kExitBadInput;
  const StepAnalysis analysis = AnalyzeSteps(*trace);
  if (analysis.steps.empty()) {
    fmt::print("{}: no ProfilerStep slices: record steps with Profiler::step() to analyse them\n",
               path);
    return kExitOk;
  }
  Table table;
  table.AddColumn("Step", Table::Align::kRight);
  for (const char* header : {"Wall", "Host", "Host busy", "Launches"}) {
    table.AddColumn(header, Table::Align::kRight);
  }
  for (const std::string& device : analysis.devices) {
    for (const char* column : {"compute", "copy", "overlap", "idle"}) {
      table.AddColumn(fmt::format("{} {}", device, column), Table::Align::kRight);
    }
  }
  for (const StepRow& step : analysis.steps) {
    std::vector<std::string> cells = {
        std::to_string(step.number), FormatDuration(step.wall_ns), FormatDuration(step.host_ns),
        FormatDuration(step.host_busy_ns), std::to_string(step.launches)};
    for (const DeviceStepStats& d : step.devices) {
      for (int64_t ns : {d.compute_ns, d.copy_ns, d.overlap_ns, d.idle_ns}) {
        cells.push_back(FormatDuration(ns));
      }
    }
    table.AddRow(std::move(cells));
  }
  fmt::print("{}: {} steps\n\n", path, analysis.steps.size());
  table.Print();
  const DurationStats& wall = analysis.wall;
  fmt::print("\nstep wall time: mean {}  P50 {}  P90 {}  P99 {}  (min {}, max {})\n",
             FormatDuration(static_cast<int64_t>(wall.mean_ns + 0.5)), FormatDuration(wall.p50_ns),
             FormatDuration(wall.p90_ns), FormatDuration(wall.p99_ns), FormatDuration(wall.min_ns),
             FormatDuration(wall.max_ns));
  fmt::print("throughput: {:.2f} steps/s\n", analysis.steps_per_second);
  return kExitOk;
}

}  // namespace scopetrace::cli
