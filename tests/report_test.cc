// The HTML report (scopetrace/report.h) checked as text: a trace whose every number is
// known gives a page holding those numbers and the expected count of bars per chart;
// names cannot inject markup; empty, device-less, one-step and 10 000-step traces all
// give a sensible page of reasonable size. Then `scopetrace report` as a user runs it
// (binary from SCOPETRACE_CLI, set by CTest).

#include "scopetrace/report.h"

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scopetrace/analysis.h"
#include "scopetrace/trace.h"
#include "tests/analysis_trace_builder.h"

namespace scopetrace {
namespace {

using ::testing::HasSubstr;
using testing::kUs;
using ::testing::Not;
using testing::TraceBuilder;

// --- Helpers --------------------------------------------------------------------------

size_t Count(std::string_view haystack, std::string_view needle) {
  size_t count = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

// The <figure> of chart `id`, or "" when the page has none.
std::string Figure(const std::string& html, std::string_view id) {
  const size_t start = html.find("data-chart=\"" + std::string(id) + "\"");
  if (start == std::string::npos) return "";
  const size_t end = html.find("</figure>", start);
  return html.substr(start, end - start);
}

// The data-bars attribute of chart `id`; -1 when missing.
int DeclaredBars(const std::string& html, std::string_view id) {
  const std::string figure = Figure(html, id);
  std::smatch match;
  if (!std::regex_search(figure, match, std::regex("data-bars=\"(\\d+)\""))) return -1;
  return std::stoi(match[1]);
}

int DrawnBars(const std::string& html, std::string_view id) {
  return static_cast<int>(Count(Figure(html, id), "<g class=\"bar\""));
}

std::string Render(const Trace& trace, const ReportOptions& options = {}) {
  absl::StatusOr<std::string> html = RenderHtmlReport(trace, options);
  EXPECT_TRUE(html.ok()) << html.status();
  return html.ok() ? *html : "";
}

// Three steps (1 ms, 1 ms, 1.5 ms) on one device with one stream: per step a 200 µs
// "preprocess" scope, an H2D copy of 50 µs and a conv2d kernel (400, 400, 800 µs).
Trace KnownTrace() {
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  for (int step = 0; step < 3; ++step) {
    const double t = 1000.0 * step;
    b.Step(step, t, step == 2 ? 1500 : 1000);
    b.Host(b.main(), "preprocess", t + 10, 200);
    b.Launch(b.main(), "copy_to_device", t + 250, 5, stream, DeviceOpKind::kMemcpyH2D, "memcpy_h2d",
             t + 260, 50);
    b.Kernel(b.main(), t + 300, 10, stream, "conv2d", t + 320, step == 2 ? 800 : 400);
  }
  Trace& trace = b.trace();
  const TrackId memory =
      trace.find_or_add_track(TrackKind::kCounter, kDevicePidBase, 0, "sim0 memory");
  const double mib = 1024.0 * 1024;
  for (auto [t_us, bytes] :
       {std::pair{0.0, 0.0}, {300.0, 1 * mib}, {1300.0, 3 * mib}, {3000.0, 1 * mib}}) {
    trace.mutable_counters().push_back(
        {.track = memory, .ts_ns = static_cast<int64_t>(t_us * kUs), .value = bytes});
  }
  TraceMetadata& meta = trace.mutable_metadata();
  meta.worker = "test-worker";
  meta.pid = TraceBuilder::kHostPid;
  meta.cycle = 2;
  meta.start_ns = 0;
  meta.end_ns = 3500 * kUs;
  meta.first_step = 0;
  meta.last_step = 2;
  meta.dropped = {{.tid = 1, .thread_name = "main", .dropped_events = 7}};
  meta.dropped_events = 7;
  meta.overhead.percent = 0.42;
  meta.overhead.budget_percent = 1.0;
  meta.clock_fits.push_back({.device = "sim0", .pairs = 12, .error_bound_ns = 1234});
  return b.Build();
}

// --- The known trace ------------------------------------------------------------------

TEST(ReportTest, HeaderHoldsTheCaptureFacts) {
  const std::string html = Render(KnownTrace());
  EXPECT_THAT(html, HasSubstr("data-field=\"worker\">test-worker"));
  EXPECT_THAT(html, HasSubstr("app (pid 100)"));
  EXPECT_THAT(html, HasSubstr("data-field=\"cycle\">2<"));
  EXPECT_THAT(html, HasSubstr("data-field=\"steps\">3<"));
  EXPECT_THAT(html, HasSubstr("#0–#2"));
  EXPECT_THAT(html, HasSubstr("data-field=\"dropped\" class=\"bad\">7<"));
  EXPECT_THAT(html, HasSubstr("main: 7"));
  EXPECT_THAT(html, HasSubstr("0.420 % of wall time"));
  EXPECT_THAT(html, HasSubstr("budget 1.00 %"));
  EXPECT_THAT(html, HasSubstr("data-field=\"clock-sync\">±1.2 µs"));
  const Trace trace = KnownTrace();
  EXPECT_THAT(html, HasSubstr("data-field=\"events\">" + std::to_string(trace.event_count())));
}

TEST(ReportTest, StepChartsHaveOneBarPerStepAndPercentileLines) {
  const std::string html = Render(KnownTrace());
  EXPECT_EQ(DeclaredBars(html, "step-time"), 3);
  EXPECT_EQ(DrawnBars(html, "step-time"), 3);
  EXPECT_EQ(DeclaredBars(html, "device-steps-0"), 3);
  EXPECT_EQ(DrawnBars(html, "device-steps-0"), 3);
  // Nearest rank over {1, 1, 1.5} ms.
  EXPECT_THAT(html, HasSubstr("P50 1.00 ms · P90 1.50 ms · P99 1.50 ms"));
  const std::string steps = Figure(html, "step-time");
  EXPECT_THAT(steps, HasSubstr("data-ref=\"P50\""));
  EXPECT_THAT(steps, HasSubstr("data-ref=\"P99\""));
  EXPECT_THAT(steps, HasSubstr("step 2\nwall 1.50 ms (1\u202f500\u202f000 ns)"));
  EXPECT_THAT(steps, HasSubstr("step time (ms)"));  // axis with its unit
  // Step 2 on sim0: kernel 800 µs, copy 50 µs, no overlap, idle 1500 - 850 = 650 µs.
  const std::string device = Figure(html, "device-steps-0");
  EXPECT_THAT(device, HasSubstr("step 2 on sim0\ncompute 800.0 µs (800\u202f000 ns)\ncopy 50.0 µs "
                                "(50\u202f000 ns)\noverlap 0 ns\nidle 650.0 µs"));
  // Four stacked parts, each in the legend.
  for (const char* key : {"compute only", "copy only", "compute and copy overlap", "idle"}) {
    EXPECT_THAT(device, HasSubstr(key));
  }
}

TEST(ReportTest, OperatorChartsShowTotalsAndCalls) {
  const std::string html = Render(KnownTrace());
  // Host: preprocess, launch conv2d, copy_to_device (steps are not operators).
  EXPECT_EQ(DeclaredBars(html, "host-operators"), 3);
  EXPECT_EQ(DrawnBars(html, "host-operators"), 3);
  EXPECT_EQ(DeclaredBars(html, "device-operators"), 2);
  EXPECT_EQ(DrawnBars(html, "device-operators"), 2);
  const std::string device = Figure(html, "device-operators");
  EXPECT_THAT(device, HasSubstr(">conv2d</text>"));
  EXPECT_THAT(device, HasSubstr("1.60 ms · "));
  EXPECT_THAT(device, HasSubstr("· 3 calls"));
  EXPECT_THAT(Figure(html, "host-operators"), HasSubstr("600.0 µs · "));
  // The largest first.
  const std::string host = Figure(html, "host-operators");
  EXPECT_LT(host.find(">preprocess<"), host.find(">launch conv2d<"));
}

TEST(ReportTest, UtilizationAndMemoryCharts) {
  ReportOptions options;
  options.utilization_buckets = 35;  // 100 µs each over the 3.5 ms window
  const std::string html = Render(KnownTrace(), options);
  EXPECT_EQ(DeclaredBars(html, "utilization-0"), 35);
  EXPECT_EQ(DrawnBars(html, "utilization-0"), 35);
  const std::string utilization = Figure(html, "utilization-0");
  // 300–400 µs: copy until 310, kernel from 320: busy 90 %, kernels 80 %.
  EXPECT_THAT(utilization, HasSubstr("0.3–0.4 ms\nbusy 90.0 %\nkernels 80.0 %"));
  EXPECT_THAT(utilization, HasSubstr("busy (%)"));
  // Busy 3 × 50 + 400 + 400 + 800 = 1750 µs of 3500.
  EXPECT_THAT(html, HasSubstr("sim0: busy 50.0 % of the cycle window"));

  const std::string memory = Figure(html, "device-memory");
  EXPECT_THAT(memory, HasSubstr("data-lines=\"1\""));
  EXPECT_THAT(memory, HasSubstr("data-points=\"5\""));  // 4 samples, the last held to 3.5 ms
  EXPECT_THAT(memory, HasSubstr("sim0 memory\nt = 1.3 ms\n3.00 MiB (3145728 bytes)"));
  EXPECT_THAT(memory, HasSubstr("memory in use (MiB)"));
}

TEST(ReportTest, DiagnosisShowsEveryFindingWithEvidence) {
  const Trace trace = KnownTrace();
  const std::string html = Render(trace);
  const Diagnosis diagnosis = Diagnose(trace);
  EXPECT_THAT(html, HasSubstr("<section id=\"diagnosis\">"));
  if (diagnosis.findings.empty()) {
    EXPECT_THAT(html, HasSubstr("data-field=\"diagnosis-note\""));
  }
  for (const Finding& f : diagnosis.findings) {
    EXPECT_THAT(html, HasSubstr(std::string(FindingKindName(f.kind))));
    EXPECT_THAT(html, HasSubstr(f.title.substr(0, f.title.find_first_of("<>&\"'"))));
  }
}

TEST(ReportTest, PageIsSelfContained) {
  const std::string html = Render(KnownTrace());
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("Content-Security-Policy"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("url(")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
  // The only URL is the SVG namespace, which is a name, never fetched.
  EXPECT_EQ(Count(html, "https:"), 0u);
  EXPECT_EQ(Count(html, "http:"), Count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
}

// --- Escaping -------------------------------------------------------------------------

TEST(ReportTest, NamesCannotInjectMarkup) {
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  b.trace().mutable_processes().back().name = "<img src=x onerror=alert(2)>";
  b.Step(0, 0, 1000);
  b.Host(b.main(), "<script>alert(1)</script>", 10, 100);
  b.Kernel(b.main(), 200, 10, stream, "\"><svg onload=alert(3)>", 220, 300);
  b.Host(b.main(), "bad \xFF utf8 \x01 and 'quotes' & more", 600, 50);
  Trace& trace = b.trace();
  const TrackId counter = trace.find_or_add_track(TrackKind::kCounter, TraceBuilder::kHostPid, 0,
                                                  "</title><script>alert(4)</script>");
  trace.mutable_counters().push_back({.track = counter, .ts_ns = 0, .value = 1});
  trace.mutable_metadata().worker = "\"><script>alert(5)</script>";
  trace.mutable_metadata().producer = "<b>producer</b>";
  trace.mutable_metadata().clock_fits.push_back({.device = "<i>dev</i>", .error_bound_ns = 10});
  const std::string html = Render(b.Build(), {.source = "<u>file</u>.json"});

  std::string lower = html;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  EXPECT_THAT(lower, Not(HasSubstr("<script")));
  EXPECT_THAT(lower, Not(HasSubstr("<img")));
  EXPECT_THAT(lower, Not(HasSubstr("<svg onload")));
  EXPECT_THAT(lower, Not(HasSubstr("<b>")));
  EXPECT_THAT(lower, Not(HasSubstr("<i>")));
  EXPECT_THAT(lower, Not(HasSubstr("<u>")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("&quot;&gt;&lt;svg onload=alert(3)&gt;"));
  EXPECT_THAT(html, HasSubstr("&lt;/title&gt;&lt;script&gt;alert(4)"));
  // Invalid UTF-8 becomes U+FFFD and control characters go, so the page stays valid.
  EXPECT_THAT(html, HasSubstr("bad \xEF\xBF\xBD utf8  and &#39;quotes&#39; &amp; more"));
  EXPECT_THAT(html, Not(HasSubstr("\x01")));
}

TEST(ReportTest, LongNamesAreShortenedWithTheFullNameInTheTooltip) {
  TraceBuilder b;
  const std::string long_name = "very_long_operator_name_" + std::string(150, 'x') + "_end";
  b.Step(0, 0, 1000);
  b.Host(b.main(), long_name, 10, 100);
  const std::string html = Render(b.Build());
  const std::string host = Figure(html, "host-operators");
  EXPECT_THAT(host, HasSubstr("<title>" + long_name + "\n"));
  EXPECT_THAT(host, HasSubstr(">very_long_operator_name_xxxxxxxxx…</text>"));
}

// --- Shapes of trace ------------------------------------------------------------------

TEST(ReportTest, EmptyTraceGivesAPageThatSaysSo) {
  const std::string html = Render(Trace());
  EXPECT_THAT(html, HasSubstr("</html>"));
  EXPECT_THAT(html, HasSubstr("No ProfilerStep slices"));
  EXPECT_THAT(html, HasSubstr("No host scopes"));
  EXPECT_THAT(html, HasSubstr("No device in this trace"));
  EXPECT_THAT(html, HasSubstr("No device memory counter"));
  EXPECT_THAT(html, HasSubstr("not measured"));
  EXPECT_EQ(Count(html, "<figure"), 0u);
}

TEST(ReportTest, TraceWithoutDevice) {
  TraceBuilder b;
  for (int i = 0; i < 4; ++i) {
    b.Step(i, 100.0 * i, 100);
    b.Host(b.main(), "work", 100.0 * i + 5, 80);
  }
  const std::string html = Render(b.Build());
  EXPECT_EQ(DrawnBars(html, "step-time"), 4);
  EXPECT_EQ(DrawnBars(html, "host-operators"), 1);
  EXPECT_EQ(Figure(html, "device-steps-0"), "");
  EXPECT_EQ(Figure(html, "utilization-0"), "");
  EXPECT_THAT(html, HasSubstr("No device operations in this trace"));
  EXPECT_THAT(html, HasSubstr("data-field=\"clock-sync\">none"));
}

TEST(ReportTest, OneStep) {
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  b.Step(7, 0, 500);
  b.Kernel(b.main(), 10, 5, stream, "gemm", 20, 300);
  const std::string html = Render(b.Build());
  EXPECT_EQ(DrawnBars(html, "step-time"), 1);
  EXPECT_EQ(DrawnBars(html, "device-steps-0"), 1);
  EXPECT_THAT(Figure(html, "step-time"), HasSubstr(">7</text>"));
}

TEST(ReportTest, TenThousandStepsAreGroupedAndTheFileStaysSmall) {
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  for (int i = 0; i < 10'000; ++i) {
    const double t = 100.0 * i;
    b.Step(i, t, 100);
    b.Kernel(b.main(), t + 5, 2, stream, "gemm", t + 10, 50 + i % 40);
  }
  const std::string html = Render(b.Build());
  EXPECT_LT(html.size(), 1u << 20) << "a 10 000-step report should stay well under 1 MiB";
  // 10 000 steps in groups of 34: 295 bars, the last group holding the remainder.
  EXPECT_EQ(DeclaredBars(html, "step-time"), 295);
  EXPECT_EQ(DrawnBars(html, "step-time"), 295);
  EXPECT_EQ(DrawnBars(html, "device-steps-0"), 295);
  EXPECT_THAT(html, HasSubstr("steps 9996–9999 (4 steps)"));
  EXPECT_THAT(html, HasSubstr("mean of each group of 34 steps"));
  EXPECT_THAT(html, HasSubstr("data-field=\"steps\">10000<"));
}

TEST(ReportTest, LongCounterSeriesAreThinnedKeepingPeaks) {
  TraceBuilder b;
  b.Stream(0, 0);
  Trace& trace = b.trace();
  const TrackId memory =
      trace.find_or_add_track(TrackKind::kCounter, kDevicePidBase, 0, "sim0 memory");
  for (int i = 0; i < 100'000; ++i) {
    const double value = i == 54'321 ? 9e9 : 1e6 * (i % 100);
    trace.mutable_counters().push_back({.track = memory, .ts_ns = i * 1000LL, .value = value});
  }
  const std::string html = Render(b.Build(), {.max_counter_points = 600});
  std::smatch match;
  const std::string memory_chart = Figure(html, "device-memory");
  ASSERT_TRUE(std::regex_search(memory_chart, match, std::regex("data-points=\"(\\d+)\"")));
  EXPECT_LE(std::stoi(match[1]), 600);
  EXPECT_THAT(memory_chart, HasSubstr("memory in use (GiB)"));  // the 9e9 peak survived
  EXPECT_LT(html.size(), 256u * 1024);
}

TEST(ReportTest, RejectsOptionsOutOfRange) {
  EXPECT_EQ(RenderHtmlReport(Trace(), {.max_step_bars = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RenderHtmlReport(Trace(), {.utilization_buckets = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ReportTest, WriteHtmlReportWritesTheFileOrNamesThePath) {
  const std::string path = ::testing::TempDir() + "scopetrace_report_test.html";
  ASSERT_TRUE(WriteHtmlReport(KnownTrace(), path).ok());
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), Render(KnownTrace()));
  const std::string bad = ::testing::TempDir() + "no/such/dir/report.html";
  const absl::Status status = WriteHtmlReport(KnownTrace(), bad);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr(bad));
}

// --- The command ----------------------------------------------------------------------

struct CliResult {
  int exit_code = -1;
  std::string err;
};

std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CliResult RunCli(const std::string& args) {
  const char* cli = std::getenv("SCOPETRACE_CLI");
  if (cli == nullptr || *cli == '\0') {
    ADD_FAILURE() << "set SCOPETRACE_CLI to the scopetrace binary (CTest does)";
    return {};
  }
  const std::string err = ::testing::TempDir() + "scopetrace_report_test.stderr";
  const std::string command =
      ShellQuote(cli) + " report " + args + " >/dev/null 2>" + ShellQuote(err);
  const int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(err);
  std::stringstream buffer;
  buffer << in.rdbuf();
  result.err = buffer.str();
  return result;
}

TEST(ReportCommandTest, WritesTheReport) {
  const std::string trace_path = ::testing::TempDir() + "scopetrace_report_cli.trace.json";
  const std::string html_path = ::testing::TempDir() + "scopetrace_report_cli.html";
  std::remove(html_path.c_str());
  ASSERT_TRUE(KnownTrace().Write(trace_path, Format::kChromeJson).ok());
  const CliResult result = RunCli(ShellQuote(trace_path) + " -o " + ShellQuote(html_path));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::ifstream in(html_path);
  std::stringstream html;
  html << in.rdbuf();
  EXPECT_THAT(html.str(), HasSubstr("scopetrace report: " + trace_path + " cycle 2"));
  EXPECT_EQ(DrawnBars(html.str(), "step-time"), 3);
}

TEST(ReportCommandTest, HelpAndErrors) {
  EXPECT_EQ(RunCli("--help").exit_code, 0);
  const CliResult no_output = RunCli(ShellQuote("x.json"));
  EXPECT_EQ(no_output.exit_code, 2);
  EXPECT_THAT(no_output.err, HasSubstr("missing -o"));
  EXPECT_EQ(Count(no_output.err, "\n"), 1u);
  const std::string missing = ::testing::TempDir() + "no_such_trace.json";
  const CliResult bad_input = RunCli(ShellQuote(missing) + " -o /dev/null");
  EXPECT_EQ(bad_input.exit_code, 2);
  EXPECT_THAT(bad_input.err, HasSubstr(missing));
  EXPECT_EQ(Count(bad_input.err, "\n"), 1u);
  const std::string trace_path = ::testing::TempDir() + "scopetrace_report_cli.trace.json";
  ASSERT_TRUE(KnownTrace().Write(trace_path, Format::kChromeJson).ok());
  const std::string unwritable = ::testing::TempDir() + "no/such/dir/out.html";
  const CliResult bad_output = RunCli(ShellQuote(trace_path) + " -o " + ShellQuote(unwritable));
  EXPECT_EQ(bad_output.exit_code, 2);
  EXPECT_THAT(bad_output.err, HasSubstr(unwritable));
  EXPECT_EQ(RunCli(ShellQuote(trace_path) + " -o x.html --top 0").exit_code, 2);
}

}  // namespace
}  // namespace scopetrace
