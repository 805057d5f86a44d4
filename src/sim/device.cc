// The simulated accelerator: host calls, its clock, memory and the driver thread that
// releases activity. The schedule itself lives in timeline.h.

#include "scopetrace/sim/device.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "scopetrace/instrument.h"
#include "src/background_thread.h"
#include "src/sim/clock_model.h"
#include "src/sim/device_state.h"
#include "src/sim/host_slice.h"
#include "src/sim/timeline.h"

namespace scopetrace::sim {
namespace {

namespace si = scopetrace::internal;

// Shared by every device of the process: ids are unique and increasing across devices,
// which the profiler's cycle bookkeeping relies on.
std::atomic<uint64_t> g_next_correlation_id{1};

constexpr si::Site kLaunchSite{nullptr, "launch", si::SiteKind::kDynamicScope};
constexpr si::Site kCopyToDeviceSite{"copy_to_device", "launch", si::SiteKind::kScope};
constexpr si::Site kMemsetSite{"memset", "launch", si::SiteKind::kScope};
constexpr si::Site kCopyToHostSite{"copy_to_host", "device_wait", si::SiteKind::kScope};
constexpr si::Site kSynchronizeSite{"synchronize", "device_wait", si::SiteKind::kScope};

// Below this much time left a wait spins instead of sleeping: a sleep overshoots by the
// timer slack (50 µs by default), the spin keeps blocking calls accurate.
constexpr int64_t kSpinNs = 60'000;
// The driver thread wakes at most this often while records are in flight.
constexpr int64_t kDriverMinPeriodNs = 500'000;

int64_t MonotonicNs() { return static_cast<int64_t>(si::MonotonicNs()); }

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

void SleepUntilNs(int64_t target_ns) {
  for (;;) {
    const int64_t now = MonotonicNs();
    if (now >= target_ns) return;
    if (target_ns - now > kSpinNs) {
      const int64_t wake = target_ns - kSpinNs;
      timespec ts{.tv_sec = static_cast<time_t>(wake / 1'000'000'000),
                  .tv_nsec = static_cast<long>(wake % 1'000'000'000)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
    } else {
      CpuRelax();
    }
  }
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Uniform in [0, 1).
double Unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

int64_t CopyNs(const DeviceOptions& options, uint64_t bytes, double bytes_per_s) {
  const double transfer = bytes_per_s > 0 ? static_cast<double>(bytes) * 1e9 / bytes_per_s : 0;
  return options.copy_latency.count() + static_cast<int64_t>(transfer);
}

// Kernels carry their launch name; other operations are named like a driver names them.
std::string OpName(const internal::TimedOp& op) {
  switch (op.kind) {
    case DeviceOpKind::kKernel:
      return op.name != nullptr ? *op.name : std::string();
    case DeviceOpKind::kMemcpyH2D:
      return "Memcpy HtoD";
    case DeviceOpKind::kMemcpyD2H:
      return "Memcpy DtoH";
    case DeviceOpKind::kMemset:
      return "Memset";
    case DeviceOpKind::kSync:
      return "Synchronize";
    case DeviceOpKind::kNone:
      break;
  }
  return "";
}

}  // namespace

// --- Event -------------------------------------------------------------------------------

bool Event::query() const { return device_ == nullptr || device_->host_now_ns() >= ready_ns_; }

void Event::synchronize() const {
  if (device_ != nullptr) device_->WaitUntil(ready_ns_);
}

// --- Stream ------------------------------------------------------------------------------

uint64_t Stream::launch(std::string_view name, std::chrono::nanoseconds duration) {
  return device_->Enqueue(index_, DeviceOpKind::kKernel, name, duration.count(), 0, false);
}

uint64_t Stream::copy_to_device(uint64_t bytes) {
  const int64_t ns = CopyNs(device_->options_, bytes, device_->options_.h2d_bytes_per_s);
  return device_->Enqueue(index_, DeviceOpKind::kMemcpyH2D, {}, ns, bytes, false);
}

uint64_t Stream::copy_to_host(uint64_t bytes) {
  const int64_t ns = CopyNs(device_->options_, bytes, device_->options_.d2h_bytes_per_s);
  return device_->Enqueue(index_, DeviceOpKind::kMemcpyD2H, {}, ns, bytes, true);
}

uint64_t Stream::memset(uint64_t bytes) {
  const double rate = device_->options_.memset_bytes_per_s;
  const auto ns = rate > 0 ? static_cast<int64_t>(static_cast<double>(bytes) * 1e9 / rate) : 0;
  return device_->Enqueue(index_, DeviceOpKind::kMemset, {}, ns, bytes, false);
}

void Stream::synchronize() { device_->SyncStreams(index_); }

Event Stream::record_event() {
  std::lock_guard lock(device_->state_->mu);
  return Event(device_, device_->state_->timeline.stream_end(index_));
}

void Stream::wait_event(const Event& event) {
  if (event.device_ == nullptr) return;
  std::lock_guard lock(device_->state_->mu);
  device_->state_->timeline.WaitUntil(index_, event.ready_ns_);
}

// --- Device ------------------------------------------------------------------------------

Device::Device(DeviceOptions options)
    : options_(std::move(options)), state_(std::make_unique<State>(options_, MonotonicNs())) {
  const int count = std::max(options_.streams, 1);
  for (int i = 0; i < count; ++i) streams_.push_back(std::unique_ptr<Stream>(new Stream(this, i)));
}

Device::~Device() { stop(); }

Stream& Device::stream(int index) { return *streams_.at(static_cast<size_t>(index)); }

void Device::synchronize() { SyncStreams(-1); }

uint64_t Device::Enqueue(int stream, DeviceOpKind kind, std::string_view name, int64_t duration_ns,
                         uint64_t bytes, bool wait) {
  const uint64_t id = g_next_correlation_id.fetch_add(1, std::memory_order_relaxed);
  const si::Site* site = kind == DeviceOpKind::kKernel      ? &kLaunchSite
                         : kind == DeviceOpKind::kMemcpyH2D ? &kCopyToDeviceSite
                         : kind == DeviceOpKind::kMemcpyD2H ? &kCopyToHostSite
                                                            : &kMemsetSite;
  internal::HostSlice slice(site, "launch ", name, id);
  SpendLaunchCost();
  State& s = *state_;
  int64_t end_ns;
  {
    std::lock_guard lock(s.mu);
    internal::TimedOp op{.bytes = bytes, .correlation_id = id, .kind = kind};
    if (s.recording) op.name = s.timeline.InternName(name);
    const internal::TimedOp placed = s.timeline.Schedule(
        static_cast<uint32_t>(stream), host_now_ns(), duration_ns, op, s.recording);
    end_ns = placed.end_ns;
    if (options_.keep_ground_truth) {
      s.truth.push_back({id, placed.stream, kind, placed.start_ns, placed.end_ns});
    }
    // Wake the driver only when this record is due before the driver's next wake-up.
    const int64_t due = placed.end_ns + options_.activity_flush_interval.count();
    if (s.recording && !options_.virtual_time && due < s.planned_wake) {
      s.planned_wake = due;
      s.driver_cv.notify_one();
    }
  }
  if (wait) WaitUntil(end_ns);
  return id;
}

void Device::SyncStreams(int stream) {
  const uint64_t id = g_next_correlation_id.fetch_add(1, std::memory_order_relaxed);
  internal::HostSlice slice(&kSynchronizeSite, {}, {}, id);
  State& s = *state_;
  int64_t target;
  {
    std::lock_guard lock(s.mu);
    // The sync is satisfied where the (last) stream finishes; it is recorded there.
    uint32_t last = stream < 0 ? 0 : static_cast<uint32_t>(stream);
    if (stream < 0) {
      for (uint32_t i = 1; i < streams_.size(); ++i) {
        if (s.timeline.stream_end(i) > s.timeline.stream_end(last)) last = i;
      }
    }
    internal::TimedOp op{.correlation_id = id, .kind = DeviceOpKind::kSync};
    const internal::TimedOp placed = s.timeline.Schedule(last, host_now_ns(), 0, op, s.recording);
    target = placed.end_ns;
    if (options_.keep_ground_truth) {
      s.truth.push_back({id, placed.stream, DeviceOpKind::kSync, placed.start_ns, placed.end_ns});
    }
    const int64_t due = placed.end_ns + options_.activity_flush_interval.count();
    if (s.recording && !options_.virtual_time && due < s.planned_wake) {
      s.planned_wake = due;
      s.driver_cv.notify_one();
    }
  }
  WaitUntil(target);
}

void Device::SpendLaunchCost() {
  const int64_t cost = options_.launch_cost.count();
  if (cost <= 0) return;
  if (options_.virtual_time) {
    state_->virtual_now.fetch_add(cost, std::memory_order_relaxed);
    return;
  }
  const int64_t until = MonotonicNs() + cost;
  while (MonotonicNs() < until) CpuRelax();
}

void Device::WaitUntil(int64_t host_ns) {
  if (!options_.virtual_time) {
    SleepUntilNs(host_ns);
    return;
  }
  int64_t now = state_->virtual_now.load(std::memory_order_relaxed);
  while (now < host_ns &&
         !state_->virtual_now.compare_exchange_weak(now, host_ns, std::memory_order_relaxed)) {
  }
}

int64_t Device::host_now_ns() const {
  return options_.virtual_time ? state_->virtual_now.load(std::memory_order_relaxed)
                               : MonotonicNs();
}

void Device::advance_host_time(std::chrono::nanoseconds duration) {
  if (duration.count() <= 0) return;
  if (options_.virtual_time) {
    state_->virtual_now.fetch_add(duration.count(), std::memory_order_relaxed);
  } else {
    SleepUntilNs(MonotonicNs() + duration.count());
  }
}

int64_t Device::true_ticks(int64_t host_ns) const { return state_->clock.TicksAt(host_ns); }
int64_t Device::true_host_ns(int64_t ticks) const { return state_->clock.HostNsAt(ticks); }

std::vector<OpTruth> Device::ground_truth() const {
  std::lock_guard lock(state_->mu);
  return state_->truth;
}

uint64_t Device::dropped_records() const {
  std::lock_guard lock(state_->mu);
  return state_->timeline.dropped();
}

// --- DeviceSource ------------------------------------------------------------------------

absl::Status Device::start() {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  if (s.started) {
    return absl::FailedPreconditionError(absl::StrCat(options_.name, " is already started"));
  }
  s.started = true;
  s.recording = true;
  s.stopping = false;
  // The memory counter starts at the value in use, not at the first change.
  s.memory_samples.push_back({s.clock.TicksAt(host_now_ns()), s.in_use});
  if (!options_.virtual_time) {
    if (absl::Status status = si::StartThread(s.driver, absl::StrCat(options_.name, " driver"),
                                              [this] { DriverLoop(); });
        !status.ok()) {
      s.started = false;
      s.recording = false;
      s.memory_samples.pop_back();
      return status;
    }
  }
  return absl::OkStatus();
}

void Device::stop() {
  State& s = *state_;
  {
    std::lock_guard lock(s.mu);
    if (!s.started) return;
    s.started = false;
    s.recording = false;
    s.stopping = true;
    s.driver_cv.notify_one();
  }
  if (s.driver.joinable()) s.driver.join();
}

void Device::DriverLoop() {
  State& s = *state_;
  std::unique_lock lock(s.mu);
  while (!s.stopping) {
    const int64_t now = MonotonicNs();
    s.timeline.Advance(now);
    int64_t wake = s.timeline.NextRelease();
    if (wake != internal::Timeline::kNever) wake = std::max(wake, now + kDriverMinPeriodNs);
    s.planned_wake = wake;
    if (wake == internal::Timeline::kNever) {
      s.driver_cv.wait(lock);
    } else {
      s.driver_cv.wait_for(lock, std::chrono::nanoseconds(wake - now));
    }
  }
  s.planned_wake = internal::Timeline::kNever;
}

ClockReading Device::read_clock() {
  State& s = *state_;
  const uint64_t n = s.clock_reads.fetch_add(1, std::memory_order_relaxed);
  const uint64_t bits = SplitMix64(options_.seed * 0x100000001b3ull + n);
  const long double jitter =
      options_.clock_jitter_ns > 0
          ? (Unit(bits) * 2 - 1) * static_cast<double>(options_.clock_jitter_ns)
          : 0.0;
  int64_t at;
  if (options_.virtual_time) {
    // The read takes clock_read_cost of host time; the device samples somewhere inside.
    const int64_t cost = std::max<int64_t>(options_.clock_read_cost.count(), 0);
    const int64_t before = s.virtual_now.fetch_add(cost, std::memory_order_relaxed);
    at = before + static_cast<int64_t>(Unit(SplitMix64(bits)) * static_cast<double>(cost));
  } else {
    at = MonotonicNs();
  }
  return {s.clock.TicksAt(at, jitter), options_.tick_rate_hz};
}

size_t Device::drain_activity(std::vector<ActivityRecord>& out) {
  State& s = *state_;
  std::vector<internal::TimedOp> ops;
  {
    std::lock_guard lock(s.mu);
    // In virtual time there is no driver thread: time only passes when someone looks.
    if (options_.virtual_time) s.timeline.Advance(host_now_ns());
    ops = s.timeline.TakeReleased();
  }
  // Outside the lock: building names and ticks must not stall the host's launches.
  out.reserve(out.size() + ops.size());
  for (const internal::TimedOp& op : ops) {
    out.push_back({.stream = op.stream,
                   .kind = op.kind,
                   .name = OpName(op),
                   .start_ticks = s.clock.TicksAt(op.start_ns),
                   .end_ticks = s.clock.TicksAt(op.end_ns),
                   .bytes = op.bytes,
                   .correlation_id = op.correlation_id});
  }
  return ops.size();
}

void Device::flush() {
  std::lock_guard lock(state_->mu);
  state_->timeline.Advance(host_now_ns());
  state_->timeline.ReleaseOpenBatch();
}

}  // namespace scopetrace::sim
