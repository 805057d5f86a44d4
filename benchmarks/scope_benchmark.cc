// Cost of the instrumentation hot path against the floor: two TSC reads and a 24-byte
// store into a thread_local array, the least any timestamped in-memory scope can cost.
//
//   build-rel/scope_benchmark [--reps=11]      (scripts/bench.sh runs it with the others)
//
// Method, so the figures do not flatter the profiler:
// - Bursts that fit in the ring. Each timed burst is kBurst events (under a tenth of the
//   default 4 MiB ring even for two-arg scopes); between bursts the clock is stopped and
//   the harness waits until the collector has drained every ring. A saturated ring drops
//   events, and a dropped push costs less than a recorded one, so dropped_pct is printed
//   beside every figure and a figure is valid only at 0.
// - CPU time of each producer thread (not wall time: the machine is shared), per event,
//   per thread; with 2 threads both produce at once, each into its own ring.
// - Ratios to the floor measured in the same repetition and thread count; the median
//   over repetitions. Cases run interleaved within each repetition, so a slow period of
//   the machine hits all of them alike.
// - Disabled cost before start() and during a WAIT step of a running profiler.

#include <x86intrin.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/bench_table.h"
#include "fmt/format.h"
#include "scopetrace/scopetrace.h"

namespace scopetrace::bench {
namespace {

constexpr int kBurst = 8192;
constexpr int kBurstsPerBlock = 24;

struct FloorRecord {
  uint64_t begin;
  uint64_t end;
  const char* name;
};
static_assert(sizeof(FloorRecord) == 24);
constexpr size_t kFloorRecords = 1 << 16;
thread_local FloorRecord t_floor[kFloorRecords];
thread_local size_t t_floor_index = 0;

// The floor: what one scope must do at least (two timestamps, one record stored).
void FloorBurst(int n) {
  for (int i = 0; i < n; ++i) {
    const uint64_t begin = __rdtsc();
    const uint64_t end = __rdtsc();
    FloorRecord& record = t_floor[t_floor_index++ & (kFloorRecords - 1)];
    record.begin = begin;
    record.end = end;
    record.name = "floor";
    Clobber();
  }
}

// The loop alone: what every case pays besides the event (the disabled cost is given
// net of it too, since at ~1 ns the loop is a large part of the figure).
void EmptyBurst(int n) {
  for (int i = 0; i < n; ++i) Clobber();
}

void StaticBurst(int n) {
  for (int i = 0; i < n; ++i) {
    SCOPETRACE_SCOPE("forward");
    Clobber();
  }
}

void TwoArgsBurst(int n) {
  for (int i = 0; i < n; ++i) {
    SCOPETRACE_SCOPE("conv2d", "batch", i, "scale", 0.5);
    Clobber();
  }
}

void DynamicBurst(int n) {
  static const std::string name = "layer_17_attention";
  for (int i = 0; i < n; ++i) {
    SCOPETRACE_SCOPE_DYNAMIC(name);
    Clobber();
  }
}

void InstantBurst(int n) {
  for (int i = 0; i < n; ++i) {
    SCOPETRACE_INSTANT("cache_miss");
    Clobber();
  }
}

void CounterBurst(int n) {
  for (int i = 0; i < n; ++i) {
    SCOPETRACE_COUNTER("queue_depth", i);
    Clobber();
  }
}

enum class Needs { kNothing, kRecording, kWaitStep };
struct Case {
  std::string name;
  void (*burst)(int);
  Needs needs;
};

// Producer threads that run a burst together on command and report their CPU time.
class Producers {
 public:
  explicit Producers(int count) : start_(count + 1), done_(count + 1) {
    for (int i = 0; i < count; ++i) {
      cpu_ns_.push_back(0);
      rings_.push_back(nullptr);
    }
    for (int i = 0; i < count; ++i) threads_.emplace_back([this, i] { Loop(i); });
  }
  ~Producers() {
    burst_ = nullptr;
    start_.arrive_and_wait();
    for (std::thread& t : threads_) t.join();
  }
  int count() const { return static_cast<int>(threads_.size()); }

  // Runs `burst(n)` on every thread at once; returns the mean CPU ns per thread.
  double Run(void (*burst)(int), int n) {
    burst_ = burst;
    n_ = n;
    start_.arrive_and_wait();
    done_.arrive_and_wait();
    double sum = 0;
    for (int64_t ns : cpu_ns_) sum += static_cast<double>(ns);
    return sum / count();
  }

  // The producers' rings (registered by their first event while capturing).
  uint64_t Dropped() const {
    uint64_t dropped = 0;
    for (auto* ring : rings_) dropped += ring != nullptr ? ring->dropped() : 0;
    return dropped;
  }
  // Waits until the collector has taken everything the producers wrote.
  void WaitDrained() const {
    const int64_t deadline = MonotonicNs() + 2'000'000'000;
    for (auto* ring : rings_) {
      while (ring != nullptr && ring->tail() != ring->AcquireHead() && MonotonicNs() < deadline) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
  }
  void RegisterRings() {
    Run(
        +[](int) { (void)internal::Ring(); }, 0);
  }

 private:
  void Loop(int index) {
    for (;;) {
      start_.arrive_and_wait();
      if (burst_ == nullptr) return;
      const int64_t begin = ThreadCpuNs();
      burst_(n_);
      cpu_ns_[index] = ThreadCpuNs() - begin;
      if (rings_[index] == nullptr) rings_[index] = internal::t_ring;
      done_.arrive_and_wait();
    }
  }

  std::barrier<> start_;
  std::barrier<> done_;
  void (*burst_)(int) = nullptr;
  int n_ = 0;
  std::vector<int64_t> cpu_ns_;
  std::vector<internal::ThreadRing*> rings_;
  std::vector<std::thread> threads_;
};

struct Sample {
  std::vector<double> ns_per_event;
  std::vector<double> ratio;
  uint64_t events = 0;
  uint64_t dropped = 0;
};

// One block: kBurstsPerBlock timed bursts, the rings drained between them.
double RunBlock(Producers& producers, const Case& c, uint64_t& events, uint64_t& dropped) {
  const uint64_t dropped_before = producers.Dropped();
  double cpu_ns = 0;
  for (int b = 0; b < kBurstsPerBlock; ++b) {
    cpu_ns += producers.Run(c.burst, kBurst);
    producers.WaitDrained();
  }
  events += static_cast<uint64_t>(kBurstsPerBlock) * kBurst * producers.count();
  dropped += producers.Dropped() - dropped_before;
  return cpu_ns / (static_cast<double>(kBurstsPerBlock) * kBurst);
}

// Steps `profiler` until `wanted` says yes about its action.
void StepUntil(Profiler& profiler, bool (*wanted)(ProfilerAction)) {
  for (int i = 0; i < 8 && !wanted(profiler.current_action()); ++i) profiler.step();
}
bool IsRecording(ProfilerAction a) {
  return a == ProfilerAction::kRecord || a == ProfilerAction::kRecordAndSave;
}
bool IsWaiting(ProfilerAction a) { return a == ProfilerAction::kNone; }

void PrintRow(const std::string& label, int threads, const Sample& s, double target_ratio) {
  const double ns = Median(s.ns_per_event);
  const double ratio = Median(s.ratio);
  const double dropped_pct =
      s.events > 0 ? 100.0 * static_cast<double>(s.dropped) / static_cast<double>(s.events) : 0;
  std::string target = target_ratio > 0 ? fmt::format("<= {:.2f} x floor", target_ratio) : "-";
  const bool ok = s.dropped == 0 && (target_ratio <= 0 || ratio <= target_ratio);
  Row(fmt::format("{} ({} thread{})", label, threads, threads > 1 ? "s" : ""),
      fmt::format("{:.2f} ns/event", ns),
      fmt::format("{:.2f} x floor, dropped_pct {:.3f}", ratio, dropped_pct), target,
      target_ratio > 0 ? Verdict(ok) : (s.dropped == 0 ? "" : "DROP"));
}

int Main(int argc, char** argv) {
  int reps = 11;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--reps=", 7) == 0) reps = std::atoi(argv[i] + 7);
  }

  // 1. Before start(): the macros see capture off.
  {
    Producers producers(1);
    Sample floor, disabled, empty;
    for (int rep = 0; rep < reps; ++rep) {
      uint64_t events = 0, dropped = 0;
      const double f = RunBlock(producers, {"floor", FloorBurst, Needs::kNothing}, events, dropped);
      const double e = RunBlock(producers, {"empty", EmptyBurst, Needs::kNothing}, events, dropped);
      const double d =
          RunBlock(producers, {"disabled", StaticBurst, Needs::kNothing}, events, dropped);
      floor.ns_per_event.push_back(f);
      empty.ns_per_event.push_back(e);
      disabled.ns_per_event.push_back(d);
      disabled.ratio.push_back(d - e);  // net of the loop
    }
    const double ns = Median(disabled.ns_per_event);
    const double net = Median(disabled.ratio);
    Row("scope, disabled: before start()", fmt::format("{:.2f} ns/event", ns),
        fmt::format("net of the loop {:.2f} ns (loop {:.2f} ns)", net, Median(empty.ns_per_event)),
        "<= 1 ns", Verdict(net <= 1.0));
  }

  // 2. A running profiler whose schedule alternates a WAIT step and a recorded step; each
  // block of a case runs in a step of the kind it needs, and every recorded step is its
  // own cycle, so traces stay small.
  std::atomic<uint64_t> recorded{0};
  ProfilerOptions options;
  options.schedule = Schedule{.wait = 1, .active = 1};
  options.on_trace_ready = [&recorded](const Trace& trace) { recorded += trace.event_count(); };
  Profiler profiler(options);
  if (!profiler.start().ok()) return 1;

  const std::vector<Case> cases = {
      {"floor (2 x rdtsc + 24-byte store)", FloorBurst, Needs::kNothing},
      {"scope, static name", StaticBurst, Needs::kRecording},
      {"scope, two args", TwoArgsBurst, Needs::kRecording},
      {"scope, dynamic name", DynamicBurst, Needs::kRecording},
      {"instant", InstantBurst, Needs::kRecording},
      {"counter", CounterBurst, Needs::kRecording},
      {"scope, disabled: WAIT step", StaticBurst, Needs::kWaitStep},
      {"empty loop", EmptyBurst, Needs::kNothing},
  };
  for (int threads : {1, 2}) {
    Producers producers(threads);
    StepUntil(profiler, IsRecording);
    producers.RegisterRings();
    std::map<std::string, Sample> samples;
    for (int rep = 0; rep < reps; ++rep) {
      double floor_ns = 0;
      double wait_ns = 0;
      for (const Case& c : cases) {
        if (threads == 2 && c.needs == Needs::kWaitStep) continue;
        if (c.needs == Needs::kRecording) StepUntil(profiler, IsRecording);
        if (c.needs == Needs::kWaitStep) StepUntil(profiler, IsWaiting);
        Sample& s = samples[c.name];
        const double ns = RunBlock(producers, c, s.events, s.dropped);
        if (c.burst == FloorBurst) floor_ns = ns;
        if (c.burst == EmptyBurst) {
          // Pairs with the WAIT case just before it: its cost net of the loop.
          if (threads == 1) samples["scope, disabled: WAIT step"].ratio.back() = wait_ns - ns;
        }
        if (c.needs == Needs::kWaitStep) wait_ns = ns;
        s.ns_per_event.push_back(ns);
        s.ratio.push_back(ns / floor_ns);
        // Leave the step: the collector finishes the cycle while the next case runs.
        if (c.needs == Needs::kRecording) profiler.step();
      }
    }
    for (const Case& c : cases) {
      if (threads == 2 && c.needs == Needs::kWaitStep) continue;
      if (c.burst == EmptyBurst) continue;
      const Sample& s = samples[c.name];
      if (c.needs == Needs::kWaitStep) {
        const double net = Median(s.ratio);
        Row(c.name, fmt::format("{:.2f} ns/event", Median(s.ns_per_event)),
            fmt::format("net of the loop {:.2f} ns", net), "<= 1 ns", Verdict(net <= 1.0));
        continue;
      }
      double target = 0;
      if (c.name == "scope, static name") target = threads == 1 ? 1.25 : 1.3;
      PrintRow(c.name, threads, s, target);
    }
  }
  profiler.stop();
  return 0;
}

}  // namespace
}  // namespace scopetrace::bench

int main(int argc, char** argv) { return scopetrace::bench::Main(argc, argv); }
