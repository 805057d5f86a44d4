// The `scopetrace` executable, run as a user would: exit codes, one-line errors, and the
// numbers it prints for traces written through Trace::Write. The binary's path comes from
// SCOPETRACE_CLI (set by CTest; set it yourself when running this test by hand).

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scopetrace/trace.h"
#include "tests/analysis_trace_builder.h"

namespace scopetrace {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TraceBuilder;

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string TempPath(std::string_view name) {
  return ::testing::TempDir() + "scopetrace_cli_test_" + std::string(name);
}

std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CliResult RunCli(const std::vector<std::string>& args) {
  const char* cli = std::getenv("SCOPETRACE_CLI");
  if (cli == nullptr || *cli == '\0') {
    ADD_FAILURE() << "set SCOPETRACE_CLI to the scopetrace binary";
    return {};
  }
  std::string command = ShellQuote(cli);
  for (const std::string& arg : args) command += " " + ShellQuote(arg);
  const std::string out = TempPath("stdout.txt"), err = TempPath("stderr.txt");
  command += " >" + ShellQuote(out) + " 2>" + ShellQuote(err);
  const int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  return result;
}

int Lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// 10 steps of `step_us` with a "forward" of half the step and a kernel of a quarter.
Trace StepsOf(double step_us) {
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  for (int i = 0; i < 10; ++i) {
    const double t = 1000 + i * step_us;  // DevTools ignores events at ts 0
    b.Step(i, t, step_us);
    b.Host(b.main(), "forward", t, step_us / 2);
    b.Kernel(b.main(), t, 1, stream, "gemm", t + 1, step_us / 4);
  }
  b.trace().mutable_metadata().worker = "node7";
  b.trace().mutable_metadata().pid = TraceBuilder::kHostPid;
  b.trace().mutable_metadata().wall_clock_ns = 1'700'000'000'000'000'000;
  return b.Build();
}

// Writes `trace` as Chrome JSON; skips the test while the JSON writer is not built.
#define WRITE_OR_SKIP(trace, path)                                                  \
  do {                                                                              \
    const absl::Status written = (trace).Write((path), Format::kChromeJson);        \
    if (absl::IsUnimplemented(written)) GTEST_SKIP() << "JSON writer: " << written; \
    ASSERT_TRUE(written.ok()) << written;                                           \
  } while (0)

TEST(CliUsageTest, NoCommandUnknownCommandAndHelp) {
  CliResult r = RunCli({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Lines(r.err), 1);
  r = RunCli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'frobnicate'"));
  r = RunCli({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("usage: scopetrace <command>"));
  for (const char* command : {"summary", "steps", "diagnose", "diff", "convert", "merge"}) {
    r = RunCli({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_THAT(r.out, HasSubstr(std::string("usage: scopetrace ") + command)) << command;
  }
}

TEST(CliUsageTest, BadArgumentsExitTwoWithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"summary"},
      {"summary", "a.json", "b.json"},
      {"summary", "a.json", "--bogus"},
      {"summary", "a.json", "--top", "abc"},
      {"summary", "a.json", "--top"},
      {"summary", "a.json", "--csv", "--json"},
      {"steps"},
      {"diff", "a.json"},
      {"diff", "a.json", "b.json", "--max-regression", "x"},
      {"convert", "a.json"},
      {"convert", "a.json", "out.txt"},
      {"merge", "a.json"},
      {"merge", "-o", "out.json"},
  };
  for (const auto& args : cases) {
    const CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args);
    EXPECT_EQ(Lines(r.err), 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("scopetrace " + args[0] + ": "));
  }
  EXPECT_THAT(RunCli({"summary", "a.json", "--bogus"}).err, HasSubstr("'--bogus'"));
  EXPECT_THAT(RunCli({"convert", "a.json", "out.txt"}).err, HasSubstr("out.txt"));
}

TEST(CliInputTest, MissingCorruptedAndTruncatedFiles) {
  const std::string missing = TempPath("does_not_exist.trace.json");
  for (const char* command : {"summary", "steps", "diagnose"}) {
    const CliResult r = RunCli({command, missing});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(Lines(r.err), 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr(missing));
  }
  const std::string garbage_json = TempPath("garbage.trace.json");
  std::ofstream(garbage_json) << "{\"traceEvents\": [ {\"ph\": \"X\", \"ts\": tru";
  const std::string garbage_bin = TempPath("garbage.pftrace");
  std::ofstream(garbage_bin, std::ios::binary) << std::string("\x0a\xff\xff\xff\xff\x0f\x01", 7);
  const std::string empty = TempPath("empty.trace.json");
  std::ofstream(empty).flush();
  for (const std::string& path : {garbage_json, garbage_bin, empty}) {
    const CliResult r = RunCli({"summary", path});
    // A reader may recover a cut file (exit 0 with a warning) or reject it (exit 2),
    // but never crash or print more than one line of error.
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 2) << path << " exit " << r.exit_code;
    if (r.exit_code == 2) {
      EXPECT_EQ(Lines(r.err), 1) << r.err;
      EXPECT_THAT(r.err, HasSubstr(path));
    }
  }
  EXPECT_EQ(RunCli({"summary", empty}).exit_code, 2);
}

TEST(CliTraceTest, SummaryTablesCsvJsonTop) {
  const std::string path = TempPath("steps.trace.json");
  WRITE_OR_SKIP(StepsOf(1000), path);
  CliResult r = RunCli({"summary", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("worker node7  pid 100"));
  EXPECT_THAT(r.out, HasSubstr("Host scopes (2 rows)"));
  EXPECT_THAT(r.out, HasSubstr("Device ops (1 row)"));
  EXPECT_THAT(r.out, HasSubstr("forward"));
  EXPECT_THAT(r.out, Not(HasSubstr("ProfilerStep#")));

  r = RunCli({"summary", path, "--csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("table,name,args,calls,total_ns,self_ns,avg_ns,min_ns,p50_ns,"
                               "p99_ns,max_ns,percent\n"));
  // forward: 10 × 500 µs, with a 1 µs launch inside each; host self 5 ms in total.
  EXPECT_THAT(r.out, HasSubstr("host,forward,,10,5000000,4990000,500000.0,500000,500000,500000,"
                               "500000,100.000\n"));
  EXPECT_THAT(r.out, HasSubstr("device,gemm,,10,2500000,2500000,250000.0,250000,250000,"
                               "250000,250000,100.000\n"));

  r = RunCli({"summary", path, "--json", "--top", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"name\": \"forward\""));
  EXPECT_THAT(r.out, Not(HasSubstr("\"name\": \"launch gemm\"")));
  EXPECT_THAT(r.out, HasSubstr("\"worker\": \"node7\""));
}

TEST(CliTraceTest, StepsAndDiagnose) {
  const std::string path = TempPath("steps2.trace.json");
  WRITE_OR_SKIP(StepsOf(1000), path);
  CliResult r = RunCli({"steps", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("10 steps"));
  EXPECT_THAT(r.out, HasSubstr("sim0 compute"));
  EXPECT_THAT(r.out,
              HasSubstr("step wall time: mean 1.00 ms  P50 1.00 ms  P90 1.00 ms  P99 1.00 ms"));
  EXPECT_THAT(r.out, HasSubstr("throughput: 1000.00 steps/s"));
  r = RunCli({"diagnose", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliTraceTest, TracesWithoutStepsOrEvents) {
  TraceBuilder b;
  b.Host(b.main(), "forward", 1000, 10);
  const std::string no_steps = TempPath("nosteps.trace.json");
  WRITE_OR_SKIP(b.Build(), no_steps);
  CliResult r = RunCli({"summary", no_steps});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("forward"));
  r = RunCli({"steps", no_steps});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("no ProfilerStep slices"));
  r = RunCli({"diagnose", no_steps});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("no ProfilerStep slices"));

  const std::string empty = TempPath("noevents.trace.json");
  WRITE_OR_SKIP(Trace(), empty);
  r = RunCli({"summary", empty});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(none)"));
}

TEST(CliTraceTest, DiffExitCodes) {
  const std::string base = TempPath("base.trace.json");
  const std::string same = TempPath("same.trace.json");
  const std::string slower = TempPath("slower.trace.json");
  WRITE_OR_SKIP(StepsOf(1000), base);
  WRITE_OR_SKIP(StepsOf(1000), same);
  WRITE_OR_SKIP(StepsOf(1100), slower);
  CliResult r = RunCli({"diff", base, slower});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.out, HasSubstr("REGRESSION"));
  EXPECT_THAT(r.out, HasSubstr("+10.0 %"));
  r = RunCli({"diff", base, same});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("OK: step time P50 +0.0 %, P99 +0.0 %"));
  EXPECT_EQ(RunCli({"diff", base, slower, "--max-regression", "15"}).exit_code, 0);
  EXPECT_EQ(RunCli({"diff", base, slower, "--max-regression=9.9"}).exit_code, 1);

  TraceBuilder b;
  b.Host(b.main(), "forward", 1000, 10);
  const std::string no_steps = TempPath("diff_nosteps.trace.json");
  WRITE_OR_SKIP(b.Build(), no_steps);
  r = RunCli({"diff", base, no_steps});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(no_steps + ": no ProfilerStep slices"));
}

TEST(CliTraceTest, ConvertAndMerge) {
  const std::string in = TempPath("convert_in.trace.json");
  WRITE_OR_SKIP(StepsOf(1000), in);
  const std::string out = TempPath("convert_out.trace.json");
  CliResult r = RunCli({"convert", in, out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  absl::StatusOr<Trace> converted = ReadTrace(out);
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->slices().size(), 40u);

  const std::string merged = TempPath("merged.trace.json");
  r = RunCli({"merge", in, out, "-o", merged});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  absl::StatusOr<Trace> trace = ReadTrace(merged);
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->slices().size(), 80u);
  EXPECT_EQ(trace->processes().size(), 4u);  // two hosts and two devices, pids remapped
}

}  // namespace
}  // namespace scopetrace
