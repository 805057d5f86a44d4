// The subcommands of the `scopetrace` tool. Each takes the arguments after the program
// name (argv[0] is the command name), prints its results on stdout and returns the
// process exit code: 0 fine, 1 regression found (diff), 2 bad input or usage (with one
// line on stderr naming the file and what is wrong).

#ifndef SCOPETRACE_TOOLS_COMMANDS_H_
#define SCOPETRACE_TOOLS_COMMANDS_H_

namespace scopetrace::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRegression = 1;
inline constexpr int kExitBadInput = 2;

int RunSummaryCommand(int argc, char** argv);
int RunStepsCommand(int argc, char** argv);
int RunDiagnoseCommand(int argc, char** argv);
int RunDiffCommand(int argc, char** argv);
int RunConvertCommand(int argc, char** argv);
int RunMergeCommand(int argc, char** argv);

}  // namespace scopetrace::cli

// `scopetrace report TRACE -o report.html` (tools/report_command.cc).
int RunReportCommand(int argc, char** argv);

#endif  // SCOPETRACE_TOOLS_COMMANDS_H_
