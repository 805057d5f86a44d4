// `scopetrace report TRACE -o OUT.html`: the self-contained HTML report of one trace
// (scopetrace/report.h does the work; this file is the command line around it).

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "fmt/format.h"
#include "scopetrace/report.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace scopetrace::cli {
namespace {

constexpr std::string_view kHelp = R"(usage: scopetrace report TRACE -o OUT.html [--top N]

Writes one self-contained HTML file (inline CSS and SVG, no script, nothing fetched from
the network) that opens offline in any browser:
  - the capture: worker, process, cycle, steps, events, dropped events, measured
    overhead against its budget, clock synchronization error;
  - the diagnosis (as 'scopetrace diagnose') with its evidence;
  - step time per step with P50 and P99 lines, and per device a stacked bar per step of
    compute, copy, overlap and idle (as 'scopetrace steps');
  - the top host scopes and device operations by total time (as 'scopetrace summary');
  - device utilization over the cycle, device memory and host counters.
Hover a bar or point for its exact values. Long captures are bucketed so the file stays
small (a 10 000-step trace gives a few hundred KiB).

options:
  -o, --output OUT.html  where to write the report (required)
  --top N                operators per chart (default 15)
)";

constexpr OptionSpec kOptions[] = {
    {.name = "-o", .takes_value = true},
    {.name = "--output", .takes_value = true},
    {.name = "--top", .takes_value = true},
};

int RunReport(int argc, char** argv) {
  CommandLine cl;
  std::string error;
  if (!cl.Parse(argc, argv, kOptions, error)) return Fail("report", error);
  if (cl.help()) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (cl.positional().size() != 1) {
    return Fail("report", "expects exactly one TRACE file and -o OUT.html (see --help)");
  }
  std::optional<std::string> output = cl.value("-o");
  if (std::optional<std::string> long_form = cl.value("--output")) {
    if (output && *output != *long_form) {
      return Fail("report", "-o and --output name different files; give one");
    }
    output = long_form;
  }
  if (!output || output->empty()) return Fail("report", "missing -o OUT.html (see --help)");

  ReportOptions options;
  options.source = cl.positional()[0];
  if (std::optional<std::string> top = cl.value("--top")) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(*top, &n) || n < 1) {
      return Fail("report", fmt::format("--top expects a positive integer, got '{}'", *top));
    }
    options.top_operators = static_cast<size_t>(n);
  }

  std::optional<Trace> trace = LoadTrace("report", cl.positional()[0]);
  if (!trace) return kExitBadInput;
  if (absl::Status written = WriteHtmlReport(*trace, *output, options); !written.ok()) {
    return Fail("report", std::string(written.message()));
  }
  fmt::print("wrote {}\n", *output);
  return kExitOk;
}

}  // namespace
}  // namespace scopetrace::cli

int RunReportCommand(int argc, char** argv) { return scopetrace::cli::RunReport(argc, argv); }
