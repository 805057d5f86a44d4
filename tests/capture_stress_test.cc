// Stress, meant for ThreadSanitizer: four threads scoping as fast as they can while
// another thread calls step(); every event ends up in a trace, counted as dropped, or
// counted as late. Nothing is lost uncounted.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "scopetrace/scopetrace.h"

namespace scopetrace {
namespace {

struct Totals {
  std::atomic<uint64_t> slices{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> late{0};
  std::atomic<int> traces{0};
};

void RunStress(size_t buffer_kib, uint64_t scopes_per_thread, Totals& totals) {
  constexpr int kThreads = 4;
  ProfilerOptions options;
  options.schedule = Schedule{.active = 3};  // every step recorded, a trace every 3 steps
  options.buffer_kib_per_thread = buffer_kib;
  options.on_trace_ready = [&totals](const Trace& trace) {
    uint64_t work = 0;
    for (const Slice& slice : trace.slices()) work += trace.str(slice.name) == "work";
    totals.slices += work;
    totals.dropped += trace.metadata().dropped_events;
    totals.late += trace.metadata().host_events_late;
    ++totals.traces;
  };
  Profiler profiler(options);
  ASSERT_TRUE(profiler.start().ok());
  std::atomic<int> running{kThreads};
  std::thread stepper([&] {
    while (running.load() > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      profiler.step();
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (uint64_t i = 0; i < scopes_per_thread; ++i) SCOPETRACE_SCOPE("work");
      --running;
    });
  }
  for (std::thread& thread : threads) thread.join();
  stepper.join();
  profiler.stop();
  EXPECT_EQ(totals.slices + totals.dropped + totals.late, kThreads * scopes_per_thread)
      << "slices=" << totals.slices << " dropped=" << totals.dropped << " late=" << totals.late;
  EXPECT_GT(totals.traces.load(), 1);
}

TEST(CaptureStressTest, FourThreadsMillionScopesEachWhileStepping) {
  Totals totals;
  RunStress(/*buffer_kib=*/4096, /*scopes_per_thread=*/1'000'000, totals);
  EXPECT_GT(totals.slices.load(), 0u);
}

TEST(CaptureStressTest, TinyRingsDropAndCountEverythingTheyLose) {
  Totals totals;
  RunStress(/*buffer_kib=*/4, /*scopes_per_thread=*/200'000, totals);
  EXPECT_GT(totals.dropped.load(), 0u);  // a 4 KiB ring cannot keep up
}

}  // namespace
}  // namespace scopetrace
