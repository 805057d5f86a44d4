// Sustained collection: can the collector keep up with producers writing flat out?
//
//   build-rel/collection_benchmark [--seconds=5]   (scripts/bench.sh runs it)
//   build-rel/collection_benchmark --streaming --seconds=10   (100 M events, streamed)
//   build-rel/collection_benchmark --per-cycle   (events kept and dropped per cycle)
//   ... --streaming --keep=DIR   (the streamed .pftrace.zst stays in DIR, to check it)
//
// Two producer threads emit static scopes for `seconds` with the default ring size
// (4 MiB per thread), every step recorded (a step every 100 ms, so each cycle stays a
// bounded size in memory). Two runs:
// - paced at 5 M events/s per thread (10 M/s in total, the target): the producers emit in
//   chunks of 2048 and sleep until the schedule allows the next chunk;
// - unpaced: as fast as they can, which shows the collector's ceiling on this machine.
// Reported: events/s captured (in the traces handed to on_trace_ready), the producers'
// attempted rate, and the share dropped at full rings.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/bench_table.h"
#include "fmt/format.h"
#include "scopetrace/scopetrace.h"

namespace scopetrace::bench {
namespace {

// ~0.4 ms of events at 5 M/s; the producer sleeps (never spins) until the next is due,
// since on a 2-vCPU machine a spinning producer would take the collector's CPU.
constexpr int kChunk = 2048;

// Two threads emitting static scopes in chunks of kChunk, paced at `per_thread_rate`
// events/s each (0: as fast as they can), from Go() until Finish().
class Producers {
 public:
  explicit Producers(double per_thread_rate) {
    for (int t = 0; t < 2; ++t) {
      threads_.emplace_back([this, t, per_thread_rate] { Produce(t, per_thread_rate); });
    }
  }
  void Go() { go_ = true; }
  void Finish() {
    done_ = true;
    for (std::thread& t : threads_) t.join();
  }
  uint64_t attempted() const { return attempted_[0] + attempted_[1]; }
  uint64_t dropped() const { return dropped_[0] + dropped_[1]; }

 private:
  void Produce(int t, double per_thread_rate) {
    (void)internal::Ring();
    while (!go_.load()) std::this_thread::yield();
    const int64_t begin = MonotonicNs();
    uint64_t emitted = 0;
    while (!done_.load(std::memory_order_relaxed)) {
      for (int i = 0; i < kChunk; ++i) {
        SCOPETRACE_SCOPE("produce");
        Clobber();
      }
      emitted += kChunk;
      if (per_thread_rate > 0) {
        const int64_t due = begin + static_cast<int64_t>(emitted / per_thread_rate * 1e9);
        const int64_t now = MonotonicNs();
        if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
      }
    }
    attempted_[t] = emitted;
    dropped_[t] = internal::t_ring != nullptr ? internal::t_ring->dropped() : 0;
  }

  std::atomic<bool> go_{false}, done_{false};
  uint64_t attempted_[2] = {0, 0};
  uint64_t dropped_[2] = {0, 0};
  std::vector<std::thread> threads_;
};

struct Result {
  double attempted_per_s = 0;
  double captured_per_s = 0;
  uint64_t attempted = 0;
  uint64_t captured = 0;
  uint64_t dropped = 0;
  double collector_cpu_s = 0;
  double exporter_cpu_s = 0;
};

// --per-cycle: one line per cycle (events kept and dropped), to see when drops happen.
bool g_per_cycle = false;

Result Run(double seconds, double per_thread_rate /* 0: unpaced */) {
  std::atomic<uint64_t> captured{0};
  std::atomic<uint64_t> dropped_in_traces{0};
  ProfilerOptions options;
  options.schedule = Schedule{.active = 1};
  options.overhead_budget_percent = 100;  // the scope rate is the point here
  options.on_trace_ready = [&](const Trace& trace) {
    uint64_t events = trace.event_count();
    captured += events > 0 ? events - 1 : 0;  // less the ProfilerStep slice
    dropped_in_traces += trace.metadata().dropped_events;
    if (g_per_cycle) {
      fmt::print(stderr, "  cycle: {:>8} events kept, {:>8} dropped\n", events,
                 trace.metadata().dropped_events);
    }
  };
  Profiler profiler(options);
  if (!profiler.start().ok()) std::abort();

  Producers producers(per_thread_rate);
  const int64_t begin = MonotonicNs();
  producers.Go();
  const int64_t end = begin + static_cast<int64_t>(seconds * 1e9);
  while (MonotonicNs() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    profiler.step();
  }
  producers.Finish();
  const double elapsed = static_cast<double>(MonotonicNs() - begin) / 1e9;
  profiler.stop();
  Result result;
  result.collector_cpu_s = profiler.stats().collector_cpu_seconds;
  result.exporter_cpu_s = profiler.stats().exporter_cpu_seconds;
  result.attempted = producers.attempted();
  result.dropped = producers.dropped();
  result.captured = captured.load();
  result.attempted_per_s = static_cast<double>(result.attempted) / elapsed;
  result.captured_per_s = static_cast<double>(result.captured) / elapsed;
  return result;
}

// One streamed active window (no schedule: a single cycle from start to stop), producers
// paced at 5 M events/s each, encoded to .pftrace.zst while captured. Run in a process of
// its own (--streaming) so the peak RSS is this run's.
void RunStreaming(double seconds, const std::string& keep_dir) {
  const std::filesystem::path dir =
      !keep_dir.empty()
          ? std::filesystem::path(keep_dir)
          : std::filesystem::temp_directory_path() / fmt::format("scopetrace-stream-{}", getpid());
  ProfilerOptions options;
  options.output_dir = dir.string();
  options.formats = Format::kPerfettoZstd;
  options.streaming = true;
  options.overhead_budget_percent = 100;  // the scope rate is the point here
  Profiler profiler(options);
  if (!profiler.start().ok()) std::abort();
  Producers producers(5e6);
  const int64_t begin = MonotonicNs();
  producers.Go();
  std::this_thread::sleep_for(std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9)));
  producers.Finish();
  const double elapsed = static_cast<double>(MonotonicNs() - begin) / 1e9;
  profiler.stop();
  const ProfilerStats stats = profiler.stats();
  uint64_t file_bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    file_bytes += entry.file_size();
  if (keep_dir.empty()) std::filesystem::remove_all(dir);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const uint64_t total = producers.attempted();
  const uint64_t lost = producers.dropped();
  const double drop_pct = total > 0 ? 100.0 * static_cast<double>(lost) / total : 0;
  const double peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  Row("streaming, 2 threads paced at 5 M/s each",
      fmt::format("{:.1f} M events", static_cast<double>(total - lost) / 1e6),
      fmt::format("{:.2f} M/s attempted, dropped {:.3f} %, {:.2f} B/event", total / elapsed / 1e6,
                  drop_pct, static_cast<double>(file_bytes) / std::max<uint64_t>(1, total - lost)),
      "0 drops at 10 M/s", Verdict(lost == 0 && total / elapsed >= 9.5e6));
  Row("  streaming peak RSS", fmt::format("{:.0f} MiB", peak_mib),
      fmt::format("CPU s: collector {:.1f}, encoder {:.1f}, export {:.1f}",
                  stats.collector_cpu_seconds, stats.stream_encoder_cpu_seconds,
                  stats.exporter_cpu_seconds),
      "<= 256 MiB", Verdict(peak_mib <= 256));
}

int Main(int argc, char** argv) {
  double seconds = 5;
  bool streaming = false;
  std::string keep_dir;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--seconds=", 10) == 0) seconds = std::atof(argv[i] + 10);
    if (std::strcmp(argv[i], "--streaming") == 0) streaming = true;
    if (std::strcmp(argv[i], "--per-cycle") == 0) g_per_cycle = true;
    if (std::strncmp(argv[i], "--keep=", 7) == 0) keep_dir = argv[i] + 7;
  }
  if (streaming) {
    RunStreaming(seconds, keep_dir);
    return 0;
  }
  for (double rate : {5e6, 0.0}) {
    const Result r = Run(seconds, rate);
    const double drop_pct =
        r.attempted > 0 ? 100.0 * static_cast<double>(r.dropped) / static_cast<double>(r.attempted)
                        : 0;
    const std::string label =
        rate > 0 ? "sustained, 2 threads paced at 5 M/s each" : "sustained, 2 threads unpaced";
    Row(label, fmt::format("{:.2f} M events/s", r.captured_per_s / 1e6),
        fmt::format("attempted {:.2f} M/s, dropped {:.3f} %", r.attempted_per_s / 1e6, drop_pct),
        rate > 0 ? "0 drops at 10 M/s" : "-",
        rate > 0 ? Verdict(r.dropped == 0 && r.attempted_per_s >= 9.5e6) : "");
    // The background threads' CPU per captured event: what decides the rate they can
    // sustain on a core of their own, whatever the neighbours on a shared machine do.
    const double events = static_cast<double>(std::max<uint64_t>(1, r.captured));
    const double collector_ns = r.collector_cpu_s * 1e9 / events;
    const double exporter_ns = r.exporter_cpu_s * 1e9 / events;
    Row(fmt::format("  collector thread CPU ({})", rate > 0 ? "paced" : "unpaced"),
        fmt::format("{:.1f} ns/event", collector_ns),
        fmt::format("ceiling {:.1f} M events/s on one core", 1e3 / collector_ns), "-", "");
    Row(fmt::format("  export thread CPU ({})", rate > 0 ? "paced" : "unpaced"),
        fmt::format("{:.1f} ns/event", exporter_ns),
        fmt::format("sort + on_trace_ready + free; ceiling {:.1f} M/s", 1e3 / exporter_ns), "-",
        "");
  }
  return 0;
}

}  // namespace
}  // namespace scopetrace::bench

int main(int argc, char** argv) { return scopetrace::bench::Main(argc, argv); }
