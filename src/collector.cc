#include "src/collector.h"

#include <algorithm>
#include <cstdio>

#include "absl/time/time.h"
#include "scopetrace/instrument.h"
#include "src/background_thread.h"

namespace scopetrace::internal {
namespace {

// How long after a cycle's last step the collector still accepts its host events: scopes
// on other threads that began inside the cycle and end a moment after its last step.
constexpr int64_t kCycleGraceNs = 2'000'000;
// Drain cadence: as slow as the rings allow. While events flow, the next round is due when
// the fullest ring, filling at the rate it did since the last round, would hold
// kTargetFill of its capacity: a light load (an inference loop writing 100 k events/s)
// wakes the collector every kIdleInterval rather than every millisecond, which matters
// when it shares a core with the application; a heavy one drains every kBusyInterval
// with eight times the room a round needs for bursts. While the application is idle the
// cadence backs off to kIdleInterval too. The default 4 MiB ring holds ~17 ms of events
// at 10 M events/s, well above the slowest cadence.
constexpr absl::Duration kBusyInterval = absl::Milliseconds(1);
constexpr absl::Duration kIdleInterval = absl::Milliseconds(8);
constexpr double kTargetFill = 1.0 / 8;
// Step intervals kept for placing events: a scope that began this many steps ago still
// finds its step; one older than that is counted late if its step may have been recorded.
constexpr size_t kRetainedIntervals = 4096;
// Streaming: a cycle's events go to its outputs once this many are held in memory.
constexpr size_t kStreamChunkEvents = size_t{1} << 16;

bool Recorded(ProfilerAction action) {
  return action == ProfilerAction::kRecord || action == ProfilerAction::kRecordAndSave;
}

}  // namespace

Collector::Collector(const SessionInfo& session, TickClock& clock, DeviceHooks devices,
                     std::function<void(FinishedCycle)> on_cycle)
    : session_(session),
      clock_(clock),
      devices_(std::move(devices)),
      on_cycle_(std::move(on_cycle)) {}

Collector::~Collector() {
  if (thread_.joinable()) thread_.join();
}

absl::Status Collector::Start() {
  return StartThread(thread_, "scopetrace collector", [this] { Run(); });
}

uint64_t Collector::PostBoundary(Boundary boundary) {
  std::lock_guard<std::mutex> lock(mu_);
  boundary.ticks = Ticks();
  posted_.push_back(boundary);
  wake_ = true;
  wake_cv_.notify_one();
  return boundary.ticks;
}

void Collector::Join() {
  if (thread_.joinable()) thread_.join();
}

int64_t Collector::cycles_completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cycles_completed_;
}

int64_t Collector::cycles_discarded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cycles_discarded_;
}

void Collector::Run() {
  NameThisThread("scopetrace-coll");
  std::vector<Boundary> boundaries;
  absl::Duration interval = kBusyInterval;
  int64_t last_round_ns = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_cv_.wait_for(lock, absl::ToChronoNanoseconds(interval), [this] { return wake_; });
      // The thread list is read after the wait, under mu_, so it holds every thread that
      // registered before posting a boundary this round applies. Read before the wait (as
      // it once was), a thread that started recording while the collector slept, then
      // called stop(), was missing from the final round: when the collector woke more
      // than the cycle's grace after the stop, it finished the cycle and ended without
      // ever draining that ring (seen under TSan on a loaded machine: 500 scopes lost,
      // none counted). The registry never takes mu_, so the lock order is safe.
      ThreadRegistry::Get().Snapshot(threads_);
      // Where each ring's published records end, read before safe_ticks_ (and so before
      // the clock pair below): every event decoded in this round then began before
      // safe_ticks_ and is assigned at once (Classify keeps a straggler pending anyway),
      // and every tick value lies before the newest pair, so it is converted by
      // interpolation (a pure function of the ticks), never extrapolated.
      heads_.clear();
      fullest_ = 0;
      for (ThreadState* state : threads_) {
        // Read before the head: everything the thread wrote before it exited is then
        // below the head, and the state can be reaped right after this round's drain.
        const bool exited = state->exited.load(std::memory_order_acquire);
        const uint64_t head = state->ring.AcquireHead();
        heads_.push_back(HeadSnapshot{head, exited});
        fullest_ = std::max(fullest_, static_cast<double>(head - state->ring.tail()) /
                                          static_cast<double>(state->ring.capacity()));
      }
      boundaries.swap(posted_);
      wake_ = false;
      safe_ticks_ = Ticks();
    }
    clock_.Sample();
    for (const Boundary& boundary : boundaries) ApplyBoundary(boundary);
    boundaries.clear();
    if (!pending_.empty()) {
      std::vector<HostEvent> still_pending;
      for (HostEvent& event : pending_) {
        if (!Classify(event)) still_pending.push_back(std::move(event));
      }
      pending_.swap(still_pending);
    }
    size_t drained = 0;
    for (size_t i = 0; i < threads_.size(); ++i) {
      if (!heads_[i].exited) threads_[i]->MapRingAhead(heads_[i].head);
      drained += DrainThread(*threads_[i], heads_[i]);
    }
    const int64_t round_ns = static_cast<int64_t>(MonotonicNs());
    interval = NextInterval(interval, drained, round_ns - last_round_ns);
    last_round_ns = round_ns;
    if (devices_.poll) devices_.poll();
    for (auto& [index, cycle] : cycles_) cycle.builder->FlushToSink(kStreamChunkEvents);
    FinishReadyCycles();
    cpu_.Publish();
    if (stopped_ && cycles_.empty()) break;
  }
}

absl::Duration Collector::NextInterval(absl::Duration interval, size_t drained,
                                       int64_t since_last_round_ns) const {
  if (drained == 0) return std::min(interval * 2, kIdleInterval);
  if (fullest_ <= 0 || since_last_round_ns <= 0) return kBusyInterval;
  const absl::Duration due =
      absl::Nanoseconds(static_cast<double>(since_last_round_ns) * kTargetFill / fullest_);
  return std::clamp(due, kBusyInterval, kIdleInterval);
}

// Receives one thread's decoded events.
struct Collector::EventVisitor {
  Collector& collector;
  int64_t tid;
  void Complete(const Site* site, uint64_t begin, uint64_t end) {
    collector.AddComplete(tid, site, begin, end);
  }
  void Event(HostEvent& event) {
    if (!collector.Classify(event)) collector.pending_.push_back(std::move(event));
  }
};

size_t Collector::DrainThread(ThreadState& state, const HeadSnapshot& head) {
  std::unique_ptr<RingDecoder>& decoder = decoders_[&state];
  if (!decoder) decoder = std::make_unique<RingDecoder>(state.tid);
  EventVisitor visitor{*this, state.tid};
  // A streamed cycle goes to its outputs a chunk at a time; a thread that wrote more than a
  // chunk since the last round (the first round, or one after the encoder held the
  // collector up) is drained a chunk at a time too, so that a chunk stays near its size:
  // a round of a whole 6 MiB ring at 10 M events/s made 500 k-slice chunks, 110 MB of
  // slice vectors faulted in while the rings overflowed. (Without streaming, FlushToSink
  // does nothing.)
  size_t events = 0;
  for (;;) {
    const size_t n = decoder->DrainUpTo(state.ring, head.head, visitor, kStreamChunkEvents);
    events += n;
    if (n < kStreamChunkEvents) break;
    for (auto& [index, cycle] : cycles_) cycle.builder->FlushToSink(kStreamChunkEvents);
  }
  const uint64_t dropped = state.ring.dropped();
  uint64_t& seen = dropped_seen_[&state];
  if (dropped > seen) {
    AttributeDrops(state.tid, dropped - seen);
    seen = dropped;
  }
  if (head.exited) {
    std::string name = ThreadRegistry::Get().ThreadName(state.tid);
    if (!name.empty()) exited_thread_names_[state.tid] = std::move(name);
    decoders_.erase(&state);
    dropped_seen_.erase(&state);
    ThreadRegistry::Get().Reap(&state);
  }
  return events;
}

void Collector::AddComplete(int64_t tid, const Site* site, uint64_t begin, uint64_t end) {
  // Fast path: the event began in the step still running, before safe_ticks_ (see
  // Classify), which is where nearly every event of a busy capture lands.
  if (begin >= open_step_begin_ && begin < safe_ticks_) {
    if (open_step_cycle_ != nullptr) {
      open_step_cycle_->AddComplete(site, tid, clock_.ToNs(begin), clock_.ToNs(end));
    }
    return;
  }
  const Placement placement = Place(begin);
  if (placement.cycle != nullptr) {
    placement.cycle->AddComplete(site, tid, clock_.ToNs(begin), clock_.ToNs(end));
  } else if (placement.pending) {
    HostEvent& event = pending_.emplace_back();
    event.site = site;
    event.tid = tid;
    event.begin = begin;
    event.end = end;
  }
}

void Collector::ApplyBoundary(const Boundary& boundary) {
  int64_t previous_cycle = -1;
  ProfilerAction previous_action = ProfilerAction::kNone;
  if (!intervals_.empty()) {
    Interval& current = intervals_.back();
    current.end = boundary.ticks;
    previous_cycle = current.cycle;
    previous_action = current.action;
    if (current.cycle >= 0) {
      OpenCycle& cycle = cycles_[current.cycle];
      cycle.builder->AddStep(current.step, boundary.tid, clock_.ToNs(current.begin),
                             clock_.ToNs(current.end));
      if (current.action == ProfilerAction::kRecordAndSave || boundary.stop) {
        cycle.end_ticks = boundary.ticks;
        cycle.end_ns = clock_.ToNs(boundary.ticks);
      }
    } else if (boundary.stop && current.action == ProfilerAction::kWarmup) {
      std::lock_guard<std::mutex> lock(mu_);
      ++cycles_discarded_;
    }
  }
  open_step_begin_ = UINT64_MAX;  // no step is open until the one below is pushed
  open_step_cycle_ = nullptr;
  if (boundary.stop) {
    stopped_ = true;
    return;
  }
  Interval next{
      .begin = boundary.ticks, .step = boundary.next_step, .action = boundary.next_action};
  if (Recorded(boundary.next_action)) {
    if (previous_cycle >= 0 && previous_action == ProfilerAction::kRecord) {
      next.cycle = previous_cycle;
    } else {
      next.cycle = next_cycle_++;
      OpenCycle& cycle = cycles_[next.cycle];
      cycle.builder = NewCycle(next.cycle, clock_.ToNs(boundary.ticks));
      for (const auto& [tid, dropped] : unattributed_drops_) cycle.builder->AddDrops(tid, dropped);
      unattributed_drops_.clear();
    }
  }
  if (intervals_.empty()) capture_begin_ticks_ = next.begin;
  intervals_.push_back(next);
  if (intervals_.size() >= 2 * kRetainedIntervals) PruneIntervals();
  open_step_begin_ = next.begin;
  open_step_cycle_ = next.cycle >= 0 ? cycles_[next.cycle].builder.get() : nullptr;
}

std::unique_ptr<CycleBuilder> Collector::NewCycle(int64_t index, int64_t start_ns) {
  auto builder = std::make_unique<CycleBuilder>(session_, index, start_ns);
  if (!session_.streamed_formats.empty()) {
    std::vector<std::pair<Format, std::string>> outputs;
    for (Format format : session_.streamed_formats) {
      outputs.emplace_back(format, session_.path_for(index, format));
    }
    absl::StatusOr<std::unique_ptr<StreamingSink>> sink = StreamingSink::Open(outputs);
    const absl::Status status = sink.ok() ? builder->AttachSink(std::move(*sink)) : sink.status();
    if (!status.ok()) {
      // The cycle is then kept in memory and written whole at its end.
      std::fprintf(stderr, "scopetrace: cycle %lld cannot stream: %s\n",
                   static_cast<long long>(index), std::string(status.message()).c_str());
    }
  }
  return builder;
}

void Collector::PruneIntervals() {
  // Halving in one erase keeps the cost per step constant.
  size_t prune = intervals_.size() - kRetainedIntervals;
  for (size_t i = 0; i < prune; ++i) {
    const Interval& interval = intervals_[i];
    if (interval.end == UINT64_MAX || cycles_.contains(interval.cycle)) {
      prune = i;  // a cycle still open: keep it and everything after it
      break;
    }
    pruned_recorded_ = pruned_recorded_ || interval.cycle >= 0;
  }
  intervals_.erase(intervals_.begin(), intervals_.begin() + static_cast<ptrdiff_t>(prune));
  last_interval_ = 0;
}

Collector::Placement Collector::Place(uint64_t t) {
  if (intervals_.empty() || t < capture_begin_ticks_) return {};  // before capture
  if (t < intervals_.front().begin) {
    // In a pruned step, thousands of steps ago: its cycle (if it had one) is long gone.
    if (pruned_recorded_) ++late_host_events_;
    return {};
  }
  // Events arrive in runs from one step: try the interval of the previous lookup first.
  if (t < intervals_[last_interval_].begin || t >= intervals_[last_interval_].end) {
    auto it = std::upper_bound(intervals_.begin(), intervals_.end(), t,
                               [](uint64_t ticks, const Interval& i) { return ticks < i.begin; });
    last_interval_ = static_cast<size_t>(it - intervals_.begin()) - 1;
  }
  const Interval& interval = intervals_[last_interval_];
  // In the step still running: every boundary before safe_ticks_ has been posted, so an
  // event that began before it belongs to this step; a later one waits for the next round.
  if (interval.end == UINT64_MAX && t >= safe_ticks_) return {.pending = true};
  if (t >= interval.end || interval.cycle < 0) return {};  // after stop, warmup or wait
  auto cycle = cycles_.find(interval.cycle);
  if (cycle == cycles_.end()) {
    ++late_host_events_;  // its cycle was handed over already
    return {};
  }
  return {.cycle = cycle->second.builder.get()};
}

bool Collector::Classify(HostEvent& event) {
  const Placement placement = Place(event.begin);
  if (placement.pending) return false;
  if (placement.cycle != nullptr) {
    placement.cycle->AddHostEvent(event, clock_.ToNs(event.begin), clock_.ToNs(event.end));
  }
  return true;
}

void Collector::AttributeDrops(int64_t tid, uint64_t dropped) {
  // A drop happened since the last drain: it belongs to the newest cycle still open, or
  // to the next one when none is (drops are never silently forgotten).
  if (!cycles_.empty()) {
    cycles_.rbegin()->second.builder->AddDrops(tid, dropped);
  } else {
    unattributed_drops_[tid] += dropped;
  }
}

void Collector::FinishReadyCycles() {
  const int64_t now_ns = static_cast<int64_t>(MonotonicNs());
  while (!cycles_.empty()) {
    OpenCycle& cycle = cycles_.begin()->second;
    if (cycle.end_ticks == UINT64_MAX || now_ns < cycle.end_ns + kCycleGraceNs) break;
    CycleBuilder& builder = *cycle.builder;
    builder.NameThreads([this](int64_t tid) {
      std::string name = ThreadRegistry::Get().ThreadName(tid);
      if (name.empty()) {
        auto it = exited_thread_names_.find(tid);
        if (it != exited_thread_names_.end()) name = it->second;
      }
      return name;
    });
    builder.AddLateHostEvents(late_host_events_);
    late_host_events_ = 0;
    if (devices_.collect) devices_.collect(builder, cycle.end_ns, builder.trace());
    FinishedCycle finished = builder.Finish(cycle.end_ns);
    if (session_.on_cycle_finished) {
      session_.on_cycle_finished(builder, *finished.trace,
                                 intervals_.empty() ? 0 : intervals_.back().step);
    }
    cycles_.erase(cycles_.begin());
    if (cycles_.empty()) exited_thread_names_.clear();
    on_cycle_(std::move(finished));
    std::lock_guard<std::mutex> lock(mu_);
    ++cycles_completed_;
  }
}

}  // namespace scopetrace::internal
