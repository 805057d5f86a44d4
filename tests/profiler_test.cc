// The profiler end to end on the host side: the schedule's cycles, ProfilerStep slices,
// exact per-thread event counts, nesting, timestamps, thread exit mid-cycle, invalid
// options, and trace files on disk.

#include "scopetrace/profiler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scopetrace/scopetrace.h"

namespace scopetrace {
namespace {

const Schedule kExampleSchedule{.skip_first = 1, .wait = 1, .warmup = 1, .active = 2, .repeat = 2};

struct Collected {
  std::mutex mu;
  std::vector<Trace> traces;
};

ProfilerOptions CollectInto(Collected& collected, std::optional<Schedule> schedule) {
  ProfilerOptions options;
  options.schedule = schedule;
  options.on_trace_ready = [&collected](const Trace& trace) {
    std::lock_guard<std::mutex> lock(collected.mu);
    collected.traces.push_back(trace);
  };
  return options;
}

std::vector<std::string> StepNames(const Trace& trace) {
  std::vector<std::string> names;
  for (const Slice& slice : trace.slices()) {
    if (trace.str(slice.category) == "step") names.emplace_back(trace.str(slice.name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::map<std::string, int> CountByName(const Trace& trace, int64_t tid) {
  std::map<std::string, int> counts;
  for (const Slice& slice : trace.slices()) {
    if (trace.tracks()[slice.track].tid == tid) ++counts[std::string(trace.str(slice.name))];
  }
  return counts;
}

// Four workers do a fixed amount of nested work in every step, in lock step with the main
// thread, so every count per cycle is known exactly.
TEST(ProfilerTest, FourThreadsTwelveStepsExampleSchedule) {
  Collected collected;
  Profiler profiler(CollectInto(collected, kExampleSchedule));
  ASSERT_TRUE(profiler.start().ok());
  constexpr int kWorkers = 4;
  constexpr int kSteps = 12;
  constexpr int kOuterPerStep = 10;
  std::barrier start_step(kWorkers + 1);
  std::barrier end_step(kWorkers + 1);
  std::vector<int64_t> worker_tids(kWorkers);
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      worker_tids[w] = gettid();
      set_thread_name(absl::StrCat("worker", w));
      for (int step = 0; step < kSteps; ++step) {
        start_step.arrive_and_wait();
        for (int i = 0; i < kOuterPerStep; ++i) {
          SCOPETRACE_SCOPE("outer");
          {
            SCOPETRACE_SCOPE("inner", "i", i, "step", step);
            SCOPETRACE_INSTANT("tick");
          }
          SCOPETRACE_SCOPE_DYNAMIC(absl::StrCat("dyn", w));
          SCOPETRACE_COUNTER("progress", i);
        }
        end_step.arrive_and_wait();
      }
    });
  }
  int64_t exiting_tid = 0;
  for (int step = 0; step < kSteps; ++step) {
    start_step.arrive_and_wait();
    if (step == 3) {  // a short-lived thread inside the first recorded step
      std::thread([&] {
        exiting_tid = gettid();
        for (int i = 0; i < 7; ++i) SCOPETRACE_SCOPE("short_lived");
      }).join();
    }
    end_step.arrive_and_wait();
    profiler.step();
  }
  for (std::thread& worker : workers) worker.join();
  profiler.stop();

  ASSERT_EQ(collected.traces.size(), 2u);
  std::sort(collected.traces.begin(), collected.traces.end(),
            [](const Trace& a, const Trace& b) { return a.metadata().cycle < b.metadata().cycle; });
  const Trace& first = collected.traces[0];
  const Trace& second = collected.traces[1];
  EXPECT_EQ(StepNames(first), (std::vector<std::string>{"ProfilerStep#3", "ProfilerStep#4"}));
  EXPECT_EQ(StepNames(second), (std::vector<std::string>{"ProfilerStep#7", "ProfilerStep#8"}));
  EXPECT_EQ(first.metadata().first_step, 3);
  EXPECT_EQ(first.metadata().last_step, 4);
  EXPECT_EQ(second.metadata().first_step, 7);
  EXPECT_EQ(second.metadata().last_step, 8);
  EXPECT_EQ(first.metadata().cycle, 0);
  EXPECT_EQ(second.metadata().cycle, 1);
  EXPECT_TRUE(first.metadata().has_schedule);
  EXPECT_EQ(first.metadata().schedule, kExampleSchedule);

  for (const Trace* trace : {&first, &second}) {
    EXPECT_EQ(trace->metadata().dropped_events, 0u);
    for (int w = 0; w < kWorkers; ++w) {
      const std::map<std::string, int> counts = CountByName(*trace, worker_tids[w]);
      EXPECT_EQ(counts.at("outer"), 2 * kOuterPerStep) << "worker " << w;
      EXPECT_EQ(counts.at("inner"), 2 * kOuterPerStep);
      EXPECT_EQ(counts.at(absl::StrCat("dyn", w)), 2 * kOuterPerStep);
      EXPECT_EQ(counts.size(), 3u);
    }
    int instants = 0;
    for (const Instant& instant : trace->instants()) instants += trace->str(instant.name) == "tick";
    EXPECT_EQ(instants, kWorkers * 2 * kOuterPerStep);
    EXPECT_EQ(trace->counters().size(), static_cast<size_t>(kWorkers * 2 * kOuterPerStep));
  }
  // The thread that exited mid-cycle kept all its events, in the first cycle only.
  EXPECT_EQ(CountByName(first, exiting_tid)["short_lived"], 7);
  EXPECT_EQ(CountByName(second, exiting_tid)["short_lived"], 0);

  // Thread names, args, nesting and per-thread monotonic timestamps.
  for (const Trace* trace : {&first, &second}) {
    std::map<int64_t, std::string> names;
    for (const Track& track : trace->tracks()) names[track.tid] = track.name;
    for (int w = 0; w < kWorkers; ++w) EXPECT_EQ(names[worker_tids[w]], absl::StrCat("worker", w));
    std::map<TrackId, int64_t> last_start;
    const Slice* outer = nullptr;
    for (const Slice& slice : trace->slices()) {
      auto [it, inserted] = last_start.try_emplace(slice.track, slice.start_ns);
      EXPECT_LE(it->second, slice.start_ns);  // sorted and monotonic per thread
      it->second = slice.start_ns;
      const std::string_view name = trace->str(slice.name);
      if (name == "outer") outer = &slice;
      if (name == "inner") {
        ASSERT_NE(outer, nullptr);
        EXPECT_EQ(outer->track, slice.track);
        EXPECT_LE(outer->start_ns, slice.start_ns);
        EXPECT_LE(slice.end_ns(), outer->end_ns());
        ASSERT_EQ(slice.args.size(), 2u);
        EXPECT_EQ(trace->str(slice.args[0].key), "i");
        EXPECT_EQ(trace->str(slice.args[1].key), "step");
        const int64_t step = std::get<int64_t>(slice.args[1].value);
        EXPECT_TRUE(step == 3 || step == 4 || step == 7 || step == 8) << step;
      }
    }
    // Every host event lies inside the cycle's window.
    for (const Slice& slice : trace->slices()) {
      EXPECT_GE(slice.start_ns, trace->metadata().start_ns);
      EXPECT_LE(slice.start_ns, trace->metadata().end_ns);
    }
  }
  EXPECT_EQ(profiler.stats().cycles_completed, 2);
}

TEST(ProfilerTest, StepSlicesTileTheCycleOnTheStepThread) {
  Collected collected;
  Profiler profiler(CollectInto(collected, Schedule{.wait = 1, .active = 3, .repeat = 1}));
  ASSERT_TRUE(profiler.start().ok());
  for (int step = 0; step < 6; ++step) {
    SCOPETRACE_SCOPE("body");
    profiler.step();
  }
  profiler.stop();
  ASSERT_EQ(collected.traces.size(), 1u);
  const Trace& trace = collected.traces[0];
  std::vector<const Slice*> steps;
  for (const Slice& slice : trace.slices()) {
    if (trace.str(slice.category) == "step") steps.push_back(&slice);
  }
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(trace.str(steps[0]->name), "ProfilerStep#1");
  EXPECT_EQ(steps[0]->start_ns, trace.metadata().start_ns);
  EXPECT_EQ(steps[1]->start_ns, steps[0]->end_ns());  // consecutive steps share boundaries
  EXPECT_EQ(steps[2]->start_ns, steps[1]->end_ns());
  EXPECT_EQ(steps[2]->end_ns(), trace.metadata().end_ns);
  EXPECT_EQ(trace.tracks()[steps[0]->track].tid, gettid());
}

TEST(ProfilerTest, NoScheduleIsOneCycleFromStartToStop) {
  Collected collected;
  Profiler profiler(CollectInto(collected, std::nullopt));
  ASSERT_TRUE(profiler.start().ok());
  for (int i = 0; i < 5; ++i) {
    SCOPETRACE_SCOPE("work");
    profiler.step();
  }
  { SCOPETRACE_SCOPE("tail"); }
  profiler.stop();
  ASSERT_EQ(collected.traces.size(), 1u);
  const std::map<std::string, int> counts = CountByName(collected.traces[0], gettid());
  EXPECT_EQ(counts.at("work"), 5);
  EXPECT_EQ(counts.at("tail"), 1);
  EXPECT_EQ(counts.at("ProfilerStep#5"), 1);  // the step open at stop() is kept
  EXPECT_FALSE(collected.traces[0].metadata().has_schedule);
}

TEST(ProfilerTest, StopDuringRecordHandsOverThePartialCycleAndDuringWarmupDiscards) {
  {
    Collected collected;
    Profiler profiler(CollectInto(collected, Schedule{.warmup = 1, .active = 5}));
    ASSERT_TRUE(profiler.start().ok());
    for (int i = 0; i < 3; ++i) profiler.step();  // steps 1, 2 recorded; stop in step 3
    profiler.stop();
    ASSERT_EQ(collected.traces.size(), 1u);
    EXPECT_EQ(StepNames(collected.traces[0]),
              (std::vector<std::string>{"ProfilerStep#1", "ProfilerStep#2", "ProfilerStep#3"}));
  }
  {
    Collected collected;
    Profiler profiler(CollectInto(collected, Schedule{.wait = 1, .warmup = 2, .active = 5}));
    ASSERT_TRUE(profiler.start().ok());
    profiler.step();
    profiler.step();  // in warmup now
    { SCOPETRACE_SCOPE("warm"); }
    profiler.stop();
    EXPECT_TRUE(collected.traces.empty());
    EXPECT_EQ(profiler.stats().cycles_discarded, 1);
  }
}

TEST(ProfilerTest, WarmupAndWaitEventsNeverReachATrace) {
  Collected collected;
  Profiler profiler(CollectInto(collected, Schedule{.wait = 1, .warmup = 2, .active = 1}));
  ASSERT_TRUE(profiler.start().ok());
  for (int step = 0; step < 8; ++step) {
    SCOPETRACE_SCOPE_DYNAMIC(absl::StrCat("s", step));
    profiler.step();
  }
  profiler.stop();
  ASSERT_EQ(collected.traces.size(), 2u);  // steps 3 and 7
  EXPECT_EQ(CountByName(collected.traces[0], gettid()),
            (std::map<std::string, int>{{"ProfilerStep#3", 1}, {"s3", 1}}));
  EXPECT_EQ(CountByName(collected.traces[1], gettid()),
            (std::map<std::string, int>{{"ProfilerStep#7", 1}, {"s7", 1}}));
}

TEST(ProfilerTest, InvalidOptionsAreReportedByStart) {
  {
    Profiler profiler({.schedule = Schedule{.active = 0}});
    const absl::Status status = profiler.start();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("active"), std::string::npos);
  }
  {
    Profiler profiler({.output_dir = "/proc/definitely/not/creatable"});
    const absl::Status status = profiler.start();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("/proc/definitely/not/creatable"), std::string::npos);
  }
  {
    Collected collected;
    Profiler first(CollectInto(collected, std::nullopt));
    Profiler second(CollectInto(collected, std::nullopt));
    ASSERT_TRUE(first.start().ok());
    EXPECT_EQ(first.start().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(second.start().code(), absl::StatusCode::kFailedPrecondition);
    first.stop();
    EXPECT_TRUE(second.start().ok());  // free again once the first stopped
    second.stop();
  }
}

TEST(ProfilerTest, MacrosAreInertBeforeStartAndInWaitSteps) {
  EXPECT_EQ(internal::g_capture_enabled.load(), 0u);
  Collected collected;
  Profiler profiler(CollectInto(collected, Schedule{.wait = 2, .active = 1, .repeat = 1}));
  ASSERT_TRUE(profiler.start().ok());
  EXPECT_EQ(profiler.current_action(), ProfilerAction::kNone);
  EXPECT_EQ(internal::g_capture_enabled.load(), 0u);
  profiler.step();
  profiler.step();
  EXPECT_EQ(profiler.current_action(), ProfilerAction::kRecordAndSave);
  EXPECT_EQ(internal::g_capture_enabled.load(), 1u);
  profiler.step();
  EXPECT_EQ(internal::g_capture_enabled.load(), 0u);  // repeat exhausted
  profiler.stop();
  EXPECT_EQ(collected.traces.size(), 1u);
}

TEST(ProfilerTest, WritesTwoChromeTraceFilesWithTheDefaultWriter) {
  const std::string dir = absl::StrCat(testing::TempDir(), "/profiler_files_", getpid());
  std::filesystem::remove_all(dir);
  Profiler profiler({.schedule = kExampleSchedule,
                     .output_dir = dir,
                     .formats = Format::kChromeJson,
                     .worker_name = "w"});
  ASSERT_TRUE(profiler.start().ok());
  for (int step = 0; step < 12; ++step) {
    SCOPETRACE_SCOPE("work");
    profiler.step();
  }
  profiler.stop();
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  const std::string pid = absl::StrCat(getpid());
  ASSERT_EQ(files, (std::vector<std::string>{absl::StrCat("w.", pid, ".cycle0.trace.json"),
                                             absl::StrCat("w.", pid, ".cycle1.trace.json")}));
  absl::StatusOr<Trace> trace = ReadTrace(absl::StrCat(dir, "/", files[1]));
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(StepNames(*trace), (std::vector<std::string>{"ProfilerStep#7", "ProfilerStep#8"}));
  EXPECT_EQ(trace->metadata().worker, "w");
  EXPECT_EQ(profiler.stats().export_errors, 0);
}

// A process that steps for days must not keep a record per step: the collector keeps the
// last few thousand. A scope that began before those is still accounted for: counted late
// when its step may have been recorded, silently not recorded when it was a warmup step
// (captured, never recorded).
struct LongScopeOutcome {
  uint64_t late = 0;
  int long_scopes_in_traces = 0;
  int cycles = 0;
};

LongScopeOutcome RunLongScopeOverManySteps(Schedule schedule, int steps, int begin_step) {
  std::mutex mu;
  LongScopeOutcome outcome;
  ProfilerOptions options;
  options.schedule = schedule;
  options.overhead_budget_percent = 100;
  options.on_trace_ready = [&](const Trace& trace) {
    std::lock_guard<std::mutex> lock(mu);
    ++outcome.cycles;
    outcome.late += trace.metadata().host_events_late;
    const StringId name = trace.find_string("long");
    for (const Slice& slice : trace.slices()) {
      if (name != Trace::kNoString && slice.name == name) ++outcome.long_scopes_in_traces;
    }
  };
  Profiler profiler(options);
  EXPECT_TRUE(profiler.start().ok());
  std::optional<internal::Scope> long_scope;
  for (int step = 0; step < steps; ++step) {
    if (step == begin_step) {
      long_scope.emplace(SCOPETRACE_SITE("long", "host", internal::SiteKind::kScope));
    }
    profiler.step();
    // Let cycles finish as they would in a real loop, so old steps can be let go.
    if (step % 256 == 255) std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  long_scope.reset();  // ends now, ~`steps` steps after it began
  profiler.step();
  profiler.stop();
  return outcome;
}

TEST(ProfilerTest, ScopeOlderThanTheRetainedStepsIsCountedLateIfItsStepWasRecorded) {
  const LongScopeOutcome outcome =
      RunLongScopeOverManySteps(Schedule{.active = 1}, /*steps=*/10'000, /*begin_step=*/3);
  EXPECT_EQ(outcome.cycles, 10'002);  // one per step, and the partial one at stop()
  EXPECT_EQ(outcome.late, 1u);
  EXPECT_EQ(outcome.long_scopes_in_traces, 0);
}

TEST(ProfilerTest, ScopeBegunInAPrunedWarmupStepIsNotRecordedNorLate) {
  const LongScopeOutcome outcome = RunLongScopeOverManySteps(
      Schedule{.warmup = 10'000, .active = 2, .repeat = 1}, /*steps=*/10'000, /*begin_step=*/3);
  EXPECT_EQ(outcome.cycles, 1);
  EXPECT_EQ(outcome.late, 0u);
  EXPECT_EQ(outcome.long_scopes_in_traces, 0);
}

}  // namespace
}  // namespace scopetrace

namespace scopetrace {
namespace {

// A slow on_trace_ready: cycles queue (at most a few), the collector waits for the export
// thread instead of holding more, and every cycle still arrives, complete and in order.
// The profiler reports its background threads' CPU time.
TEST(ProfilerTest, SlowExportBackPressureDeliversEveryCycleInOrder) {
  std::mutex mu;
  std::vector<std::pair<int64_t, size_t>> seen;  // (cycle, slices)
  ProfilerOptions options;
  options.schedule = Schedule{.active = 1};
  options.overhead_budget_percent = 100;  // tiny cycles: no over-budget warnings
  options.on_trace_ready = [&](const Trace& trace) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    std::lock_guard<std::mutex> lock(mu);
    seen.emplace_back(trace.metadata().cycle, trace.slices().size());
  };
  Profiler profiler(options);
  ASSERT_TRUE(profiler.start().ok());
  constexpr int kSteps = 20;
  for (int step = 0; step < kSteps; ++step) {
    for (int i = 0; i < 100; ++i) SCOPETRACE_SCOPE("work");
    profiler.step();
  }
  profiler.stop();
  // One cycle per step, plus the partial one from the last step() to stop().
  ASSERT_EQ(seen.size(), static_cast<size_t>(kSteps + 1));
  for (int k = 0; k < kSteps; ++k) {
    EXPECT_EQ(seen[k].first, k);
    EXPECT_EQ(seen[k].second, 101u) << "cycle " << k;  // 100 scopes + ProfilerStep
  }
  EXPECT_EQ(seen[kSteps].second, 1u);
  const ProfilerStats stats = profiler.stats();
  EXPECT_EQ(stats.dropped_events, 0u);
  EXPECT_GT(stats.collector_cpu_seconds, 0.0);
  EXPECT_GT(stats.exporter_cpu_seconds, 0.0);
  EXPECT_LT(stats.collector_cpu_seconds, 10.0);
}

}  // namespace
}  // namespace scopetrace
