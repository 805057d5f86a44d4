// Soak: 1 000 short cycles back to back (active=1: every step is a cycle written by the
// default writer). Resident memory stays flat after warm-up (< 8 MiB growth from cycle
// 100 to the last), no file descriptor leaks, and every cycle's file is complete.
// SCOPETRACE_SOAK_CYCLES overrides the count; sanitizer builds default to 300 cycles and
// skip the memory bound (their allocators quarantine freed memory on purpose).

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "scopetrace/scopetrace.h"

namespace scopetrace {
namespace {

namespace fs = std::filesystem;

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

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

size_t OpenFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++n;
  return n;
}

std::string CyclePath(const std::string& dir, int cycle) {
  return dir + "/soak." + std::to_string(getpid()) + ".cycle" + std::to_string(cycle) +
         ".trace.json";
}

void WaitForFile(const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(path) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// Waits until `n` cycle files are in `dir` (the writer runs on its own thread).
void WaitForFiles(const std::string& dir, size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (FilesIn(dir) < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TEST(SoakTest, ThousandCyclesFlatMemoryNoFdLeakEveryFileComplete) {
  int cycles = kSanitized ? 300 : 1000;
  if (const char* env = std::getenv("SCOPETRACE_SOAK_CYCLES")) cycles = std::atoi(env);
  constexpr int kScopesPerCycle = 50;
  constexpr int kWarmCycles = 100;
  constexpr int64_t kMaxGrowth = 8 << 20;

  std::string pattern = (fs::temp_directory_path() / "scopetrace_soak_XXXXXX").string();
  const std::string dir = mkdtemp(pattern.data());
  const size_t fds_before = OpenFds();
  int64_t rss_warm = 0;
  {
    Profiler profiler({.schedule = Schedule{.wait = 0, .warmup = 0, .active = 1, .repeat = 0},
                       .output_dir = dir,
                       .worker_name = "soak",
                       // The step thread registers after start(): its ring is 256 KiB, so
                       // the ring's pages (touched as its head advances, then resident)
                       // are a small, fixed part of the budget.
                       .buffer_kib_per_thread = 256,
                       // Tiny cycles are all overhead; 1 000 warnings would be noise.
                       .overhead_budget_percent = 100.0});
    ASSERT_TRUE(profiler.start().ok());
    for (int step = 0; step < cycles; ++step) {
      for (int i = 0; i < kScopesPerCycle; ++i) {
        SCOPETRACE_SCOPE("soak", "step", step);
      }
      profiler.step();
      // An application's steps take far longer than writing a 50-event cycle; keep the
      // writer at most two cycles behind, as it would be, so the memory measured is the
      // steady state and not a backlog (the export queue is not bounded).
      if (step >= 2) WaitForFile(CyclePath(dir, step - 2));
      if (step + 1 == kWarmCycles) {
        WaitForFiles(dir, kWarmCycles);
        rss_warm = ResidentBytes();
      }
    }
    WaitForFiles(dir, cycles);
    const int64_t rss_end = ResidentBytes();
    if (!kSanitized && cycles >= kWarmCycles) {
      EXPECT_LT(rss_end - rss_warm, kMaxGrowth) << "RSS at cycle " << kWarmCycles << ": "
                                                << rss_warm << ", at " << cycles << ": " << rss_end;
    }
    std::printf("soak: %d cycles, RSS %lld KiB at cycle %d, %lld KiB at the end\n", cycles,
                static_cast<long long>(rss_warm >> 10), kWarmCycles,
                static_cast<long long>(rss_end >> 10));
    profiler.stop();
    const ProfilerStats stats = profiler.stats();
    EXPECT_EQ(stats.cycles_completed, cycles + 1);  // + the empty cycle stop() closed
    EXPECT_EQ(stats.export_errors, 0);
    EXPECT_EQ(stats.dropped_events, 0u);
  }
  EXPECT_EQ(OpenFds(), fds_before) << "file descriptors leaked";
  // Exactly one file per cycle, no temporary files, each complete with its 50 scopes.
  EXPECT_EQ(FilesIn(dir), static_cast<size_t>(cycles + 1));
  for (int cycle = 0; cycle < cycles; ++cycle) {
    const std::string path = CyclePath(dir, cycle);
    absl::StatusOr<Trace> trace = ReadTrace(path);
    ASSERT_TRUE(trace.ok()) << trace.status();
    ASSERT_FALSE(trace->metadata().truncated) << path;
    size_t soak = 0;
    for (const Slice& slice : trace->slices()) {
      if (trace->strings()[slice.name] == "soak") ++soak;
    }
    ASSERT_EQ(soak, static_cast<size_t>(kScopesPerCycle)) << path;
    ASSERT_EQ(trace->metadata().first_step, cycle) << path;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace scopetrace
