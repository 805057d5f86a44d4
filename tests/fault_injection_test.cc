// Faults a profiler must survive inside someone else's process: the output directory
// vanishing, the disk filling mid-write (RLIMIT_FSIZE), a throwing on_trace_ready, exit()
// without stop(), fork() while capturing, thousands of short-lived threads, hostile names,
// a device that never delivers some records, and no thread to spare. Each asserts exact counts:
// every event is in the trace or counted as dropped, and every failure is reported.

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "scopetrace/scopetrace.h"
#include "scopetrace/sim/device.h"
#include "src/thread_registry.h"

namespace scopetrace {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// A fresh directory under /tmp, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "scopetrace_fault_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::set<std::string> ListDir(const std::string& dir) {
  std::set<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

bool WaitFor(const std::function<bool()>& done, milliseconds timeout = milliseconds(10000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

// Slices of `trace` whose name is `name`.
size_t CountSlices(const Trace& trace, std::string_view name) {
  size_t n = 0;
  for (const Slice& slice : trace.slices()) {
    if (trace.strings()[slice.name] == name) ++n;
  }
  return n;
}

std::string CyclePath(const std::string& dir, int cycle, pid_t pid = getpid()) {
  return dir + "/w." + std::to_string(pid) + ".cycle" + std::to_string(cycle) + ".trace.json";
}

// Collects every cycle handed over.
struct Sink {
  std::mutex mu;
  std::vector<std::unique_ptr<Trace>> traces;
  std::function<void(const Trace&)> callback() {
    return [this](const Trace& trace) {
      std::lock_guard lock(mu);
      traces.push_back(std::make_unique<Trace>(trace));
    };
  }
};

// One recorded step per cycle: every step() hands a cycle over.
constexpr Schedule kCyclePerStep{.wait = 0, .warmup = 0, .active = 1, .repeat = 0};

TEST(FaultTest, OutputDirectoryRemovedThenRestored) {
  TempDir tmp;
  const std::string out = tmp.path() + "/out";
  Profiler profiler({.schedule = kCyclePerStep, .output_dir = out, .worker_name = "w"});
  ASSERT_TRUE(profiler.start().ok());
  fs::remove_all(out);  // the application (or an admin) removes it mid-run
  testing::internal::CaptureStderr();
  { SCOPETRACE_SCOPE("lost_cycle"); }
  profiler.step();
  ASSERT_TRUE(WaitFor([&] { return profiler.stats().export_errors == 1; }));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("scopetrace: cycle 0 not exported"), std::string::npos) << err;
  ProfilerStats stats = profiler.stats();
  EXPECT_FALSE(stats.last_export_error.ok());
  EXPECT_NE(stats.last_export_error.message().find("cycle0"), std::string::npos)
      << stats.last_export_error;
  EXPECT_TRUE(profiler.running());

  fs::create_directories(out);  // space returns: the next cycle is written
  { SCOPETRACE_SCOPE("kept_cycle"); }
  profiler.step();
  profiler.stop();
  stats = profiler.stats();
  EXPECT_EQ(stats.cycles_completed, 3);  // cycle 2 is the (empty) one stop() closed
  EXPECT_EQ(stats.export_errors, 1);
  EXPECT_EQ(ListDir(out),
            (std::set<std::string>{"w." + std::to_string(getpid()) + ".cycle1.trace.json",
                                   "w." + std::to_string(getpid()) + ".cycle2.trace.json"}));
  absl::StatusOr<Trace> kept = ReadTrace(CyclePath(out, 1));
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_FALSE(kept->metadata().truncated);
  EXPECT_EQ(CountSlices(*kept, "kept_cycle"), 1u);
  EXPECT_EQ(CountSlices(*kept, "lost_cycle"), 0u);
}

// The disk "fills" mid-write: RLIMIT_FSIZE makes write() fail with EFBIG (SIGXFSZ is
// ignored, as a process that must survive a full disk would). The writer reports the
// error, removes its temporary file, and the next cycle is written once the limit lifts.
TEST(FaultTest, DiskFullMidWriteThenSpaceReturns) {
  TempDir tmp;
  constexpr int kScopes = 4000;  // ~100 bytes of JSON each: far over the 16 KiB limit
  Profiler profiler({.schedule = kCyclePerStep, .output_dir = tmp.path(), .worker_name = "w"});
  ASSERT_TRUE(profiler.start().ok());
  struct sigaction ignore {
  }, old_action{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGXFSZ, &ignore, &old_action), 0);
  rlimit old_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = 16 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);

  testing::internal::CaptureStderr();
  for (int i = 0; i < kScopes; ++i) {
    SCOPETRACE_SCOPE("full_disk");
  }
  profiler.step();
  const bool failed = WaitFor([&] { return profiler.stats().export_errors == 1; });
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ASSERT_TRUE(failed) << "a write over RLIMIT_FSIZE was not reported";
  EXPECT_NE(err.find("scopetrace: cycle 0 not exported"), std::string::npos) << err;
  EXPECT_FALSE(profiler.stats().last_export_error.ok());
  EXPECT_TRUE(ListDir(tmp.path()).empty()) << "no final file, no temporary file left";

  for (int i = 0; i < kScopes; ++i) {
    SCOPETRACE_SCOPE("space_back");
  }
  profiler.step();
  profiler.stop();
  sigaction(SIGXFSZ, &old_action, nullptr);
  EXPECT_EQ(profiler.stats().export_errors, 1);
  EXPECT_FALSE(fs::exists(CyclePath(tmp.path(), 0)));
  absl::StatusOr<Trace> written = ReadTrace(CyclePath(tmp.path(), 1));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_FALSE(written->metadata().truncated);
  EXPECT_EQ(CountSlices(*written, "space_back") + written->metadata().dropped_events,
            static_cast<uint64_t>(kScopes));
  EXPECT_EQ(written->metadata().dropped_events, 0u);
  EXPECT_EQ(ListDir(tmp.path()).size(), 2u);  // cycles 1 and 2, nothing else
}

TEST(FaultTest, ThrowingOnTraceReadyIsContainedAndCaptureGoesOn) {
  std::mutex mu;
  std::vector<int64_t> delivered;
  std::vector<size_t> events;
  auto on_trace_ready = [&](const Trace& trace) {
    const int64_t cycle = trace.metadata().cycle;
    if (cycle == 1) throw std::runtime_error("disk on fire");
    if (cycle == 3) throw 42;  // not even a std::exception
    std::lock_guard lock(mu);
    delivered.push_back(cycle);
    events.push_back(CountSlices(trace, "work"));
  };
  Profiler profiler({.schedule = kCyclePerStep, .on_trace_ready = on_trace_ready});
  ASSERT_TRUE(profiler.start().ok());
  testing::internal::CaptureStderr();
  for (int step = 0; step < 5; ++step) {
    for (int i = 0; i <= step; ++i) {
      SCOPETRACE_SCOPE("work");
    }
    profiler.step();
  }
  profiler.stop();
  const std::string err = testing::internal::GetCapturedStderr();
  const ProfilerStats stats = profiler.stats();
  EXPECT_EQ(stats.cycles_completed, 6);  // 5 steps + the empty one stop() closed
  EXPECT_EQ(stats.export_errors, 2);
  EXPECT_EQ(stats.last_export_error.message(), "on_trace_ready threw a non-standard exception");
  EXPECT_NE(err.find("cycle 1 not exported: on_trace_ready threw: disk on fire"), std::string::npos)
      << err;
  EXPECT_EQ(delivered, (std::vector<int64_t>{0, 2, 4, 5}));
  EXPECT_EQ(events, (std::vector<size_t>{1, 3, 5, 0}));
}

// Runs `child` in a fork()ed child; returns its exit status, or -1 when it did not end
// within `timeout` (it is killed then: a hang is a failure, never a hung test).
int RunInChild(const std::function<int()>& child, milliseconds timeout = milliseconds(20000)) {
  const pid_t pid = fork();
  if (pid == 0) _exit(child());
  int status = 0;
  const bool ended = WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!ended) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// exit() without stop(): the exit handler stops the active profiler, so the open
// cycle is written completely before the process ends.
TEST(FaultTest, ExitWithoutStopFlushesTheOpenCycle) {
  TempDir tmp;
  constexpr int kScopes = 500;
  const int status = RunInChild([&]() -> int {
    // Never stopped or destroyed: nothing but the exit handler will stop it. Held by a
    // static so LeakSanitizer (ASan stage) sees a live object, as in an application
    // whose profiler is a global, rather than a leak of the test's own making.
    static Profiler* profiler = nullptr;
    profiler = new Profiler({.output_dir = tmp.path(), .worker_name = "w"});
    if (!profiler->start().ok()) return 3;
    for (int i = 0; i < kScopes; ++i) {
      SCOPETRACE_SCOPE("before_exit");
    }
    std::exit(0);  // runs atexit handlers, like returning from main
  });
  ASSERT_EQ(status, 0);
  // The child's pid names the file; find the one file written.
  const std::set<std::string> files = ListDir(tmp.path());
  ASSERT_EQ(files.size(), 1u);
  const std::string name = *files.begin();
  EXPECT_EQ(name.rfind(".cycle0.trace.json"), name.size() - 18) << name;
  absl::StatusOr<Trace> trace = ReadTrace(tmp.path() + "/" + name);
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_FALSE(trace->metadata().truncated);
  EXPECT_EQ(CountSlices(*trace, "before_exit") + trace->metadata().dropped_events,
            static_cast<uint64_t>(kScopes));
  EXPECT_EQ(trace->metadata().dropped_events, 0u);
}

// fork() while another thread records: the child must not deadlock on a lock a vanished
// thread held, its profiler is off, and the parent's capture is complete.
TEST(FaultTest, ForkWhileCapturing) {
  Sink sink;
  Profiler profiler({.on_trace_ready = sink.callback()});
  ASSERT_TRUE(profiler.start().ok());
  std::atomic<bool> done{false};
  std::atomic<uint64_t> worker_events{0};
  std::thread worker([&] {
    while (!done.load()) {
      SCOPETRACE_SCOPE("worker");
      worker_events.fetch_add(1);
    }
  });
  for (int i = 0; i < 10; ++i) {
    SCOPETRACE_SCOPE("before_fork");
  }
  ASSERT_TRUE(WaitFor([&] { return worker_events.load() > 1000; }));
  constexpr int kForks = 20;  // each fork lands at a different point of the worker's loop
  for (int f = 0; f < kForks; ++f) {
    const int status = RunInChild([&]() -> int {
      if (profiler.running()) return 10;
      if (internal::CaptureEnabled()) return 11;
      const int64_t step = profiler.current_step();
      profiler.step();  // no-ops: the collector and exporter threads are not here
      if (profiler.current_step() != step) return 12;
      for (int i = 0; i < 100; ++i) {
        SCOPETRACE_SCOPE("in_child");  // records nothing; must not block either
      }
      profiler.stop();
      if (profiler.running()) return 13;
      return 0;
    });
    ASSERT_EQ(status, 0) << "fork " << f << (status == -1 ? ": child hung" : "");
  }
  for (int i = 0; i < 10; ++i) {
    SCOPETRACE_SCOPE("after_fork");
  }
  done = true;
  worker.join();
  profiler.stop();
  ASSERT_EQ(sink.traces.size(), 1u);
  const Trace& trace = *sink.traces[0];
  EXPECT_EQ(CountSlices(trace, "before_fork"), 10u);
  EXPECT_EQ(CountSlices(trace, "after_fork"), 10u);
  EXPECT_EQ(CountSlices(trace, "in_child"), 0u);
  EXPECT_EQ(CountSlices(trace, "worker") + trace.metadata().dropped_events, worker_events.load());
}

// Threads refused: a process out of threads (or of address space for their stacks) makes
// start() return an error rather than the std::system_error ending the process, and a
// streamed cycle falls back to memory and is written whole. In a child whose default
// thread stack is made 1 TiB (pthread_setattr_default_np), so every new thread fails.
bool RefuseNewThreads(bool refuse) {
  static size_t usual_stack = [] {
    pthread_attr_t attr;
    size_t size = 8 << 20;
    if (pthread_getattr_default_np(&attr) == 0) {
      pthread_attr_getstacksize(&attr, &size);
      pthread_attr_destroy(&attr);
    }
    return size;
  }();
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, refuse ? size_t{1} << 40 : usual_stack);
  const bool ok = pthread_setattr_default_np(&attr) == 0;
  pthread_attr_destroy(&attr);
  return ok;
}

TEST(FaultTest, NoThreadsIsAnErrorNotACrash) {
  TempDir tmp;
  const int status = RunInChild([&]() -> int {
    if (!RefuseNewThreads(true)) return 2;
    {
      Profiler profiler({.output_dir = tmp.path(), .worker_name = "w"});
      const absl::Status started = profiler.start();
      if (started.ok()) return 3;  // a thread could start after all: nothing is tested
      if (started.code() != absl::StatusCode::kResourceExhausted) return 4;
      if (std::string(started.message()).find("cannot start the scopetrace") == std::string::npos) {
        return 5;
      }
      if (profiler.running()) return 6;
    }
    // Nothing was left half started: with threads again, a profiler starts and captures.
    if (!RefuseNewThreads(false)) return 7;
    Profiler profiler({.output_dir = tmp.path(), .worker_name = "w"});
    if (!profiler.start().ok()) return 8;
    for (int i = 0; i < 100; ++i) {
      SCOPETRACE_SCOPE("after");
    }
    profiler.stop();
    absl::StatusOr<Trace> trace = ReadTrace(CyclePath(tmp.path(), 0));
    if (!trace.ok() || CountSlices(*trace, "after") != 100) return 9;
    return 0;
  });
  ASSERT_EQ(status, 0) << (status == -1 ? "child hung" : "child failed");
}

TEST(FaultTest, StreamedCycleWithoutThreadsIsWrittenWhole) {
  TempDir tmp;
  constexpr int kScopes = 1000;
  const int status = RunInChild([&]() -> int {
    Profiler profiler({.schedule = Schedule{.wait = 1, .active = 2},
                       .output_dir = tmp.path(),
                       .formats = Format::kPerfettoZstd,
                       .worker_name = "w",
                       .streaming = true});
    if (!profiler.start().ok()) return 2;
    // Profiler threads are up; the recorded cycle's streaming threads (encoder, zstd) are
    // started when it begins, and are refused.
    if (!RefuseNewThreads(true)) return 3;
    profiler.step();  // WAIT -> RECORD
    for (int i = 0; i < kScopes; ++i) {
      SCOPETRACE_SCOPE("work");
    }
    profiler.step();
    profiler.step();  // the cycle ends
    profiler.stop();
    RefuseNewThreads(false);
    const std::string path = tmp.path() + "/w." + std::to_string(getpid()) + ".cycle0.pftrace.zst";
    absl::StatusOr<Trace> trace = ReadTrace(path);
    if (!trace.ok()) return 4;
    if (CountSlices(*trace, "work") + trace->metadata().dropped_events != kScopes) return 5;
    if (CountSlices(*trace, "work") == 0) return 6;
    return 0;
  });
  ASSERT_EQ(status, 0) << (status == -1 ? "child hung" : "child failed");
}

// Thousands of threads come and go during one capture: every event is in the trace or
// counted as dropped, and the registry shrinks back to the threads still alive.
TEST(FaultTest, ThousandsOfShortLivedThreads) {
  constexpr int kThreads = 3000;
  constexpr int kBatch = 50;
  constexpr int kScopesPerThread = 10;
  Sink sink;
  Profiler profiler({.on_trace_ready = sink.callback(), .buffer_kib_per_thread = 16});
  ASSERT_TRUE(profiler.start().ok());
  { SCOPETRACE_SCOPE("main"); }  // the main thread stays registered
  size_t peak = 0;
  for (int b = 0; b < kThreads / kBatch; ++b) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kBatch; ++t) {
      threads.emplace_back([] {
        for (int i = 0; i < kScopesPerThread; ++i) {
          SCOPETRACE_SCOPE("short_lived");
        }
      });
    }
    for (std::thread& t : threads) t.join();
    peak = std::max(peak, internal::ThreadRegistry::Get().size());
  }
  // The collector reaps exited threads once drained: back to the live ones.
  EXPECT_TRUE(WaitFor([] { return internal::ThreadRegistry::Get().size() <= 1; }))
      << internal::ThreadRegistry::Get().size();
  profiler.stop();
  ASSERT_EQ(sink.traces.size(), 1u);
  const Trace& trace = *sink.traces[0];
  EXPECT_EQ(CountSlices(trace, "short_lived") + trace.metadata().dropped_events,
            static_cast<uint64_t>(kThreads) * kScopesPerThread);
  EXPECT_EQ(trace.metadata().dropped_events, 0u);
  EXPECT_LT(peak, static_cast<size_t>(kThreads)) << "the registry grew without bound";
}

// Names no one should use: 1 MiB (larger than the ring: dropped and counted), embedded
// NUL bytes, invalid UTF-8, quotes, backslashes and newlines, and 100 000 distinct
// dynamic names. Both the JSON and the .pftrace.zst written read back.
TEST(FaultTest, HostileNamesAndArgs) {
  constexpr int kDistinct = 100000;
  const std::string huge(1 << 20, 'x');
  const std::string nul("a\0b\0c", 5);
  const std::string bad_utf8 = "bad\xff\xfe\xc3(utf8";
  const std::string quoted = "\"quoted\" \\back\\slash\nnew\r\nline\t</script>";
  Sink sink;
  Profiler profiler({.on_trace_ready = sink.callback(), .buffer_kib_per_thread = 256});
  ASSERT_TRUE(profiler.start().ok());
  // A thread registered after start() has a 256 KiB ring (the main thread's was sized by
  // an earlier session): a 1 MiB name or arg can never fit, so it is dropped and counted.
  int64_t small_ring_tid = 0;
  std::thread small_ring([&] {
    small_ring_tid = internal::CurrentTid();
    { SCOPETRACE_SCOPE_DYNAMIC(huge); }
    { SCOPETRACE_SCOPE("literal", "huge_arg", std::string_view(huge)); }
    { SCOPETRACE_SCOPE("after_huge"); }
  });
  small_ring.join();
  { SCOPETRACE_SCOPE_DYNAMIC(nul, "arg", nul); }
  { SCOPETRACE_SCOPE_DYNAMIC(bad_utf8, "arg", bad_utf8); }
  { SCOPETRACE_SCOPE_DYNAMIC(quoted, "arg", quoted); }
  std::string name;
  for (int i = 0; i < kDistinct; ++i) {
    name = "dyn" + std::to_string(i);
    SCOPETRACE_SCOPE_DYNAMIC(name);
    if (i % 1000 == 0) std::this_thread::sleep_for(milliseconds(1));  // let it drain
  }
  profiler.stop();
  ASSERT_EQ(sink.traces.size(), 1u);
  const Trace& trace = *sink.traces[0];
  // The 1 MiB name and the 1 MiB arg cannot fit a 256 KiB ring: dropped, counted.
  EXPECT_EQ(CountSlices(trace, huge), 0u);
  EXPECT_EQ(CountSlices(trace, "literal"), 0u);
  uint64_t small_ring_drops = 0;
  for (const ThreadDrops& drops : trace.metadata().dropped) {
    if (drops.tid == small_ring_tid) small_ring_drops = drops.dropped_events;
  }
  EXPECT_EQ(small_ring_drops, 2u);
  EXPECT_EQ(CountSlices(trace, "after_huge"), 1u);
  EXPECT_EQ(CountSlices(trace, nul), 1u);
  EXPECT_EQ(CountSlices(trace, bad_utf8), 1u);
  EXPECT_EQ(CountSlices(trace, quoted), 1u);
  size_t dyn = 0;
  for (const Slice& slice : trace.slices()) {
    if (trace.strings()[slice.name].rfind("dyn", 0) == 0) ++dyn;
  }
  // The main thread's ring may overflow under 100 000 names (its size depends on which
  // session registered it): every name is in the trace or counted as dropped.
  EXPECT_EQ(dyn + trace.metadata().dropped_events - small_ring_drops,
            static_cast<uint64_t>(kDistinct));

  TempDir tmp;
  for (Format format : {Format::kChromeJson, Format::kPerfettoZstd}) {
    const std::string path = tmp.path() + "/hostile" + std::string(FormatExtension(format));
    ASSERT_TRUE(trace.Write(path, format).ok());
    absl::StatusOr<Trace> back = ReadTrace(path);
    ASSERT_TRUE(back.ok()) << path << ": " << back.status();
    EXPECT_FALSE(back->metadata().truncated) << path;
    EXPECT_EQ(back->slices().size(), trace.slices().size()) << path;
    EXPECT_EQ(back->metadata().dropped_events, trace.metadata().dropped_events) << path;
    EXPECT_EQ(CountSlices(*back, quoted), 1u) << path;
    EXPECT_EQ(CountSlices(*back, nul), 1u) << path;
  }
}

// A device backend that loses every record of kernels named "lost" (a driver whose
// activity buffer was dropped): it never delivers them, however long the wait.
class LossyDevice : public DeviceSource {
 public:
  explicit LossyDevice(sim::Device& device) : device_(device) {}
  std::string_view name() const override { return device_.name(); }
  int stream_count() const override { return device_.stream_count(); }
  absl::Status start() override { return device_.start(); }
  void stop() override { device_.stop(); }
  ClockReading read_clock() override { return device_.read_clock(); }
  size_t drain_activity(std::vector<ActivityRecord>& out) override {
    std::vector<ActivityRecord> all;
    device_.drain_activity(all);
    size_t kept = 0;
    for (ActivityRecord& record : all) {
      if (record.name == "lost") continue;
      out.push_back(std::move(record));
      ++kept;
    }
    return kept;
  }
  size_t drain_memory(std::vector<MemorySample>& out) override { return device_.drain_memory(out); }
  void flush() override { device_.flush(); }

 private:
  sim::Device& device_;
};

TEST(FaultTest, StalledDeviceCycleHandedOverAfterTheBound) {
  constexpr auto kTimeout = milliseconds(300);
  sim::Device npu({.name = "sim0", .streams = 2});
  LossyDevice lossy(npu);
  Sink sink;
  Profiler profiler({.on_trace_ready = sink.callback(), .device_flush_timeout = kTimeout});
  profiler.add_device(lossy);
  ASSERT_TRUE(profiler.start().ok());
  for (int i = 0; i < 3; ++i) {
    npu.stream(0).launch("kept", std::chrono::microseconds(50));
    npu.stream(1).launch("lost", std::chrono::microseconds(50));
  }
  npu.synchronize();
  const auto before = std::chrono::steady_clock::now();
  profiler.stop();
  const auto waited = std::chrono::steady_clock::now() - before;
  EXPECT_GE(waited, kTimeout) << "handed over before the bound with records missing";
  EXPECT_LT(waited, kTimeout + milliseconds(3000)) << "the bound did not hold";
  ASSERT_EQ(sink.traces.size(), 1u);
  const Trace& trace = *sink.traces[0];
  EXPECT_EQ(trace.metadata().device_records_missing, 3u);
  EXPECT_EQ(CountSlices(trace, "kept"), 3u);
  EXPECT_EQ(CountSlices(trace, "lost"), 0u);
}

}  // namespace
}  // namespace scopetrace
