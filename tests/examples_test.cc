// Runs each example with short settings and checks what it prints and writes: the demo's
// naive run is host-bound and the tuned one is not and is faster, latency_baseline finds
// a knee, matmul_sweep's measured TFLOP/s match its roofline model, serving's trace has
// named worker tracks and the queue-depth counter.
//
// The examples run on the simulated device in real time, so verdicts that compare two
// timings need CPU for the application's threads. When the machine cannot give two
// threads most of a core each (an oversubscribed CI runner), those comparisons are
// retried and finally skipped with the measured CPU share; everything else is checked.
// Under a sanitizer the examples' host code runs several times slower while the device
// keeps its speed, so the tuned run can legitimately become host-bound: sanitized builds
// check what the examples print and write, and leave the timing verdicts to the
// optimized build.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "scopetrace/analysis.h"
#include "scopetrace/trace.h"

namespace scopetrace {
namespace {

using ::testing::HasSubstr;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Binary(const std::string& name) {
  return std::string(SCOPETRACE_BINARY_DIR) + "/" + name;
}

// A fresh directory for one test's output.
std::string OutputDir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::path(testing::TempDir()) /
      ("scopetrace_examples_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The smallest share of a core either of two threads spinning at once gets over 200 ms.
double CpuShareOfTwoSpinningThreads() {
  std::array<double, 2> share{};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&share, t] {
      const double cpu0 = ThreadCpuSeconds();
      const auto start = std::chrono::steady_clock::now();
      const auto end = start + std::chrono::milliseconds(200);
      while (std::chrono::steady_clock::now() < end) {
      }
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      share[t] = (ThreadCpuSeconds() - cpu0) / wall;
    });
  }
  for (std::thread& t : threads) t.join();
  return std::min(share[0], share[1]);
}

// The smallest CPU share measured so far in this test program (1 before any measurement).
double& LowestCpuShare() {
  static double lowest = 1.0;
  return lowest;
}

// Measures the CPU share now and keeps the lowest. Tests that compare timings call it
// before their runs as well as after: contention while the example ran, then gone by the
// verdict, must not turn into a failure.
void SampleCpuShare() {
  LowestCpuShare() = std::min(LowestCpuShare(), CpuShareOfTwoSpinningThreads());
}

// Whether this machine gave two threads most of a core each at every sample, this one
// included: the condition for comparing the examples' timings.
bool CpuAvailableForTimings(double* share_out = nullptr) {
  SampleCpuShare();
  if (share_out != nullptr) *share_out = LowestCpuShare();
  return LowestCpuShare() >= 0.8;
}

bool HasFinding(const Diagnosis& diagnosis, FindingKind kind) {
  return std::any_of(diagnosis.findings.begin(), diagnosis.findings.end(),
                     [&](const Finding& f) { return f.kind == kind; });
}

Trace ReadOrDie(const std::string& path) {
  absl::StatusOr<Trace> trace = ReadTrace(path);
  EXPECT_TRUE(trace.ok()) << trace.status();
  return trace.ok() ? *std::move(trace) : Trace();
}

TEST(InferenceAppTest, NaiveIsHostBoundAndTunedIsFasterAndNotHostBound) {
  const std::string out = OutputDir("inference_app");
  constexpr int kAttempts = 5;
  std::string last_failure;
  if (!kSanitized) SampleCpuShare();
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    const CommandResult run = RunCommand(Binary("inference_app") + " --quick --out " + out);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    // What a reader of the demo is promised on screen.
    for (const char* text :
         {"=== naive", "=== tuned", "Host scopes", "Device ops", "diagnosis:", "host-bound",
          "speedup", "ui.perfetto.dev", "zstd -d", "scopetrace summary"}) {
      EXPECT_THAT(run.output, HasSubstr(text));
    }
    for (const char* file : {"naive.trace.json", "naive.pftrace.zst", "naive.report.html",
                             "tuned.trace.json", "tuned.pftrace.zst", "tuned.report.html"}) {
      EXPECT_TRUE(std::filesystem::exists(out + "/" + file)) << file;
    }
    // The files, read back, say what the demo printed.
    const Trace naive = ReadOrDie(out + "/naive.trace.json");
    const Trace tuned = ReadOrDie(out + "/tuned.pftrace.zst");
    const Diagnosis naive_diagnosis = Diagnose(naive);
    // Starving the host only makes the naive run more host-bound: always checked.
    EXPECT_TRUE(HasFinding(naive_diagnosis, FindingKind::kHostBound)) << run.output;
    EXPECT_TRUE(HasFinding(naive_diagnosis, FindingKind::kCopyTrap)) << run.output;
    // The command line tool reads the same file to the same verdict.
    if (const char* cli = std::getenv("SCOPETRACE_CLI"); cli != nullptr && *cli != '\0') {
      const CommandResult diagnose =
          RunCommand(std::string(cli) + " diagnose " + out + "/naive.trace.json");
      EXPECT_EQ(diagnose.exit_code, 0);
      EXPECT_THAT(diagnose.output, HasSubstr("host-bound"));
    }
    if (kSanitized) {
      // Timing verdicts need the optimized build (see the top of this file).
      std::printf("sanitized build: naive vs tuned timings not compared\n");
      return;
    }
    const int64_t naive_p50 = AnalyzeSteps(naive).wall.p50_ns;
    const int64_t tuned_p50 = AnalyzeSteps(tuned).wall.p50_ns;
    const bool tuned_host_bound = HasFinding(Diagnose(tuned), FindingKind::kHostBound);
    if (!tuned_host_bound && tuned_p50 < naive_p50) return;
    last_failure = "tuned host-bound: " + std::to_string(tuned_host_bound) + ", step P50 naive " +
                   std::to_string(naive_p50) + " ns, tuned " + std::to_string(tuned_p50) + " ns\n" +
                   run.output;
    // A starved moment is what makes a tuned run host-bound (seen once in a clean-clone CI
    // run, three attempts in 2 s, with both samples around them fine): sample it right away.
    SampleCpuShare();
  }
  double share = 0;
  if (!CpuAvailableForTimings(&share)) {
    GTEST_SKIP() << "two spinning threads get only " << share
                 << " of a core each: too little CPU to compare naive and tuned timings; last "
                    "attempt: "
                 << last_failure;
  }
  FAIL() << "after " << kAttempts << " attempts: " << last_failure;
}

TEST(LatencyBaselineTest, PrintsPercentilesAndKnee) {
  // The model saturates at 8 images. The host's noise moves the measured knee a little,
  // and a starved CPU (late wake-ups from blocking copies) anywhere; a test process
  // running beside it can do that for one run (seen once under `ctest -j2` while another
  // build shared the two vCPUs: "knee: none"), so the knee gets a few attempts, like the
  // demo's timing verdict. The printed table is checked on every run.
  constexpr int kKneeAttempts = 3;
  std::string last_failure;
  for (int attempt = 0; attempt < kKneeAttempts; ++attempt) {
    SampleCpuShare();
    const CommandResult run = RunCommand(Binary("latency_baseline") + " --quick");
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_THAT(run.output, HasSubstr("P50"));
    EXPECT_THAT(run.output, HasSubstr("P90"));
    EXPECT_THAT(run.output, HasSubstr("P99"));
    // One row per batch size: batch, three durations, images/s.
    for (int batch : {1, 2, 4, 8, 16, 32}) {
      const std::regex row("\\n\\s*" + std::to_string(batch) + "\\s+[0-9.]+ (?:n|µ|m)?s\\s+");
      EXPECT_TRUE(std::regex_search(run.output, row)) << "no row for batch " << batch << "\n"
                                                      << run.output;
    }
    std::smatch knee;
    if (!std::regex_search(run.output, knee,
                           std::regex("knee: throughput stops growing at batch ([0-9]+)"))) {
      EXPECT_THAT(run.output, HasSubstr("knee: none")) << run.output;
      last_failure = "no knee found\n" + run.output;
      continue;
    }
    const int batch = std::stoi(knee[1]);
    if (batch >= 4 && batch <= 16) return;
    last_failure = "knee at batch " + std::to_string(batch) + ", outside 4..16\n" + run.output;
  }
  double share = 0;
  if (!CpuAvailableForTimings(&share)) {
    GTEST_SKIP() << "only " << share << " of a core per thread: too little CPU for timings; "
                 << "last attempt: " << last_failure;
  }
  FAIL() << "after " << kKneeAttempts << " attempts: " << last_failure;
}

TEST(MatmulSweepTest, TraceTflopsMatchTheRooflineModel) {
  const std::string out = OutputDir("matmul_sweep");
  const CommandResult run = RunCommand(Binary("matmul_sweep") + " --repeats 3 --out " + out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // kernel, calls, avg time, model TFLOP/s, trace TFLOP/s, bound
  const std::regex row(
      "(matmul fp(16|32) [0-9]+)\\s+([0-9]+)\\s+[0-9.]+ (?:n|µ|m)?s\\s+([0-9.]+)\\s+([0-9.]+)");
  int rows = 0;
  for (auto it = std::sregex_iterator(run.output.begin(), run.output.end(), row);
       it != std::sregex_iterator(); ++it) {
    ++rows;
    const double model = std::stod((*it)[4]);
    const double measured = std::stod((*it)[5]);
    EXPECT_EQ((*it)[3], "3") << (*it)[1];
    // Device durations are exact in the simulator; what remains is clock synchronization
    // (well under 0.1 %) and rounding to 10 ps-digit output.
    EXPECT_NEAR(measured, model, 0.01 * model) << (*it)[1];
  }
  EXPECT_EQ(rows, 6) << run.output;
  EXPECT_TRUE(std::filesystem::exists(out + "/matmul_sweep.trace.json"));
}

TEST(ServingTest, TraceHasNamedWorkerTracksAndQueueDepthCounter) {
  const std::string out = OutputDir("serving");
  const CommandResult run = RunCommand(Binary("serving") + " --quick --out " + out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("served 300 requests"));
  std::smatch path;
  ASSERT_TRUE(std::regex_search(run.output, path, std::regex("trace: (\\S+)"))) << run.output;
  const Trace trace = ReadOrDie(path[1]);
  std::vector<std::string> threads;
  TrackId queue_depth = UINT32_MAX;
  for (TrackId id = 0; id < trace.tracks().size(); ++id) {
    const Track& track = trace.tracks()[id];
    if (track.kind == TrackKind::kThread) threads.push_back(track.name);
    if (track.kind == TrackKind::kCounter && track.name == "queue_depth") queue_depth = id;
  }
  EXPECT_THAT(threads, ::testing::IsSupersetOf({"client", "worker 0", "worker 1"}));
  ASSERT_NE(queue_depth, UINT32_MAX) << "no queue_depth counter track";
  const auto samples =
      std::count_if(trace.counters().begin(), trace.counters().end(),
                    [&](const CounterSample& s) { return s.track == queue_depth; });
  // One sample per push and one per batch taken.
  EXPECT_GE(samples, 300);
  // Batches are slices on the track of the worker that ran them (which worker gets a
  // batch is up to the scheduler).
  const StringId batch = trace.find_string("batch");
  ASSERT_NE(batch, Trace::kNoString);
  int batches = 0;
  for (const Slice& s : trace.slices()) {
    if (s.name != batch) continue;
    ++batches;
    EXPECT_THAT(trace.tracks()[s.track].name, ::testing::StartsWith("worker "));
  }
  EXPECT_GT(batches, 0);
}

}  // namespace
}  // namespace scopetrace
