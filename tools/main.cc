// `scopetrace`: the command line tool. Dispatches to one subcommand per file
// (tools/*_command.cc); see tools/commands.h for the exit code contract.

#include <string_view>

#include "fmt/format.h"
#include "tools/commands.h"

namespace {

constexpr std::string_view kUsage = R"(usage: scopetrace <command> [options]

Reads .trace.json, .pftrace and .pftrace.zst files.

commands:
  summary TRACE     operator table for host scopes and device ops
  steps TRACE       per-step wall, host busy, device compute/copy/overlap/idle
  diagnose TRACE    the bottleneck, with evidence and what to try
  diff BASE NEW     step time percentiles and top operators; exit 1 on regression
  convert IN OUT    convert between formats (chosen by extension)
  merge IN... -o OUT  several processes or ranks on one timeline
  report TRACE -o OUT.html  self-contained HTML report

'scopetrace <command> --help' describes each command.
exit codes: 0 fine, 1 regression found (diff), 2 bad input or usage.
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace scopetrace::cli;
  if (argc < 2) {
    fmt::print(stderr, "scopetrace: missing command (see scopetrace --help)\n");
    return kExitBadInput;
  }
  const std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    fmt::print("{}", kUsage);
    return kExitOk;
  }
  // Each command sees its own name as argv[0].
  const int sub_argc = argc - 1;
  char** sub_argv = argv + 1;
  if (command == "summary") return RunSummaryCommand(sub_argc, sub_argv);
  if (command == "steps") return RunStepsCommand(sub_argc, sub_argv);
  if (command == "diagnose") return RunDiagnoseCommand(sub_argc, sub_argv);
  if (command == "diff") return RunDiffCommand(sub_argc, sub_argv);
  if (command == "convert") return RunConvertCommand(sub_argc, sub_argv);
  if (command == "merge") return RunMergeCommand(sub_argc, sub_argv);
  if (command == "report") return RunReportCommand(sub_argc, sub_argv);
  fmt::print(stderr, "scopetrace: unknown command '{}' (see scopetrace --help)\n", command);
  return kExitBadInput;
}
