#include "scopetrace/profiler.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "scopetrace/device.h"
#include "scopetrace/instrument.h"
#include "src/clock.h"
#include "src/collector.h"
#include "src/device_hooks.h"
#include "src/exporter.h"
#include "src/overhead.h"
#include "src/overhead_policy.h"
#include "src/thread_registry.h"

namespace scopetrace {
namespace {

using internal::g_capture_enabled;

// The profiler capturing now; one at a time per process.
std::atomic<const void*> g_active_profiler{nullptr};
// Bumped in a fork()ed child: a profiler started before the fork is off in the child
// (its collector and exporter threads do not exist there).
std::atomic<uint64_t> g_fork_generation{0};

void InstallForkHandlerOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(nullptr, nullptr, [] {
      g_capture_enabled.store(0, std::memory_order_relaxed);
      g_fork_generation.fetch_add(1, std::memory_order_relaxed);
      g_active_profiler.store(nullptr, std::memory_order_relaxed);
      internal::ThreadRegistry::Get().ResetAfterFork();
    });
  });
}

bool Captures(ProfilerAction action) { return action != ProfilerAction::kNone; }
bool Recorded(ProfilerAction action) {
  return action == ProfilerAction::kRecord || action == ProfilerAction::kRecordAndSave;
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::string ProcessName() {
  std::ifstream comm("/proc/self/comm");
  std::string name;
  std::getline(comm, name);
  return name.empty() ? std::string("process") : name;
}

int64_t WallMinusMonotonicNs() {
  timespec wall, mono;
  clock_gettime(CLOCK_REALTIME, &wall);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  return (static_cast<int64_t>(wall.tv_sec) - mono.tv_sec) * 1'000'000'000 +
         (static_cast<int64_t>(wall.tv_nsec) - mono.tv_nsec);
}

absl::Status PrepareOutputDir(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat("output_dir '", dir, "' cannot be created: ", error.message()));
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("output_dir '", dir, "' is not writable: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

class Profiler::Impl {
 public:
  explicit Impl(ProfilerOptions options) : options_(std::move(options)) {}

  ~Impl() {
    if (forked()) {
      // The threads these own do not exist in a fork()ed child: never join them.
      (void)collector_.release();
      (void)exporter_.release();
      (void)devices_.release();
      return;
    }
    Stop();
  }

  void AddDevice(DeviceSource& device) { device_sources_.push_back(&device); }

  absl::Status Start() {
    if (running_) return absl::FailedPreconditionError("profiler already running");
    if (options_.schedule.has_value()) {
      if (absl::Status s = ValidateSchedule(*options_.schedule); !s.ok()) return s;
    }
    if (options_.buffer_kib_per_thread < 1) {
      return absl::InvalidArgumentError("buffer_kib_per_thread must be at least 1");
    }
    if (!options_.on_trace_ready) {
      if (options_.formats == Format::kNone) {
        return absl::InvalidArgumentError("formats is empty and no on_trace_ready is set");
      }
      if (absl::Status s = PrepareOutputDir(options_.output_dir); !s.ok()) return s;
    }
    const void* expected = nullptr;
    if (!g_active_profiler.compare_exchange_strong(expected, this)) {
      return absl::FailedPreconditionError("another profiler is capturing in this process");
    }
    InstallForkHandlerOnce();
    fork_generation_ = g_fork_generation.load(std::memory_order_relaxed);

    session_.worker = options_.worker_name.empty() ? HostName() : options_.worker_name;
    session_.pid = getpid();
    session_.process_name = ProcessName();
    session_.has_schedule = options_.schedule.has_value();
    session_.schedule = options_.schedule.value_or(Schedule{});
    session_.wall_minus_monotonic_ns = WallMinusMonotonicNs();
    session_.costs = internal::CalibrateOverhead();
    session_.overhead_budget_percent = options_.overhead_budget_percent;
    budget_policy_.reset();
    session_.on_cycle_finished = nullptr;
    if (options_.overhead_policy == OverheadPolicy::kSampleHottest) {
      budget_policy_ = std::make_unique<internal::BudgetPolicy>(session_.costs);
      session_.on_cycle_finished = [policy = budget_policy_.get()](
                                       const internal::CycleBuilder& cycle, Trace& trace,
                                       int64_t step) {
        policy->OnCycleFinished(cycle, trace, step);
      };
    }
    session_.streamed_formats.clear();
    if (options_.streaming && !options_.on_trace_ready) {
      for (Format format : {Format::kPerfetto, Format::kPerfettoZstd}) {
        if (HasFormat(options_.formats, format)) session_.streamed_formats.push_back(format);
      }
    } else if (options_.streaming) {
      // A user callback wants a Trace: stream to a scratch file in output_dir, read back.
      if (absl::Status s = PrepareOutputDir(options_.output_dir); !s.ok()) return s;
      session_.streamed_formats.push_back(Format::kPerfettoZstd);
    }
    session_.path_for = [this](int64_t cycle, Format format) {
      return TracePath(session_.worker, session_.pid, cycle, format);
    };
    clock_.Start();
    internal::ThreadRegistry::Get().set_buffer_bytes(options_.buffer_kib_per_thread * 1024);
    internal::g_record_args.store(options_.record_args ? 1 : 0, std::memory_order_relaxed);

    devices_ = std::make_unique<internal::DeviceHooksOwner>(device_sources_,
                                                            options_.device_flush_timeout);
    if (absl::Status s = devices_->Start(); !s.ok()) {
      devices_.reset();
      g_active_profiler.store(nullptr);
      return s;
    }
    exporter_ = std::make_unique<internal::Exporter>(
        [this](internal::FinishedCycle& cycle) { return ExportCycle(cycle); });
    if (absl::Status s = exporter_->Start(); !s.ok()) {
      AbandonStart();
      return s;
    }
    session_.storage_pool = &exporter_->storage_pool();
    stream_encoder_cpu_ns_.store(0, std::memory_order_relaxed);
    session_.stream_encoder_cpu_ns = &stream_encoder_cpu_ns_;
    collector_ = std::make_unique<internal::Collector>(
        session_, clock_, devices_->hooks(),
        [this](internal::FinishedCycle cycle) { exporter_->Enqueue(std::move(cycle)); });
    if (absl::Status s = collector_->Start(); !s.ok()) {
      AbandonStart();
      return s;
    }

    step_ = 0;
    action_ = ActionFor(0);
    if (Recorded(action_)) devices_->BeginCycle();
    collector_->PostBoundary(
        internal::Boundary{.next_step = 0, .next_action = action_, .tid = internal::CurrentTid()});
    running_ = true;
    g_capture_enabled.store(Captures(action_) ? 1 : 0, std::memory_order_relaxed);
    InstallExitHandlerOnce();
    return absl::OkStatus();
  }

  // Undoes a start() that could not start its threads: nothing was captured yet.
  void AbandonStart() {
    devices_->Stop();
    collector_.reset();
    if (exporter_) exporter_->Finish();
    exporter_.reset();
    devices_.reset();
    g_active_profiler.store(nullptr);
  }

  void Step() {
    if (!running_ || forked()) return;
    const int64_t next = step_ + 1;
    const ProfilerAction next_action = ActionFor(next);
    // The device hub keeps records only while a recorded cycle may claim them; it hears
    // of a new cycle before any of its launches can happen.
    if (Recorded(next_action) &&
        (action_ == ProfilerAction::kRecordAndSave || !Recorded(action_))) {
      devices_->BeginCycle();
    }
    // Posted before capture changes, so every event recorded under the new action is
    // later than the boundary.
    collector_->PostBoundary(internal::Boundary{
        .next_step = next, .next_action = next_action, .tid = internal::CurrentTid()});
    g_capture_enabled.store(Captures(next_action) ? 1 : 0, std::memory_order_relaxed);
    step_ = next;
    action_ = next_action;
  }

  void Stop() {
    if (!running_ || forked()) return;
    collector_->PostBoundary(
        internal::Boundary{.next_step = step_, .tid = internal::CurrentTid(), .stop = true});
    g_capture_enabled.store(0, std::memory_order_relaxed);
    collector_->Join();
    if (budget_policy_) budget_policy_->Reset();  // sampled sites keep all events again
    devices_->Stop();
    exporter_->Finish();
    cycles_completed_ += collector_->cycles_completed();
    cycles_discarded_ += collector_->cycles_discarded();
    export_errors_ += exporter_->errors();
    if (!exporter_->last_error().ok()) last_export_error_ = exporter_->last_error();
    collector_cpu_ns_ = collector_->cpu_ns();
    exporter_cpu_ns_ = exporter_->cpu_ns();
    collector_.reset();
    exporter_.reset();
    devices_.reset();
    running_ = false;
    g_active_profiler.store(nullptr);
  }

  bool running() const { return running_ && !forked(); }
  int64_t current_step() const { return step_; }
  ProfilerAction current_action() const { return action_; }

  ProfilerStats Stats() const {
    ProfilerStats stats;
    stats.cycles_completed = cycles_completed_;
    stats.cycles_discarded = cycles_discarded_;
    stats.export_errors = export_errors_;
    stats.last_export_error = last_export_error_;
    if (collector_) {
      stats.cycles_completed += collector_->cycles_completed();
      stats.cycles_discarded += collector_->cycles_discarded();
    }
    if (exporter_) {
      stats.export_errors += exporter_->errors();
      if (!exporter_->last_error().ok()) stats.last_export_error = exporter_->last_error();
    }
    stats.dropped_events = dropped_events_.load(std::memory_order_relaxed);
    stats.collector_cpu_seconds =
        static_cast<double>(collector_ ? collector_->cpu_ns() : collector_cpu_ns_) / 1e9;
    stats.exporter_cpu_seconds =
        static_cast<double>(exporter_ ? exporter_->cpu_ns() : exporter_cpu_ns_) / 1e9;
    stats.stream_encoder_cpu_seconds =
        static_cast<double>(stream_encoder_cpu_ns_.load(std::memory_order_relaxed)) / 1e9;
    return stats;
  }

 private:
  // exit() (or returning from main) without stop(): the profiler still capturing is
  // stopped, so its open cycle is handed over and written before the process ends.
  // Registered after the first start(), so it runs before the destructors of the statics
  // the capture path uses. A fork()ed child has no active profiler: nothing to do there.
  static void InstallExitHandlerOnce() {
    static std::once_flag once;
    std::call_once(once, [] {
      std::atexit([] {
        const void* active = g_active_profiler.load();
        if (active == nullptr) return;
        const_cast<Impl*>(static_cast<const Impl*>(active))->Stop();
      });
    });
  }

  bool forked() const {
    return running_ && g_fork_generation.load(std::memory_order_relaxed) != fork_generation_;
  }

  ProfilerAction ActionFor(int64_t step) const {
    return options_.schedule ? ScheduleAction(*options_.schedule, step) : ProfilerAction::kRecord;
  }

  std::string TracePath(const std::string& worker, int64_t pid, int64_t cycle,
                        Format format) const {
    return absl::StrCat(options_.output_dir, "/", worker, ".", pid, ".cycle", cycle,
                        std::string(FormatExtension(format)));
  }

  // Runs on the export thread for each finished cycle.
  absl::Status ExportCycle(internal::FinishedCycle& cycle) {
    const TraceMetadata& metadata = cycle.trace->metadata();
    dropped_events_.fetch_add(metadata.dropped_events, std::memory_order_relaxed);
    if (metadata.overhead.over_budget) {
      std::string hottest;
      for (const std::string& scope : metadata.overhead.top_scopes) {
        // Dynamic names may be huge or hold control bytes: one short stderr line.
        std::string shown = scope.substr(0, 120);
        for (char& c : shown) {
          if (static_cast<unsigned char>(c) < 0x20) c = '?';
        }
        if (shown.size() < scope.size()) shown += "...";
        absl::StrAppend(&hottest, hottest.empty() ? "" : ", ", shown);
      }
      std::fprintf(stderr,
                   "scopetrace: cycle %lld overhead %.2f%% is over the %.2f%% budget; most "
                   "events from: %s\n",
                   static_cast<long long>(metadata.cycle), metadata.overhead.percent,
                   metadata.overhead.budget_percent, hottest.c_str());
    }
    absl::Status first_error = cycle.stream_status;
    const Trace* trace = cycle.trace.get();
    std::vector<Format> written;
    std::optional<Trace> read_back;
    if (cycle.sink) {
      // Streamed: the files hold the whole cycle once the rest is appended. Whoever needs
      // the cycle as a Trace (a user callback, the JSON writer) reads it back.
      if (absl::Status status = cycle.sink->Finish(*cycle.trace); !status.ok()) {
        return status;
      }
      written = cycle.sink->formats();
      if (options_.on_trace_ready || HasFormat(options_.formats, Format::kChromeJson)) {
        absl::StatusOr<Trace> whole = ReadTrace(cycle.sink->first_path());
        if (!whole.ok()) return whole.status();
        read_back = std::move(*whole);
        trace = &*read_back;
      }
      if (options_.on_trace_ready) std::remove(cycle.sink->first_path().c_str());
    }
    if (options_.on_trace_ready) {
      options_.on_trace_ready(*trace);
      return first_error;
    }
    for (Format format : {Format::kChromeJson, Format::kPerfetto, Format::kPerfettoZstd}) {
      if (!HasFormat(options_.formats, format)) continue;
      if (std::find(written.begin(), written.end(), format) != written.end()) continue;
      absl::Status status =
          trace->Write(TracePath(metadata.worker, metadata.pid, metadata.cycle, format), format);
      if (!status.ok() && first_error.ok()) first_error = status;
    }
    return first_error;
  }

  ProfilerOptions options_;
  std::vector<DeviceSource*> device_sources_;
  internal::SessionInfo session_;
  internal::TickClock clock_;
  std::unique_ptr<internal::DeviceHooksOwner> devices_;
  std::unique_ptr<internal::Exporter> exporter_;
  std::unique_ptr<internal::Collector> collector_;
  std::unique_ptr<internal::BudgetPolicy> budget_policy_;
  bool running_ = false;
  uint64_t fork_generation_ = 0;
  int64_t step_ = 0;
  ProfilerAction action_ = ProfilerAction::kNone;
  std::atomic<int64_t> stream_encoder_cpu_ns_{0};  // this (or the last) session's
  int64_t collector_cpu_ns_ = 0;  // of the last session's threads, kept after stop()
  int64_t exporter_cpu_ns_ = 0;
  int64_t cycles_completed_ = 0;
  int64_t cycles_discarded_ = 0;
  int64_t export_errors_ = 0;
  absl::Status last_export_error_;
  std::atomic<uint64_t> dropped_events_{0};
};

Profiler::Profiler(ProfilerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Profiler::~Profiler() = default;
void Profiler::add_device(DeviceSource& device) { impl_->AddDevice(device); }
absl::Status Profiler::start() { return impl_->Start(); }
void Profiler::step() { impl_->Step(); }
void Profiler::stop() { impl_->Stop(); }
bool Profiler::running() const { return impl_->running(); }
int64_t Profiler::current_step() const { return impl_->current_step(); }
ProfilerAction Profiler::current_action() const { return impl_->current_action(); }
ProfilerStats Profiler::stats() const { return impl_->Stats(); }

}  // namespace scopetrace
