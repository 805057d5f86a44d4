// `scopetrace diff BASE NEW [--max-regression PCT]`: a CI gate on step time.

#include <cstdlib>
#include <string>

#include "fmt/format.h"
#include "scopetrace/analysis.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace scopetrace::cli {
namespace {

constexpr std::string_view kHelp =
    R"(usage: scopetrace diff BASE NEW [--max-regression PCT] [--top N]

Step time percentiles (P50, P90, P99 of the step wall time, see 'scopetrace steps') and
the top operators by total time, side by side with deltas.

exit code: 1 when the P50 or the P99 step time of NEW is more than PCT percent above
BASE (default 5), 0 otherwise, 2 on bad input (including a trace without steps).

options:
  --max-regression PCT   allowed growth of P50 and P99 step time, in percent (default 5)
  --top N                operators shown (default 10)
)";

constexpr OptionSpec kOptions[] = {{"--max-regression", true}, {"--top", true}};

bool ParseNumber(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && out >= 0;
}

}  // namespace

int RunDiffCommand(int argc, char** argv) {
  CommandLine cl;
  std::string error;
  if (!cl.Parse(argc, argv, kOptions, error)) return Fail("diff", error);
  if (cl.help()) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (cl.positional().size() != 2)
    return Fail("diff", "expects BASE and NEW trace files (see --help)");
  DiffOptions options;
  if (auto pct = cl.value("--max-regression")) {
    if (!ParseNumber(*pct, options.max_regression_pct)) {
      return Fail("diff",
                  fmt::format("--max-regression expects a percentage >= 0, got '{}'", *pct));
    }
  }
  if (auto top = cl.value("--top")) {
    double n = 0;
    if (!ParseNumber(*top, n) || n < 1 || n != static_cast<double>(static_cast<size_t>(n))) {
      return Fail("diff", fmt::format("--top expects a positive integer, got '{}'", *top));
    }
    options.top_operators = static_cast<size_t>(n);
  }
  const std::string& base_path = cl.positional()[0];
  const std::string& new_path = cl.positional()[1];
  std::optional<Trace> base = LoadTrace("diff", base_path);
  if (!base) return kExitBadInput;
  std::optional<Trace> next = LoadTrace("diff", new_path);
  if (!next) return kExitBadInput;
  const TraceDiff diff = DiffTraces(*base, *next, options);
  for (const auto& [path, stats] :
       {std::pair(&base_path, &diff.base_steps), std::pair(&new_path, &diff.new_steps)}) {
    if (stats->count == 0) {
      return Fail("diff",
                  fmt::format("{}: no ProfilerStep slices: diff compares step times", *path));
    }
  }

  fmt::print("base {} ({} steps)\nnew  {} ({} steps)\n\n", base_path, diff.base_steps.count,
             new_path, diff.new_steps.count);
  Table steps;
  steps.AddColumn("Step time", Table::Align::kLeft);
  for (const char* h : {"Base", "New", "Delta"}) steps.AddColumn(h, Table::Align::kRight);
  steps.AddRow({"P50", FormatDuration(diff.base_steps.p50_ns),
                FormatDuration(diff.new_steps.p50_ns), FormatDelta(diff.p50_delta_pct)});
  steps.AddRow({"P90", FormatDuration(diff.base_steps.p90_ns),
                FormatDuration(diff.new_steps.p90_ns), FormatDelta(diff.p90_delta_pct)});
  steps.AddRow({"P99", FormatDuration(diff.base_steps.p99_ns),
                FormatDuration(diff.new_steps.p99_ns), FormatDelta(diff.p99_delta_pct)});
  steps.Print();

  fmt::print("\nTop operators by total time\n");
  Table ops;
  ops.AddColumn("Name", Table::Align::kLeft);
  ops.AddColumn("Where", Table::Align::kLeft);
  for (const char* h : {"Base calls", "New calls", "Base total", "New total", "Delta"}) {
    ops.AddColumn(h, Table::Align::kRight);
  }
  for (const OperatorDelta& op : diff.operators) {
    ops.AddRow({op.name, op.device ? "device" : "host", std::to_string(op.base_calls),
                std::to_string(op.new_calls), FormatDuration(op.base_total_ns),
                FormatDuration(op.new_total_ns),
                op.base_total_ns > 0 ? FormatDelta(op.delta_pct) : std::string("new")});
  }
  ops.Print();

  if (diff.regressed) {
    fmt::print("\nREGRESSION: step time P50 {}, P99 {} (allowed +{:.1f} %)\n",
               FormatDelta(diff.p50_delta_pct), FormatDelta(diff.p99_delta_pct),
               options.max_regression_pct);
    return kExitRegression;
  }
  fmt::print("\nOK: step time P50 {}, P99 {} (allowed +{:.1f} %)\n",
             FormatDelta(diff.p50_delta_pct), FormatDelta(diff.p99_delta_pct),
             options.max_regression_pct);
  return kExitOk;
}

}  // namespace scopetrace::cli
