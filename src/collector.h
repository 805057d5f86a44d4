// Internal: the collector thread. It drains every thread's ring in batches, converts
// ticks to nanoseconds, assigns each event to the cycle whose step window holds its start
// (events of warmup and wait steps are dropped here, so they never reach a trace), and
// hands each finished cycle to `on_cycle` (the exporter's queue).
//
// The profiler tells it where steps begin and end through `PostBoundary`, which reads the
// boundary's timestamp under the collector's lock. The collector, when it takes the posted
// boundaries, reads a "safe" timestamp under the same lock: every boundary earlier than it
// has been posted, so any event that began before it can be assigned at once. Only events
// that began during a drain wait (pending) for the next round.

#ifndef SCOPETRACE_SRC_COLLECTOR_H_
#define SCOPETRACE_SRC_COLLECTOR_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "scopetrace/schedule.h"
#include "src/background_thread.h"
#include "src/clock.h"
#include "src/cycle_builder.h"
#include "src/host_event.h"
#include "src/thread_registry.h"

namespace scopetrace::internal {

// The end of one step and the start of the next, as seen by the step thread.
struct Boundary {
  uint64_t ticks = 0;
  int64_t next_step = 0;  // the step that begins here
  ProfilerAction next_action = ProfilerAction::kNone;
  int64_t tid = 0;    // the thread calling step()
  bool stop = false;  // Profiler::stop(): nothing begins
};

// Device activity for a cycle, supplied by the device hub (optional).
struct DeviceHooks {
  std::function<void()> poll;
  // Adds the cycle's device ops to `trace`, waiting (bounded) for records in flight.
  std::function<void(const CycleBuilder& cycle, int64_t end_ns, Trace& trace)> collect;
};

class Collector {
 public:
  Collector(const SessionInfo& session, TickClock& clock, DeviceHooks devices,
            std::function<void(FinishedCycle)> on_cycle);
  ~Collector();

  absl::Status Start();  // fails only when no thread can be started
  // Stamps `boundary` with the current ticks (under the lock) and queues it; returns the
  // stamp. Callers change the capture state after this returns.
  uint64_t PostBoundary(Boundary boundary);
  // Waits until the stop boundary has been processed and every cycle handed over.
  void Join();

  int64_t cycles_completed() const;
  int64_t cycles_discarded() const;
  // CPU time the collector thread has used so far.
  int64_t cpu_ns() const { return cpu_.ns(); }

 private:
  struct Interval {
    uint64_t begin = 0;
    uint64_t end = UINT64_MAX;
    int64_t step = 0;
    ProfilerAction action = ProfilerAction::kNone;
    int64_t cycle = -1;  // the recorded cycle this step belongs to, or -1
  };
  struct OpenCycle {
    std::unique_ptr<CycleBuilder> builder;
    uint64_t end_ticks = UINT64_MAX;  // known once its last step (or stop) is posted
    int64_t end_ns = 0;
  };

  void Run();
  void ApplyBoundary(const Boundary& boundary);
  struct HeadSnapshot {
    uint64_t head = 0;
    bool exited = false;
  };
  struct EventVisitor;
  // Decodes `state`'s records below `head.head`; reaps the thread if it had exited.
  size_t DrainThread(ThreadState& state, const HeadSnapshot& head);
  // Drops the oldest intervals once there are many: a process that steps for days must
  // not grow a vector per step. Only finished steps of finished (or unrecorded) cycles go.
  void PruneIntervals();
  // The wait before the next round, after one that drained `drained` events and began
  // `since_last_round_ns` after the one before (see kTargetFill).
  absl::Duration NextInterval(absl::Duration interval, size_t drained,
                              int64_t since_last_round_ns) const;
  // A scope with a static name and no payload, still in ticks.
  void AddComplete(int64_t tid, const Site* site, uint64_t begin, uint64_t end);
  // Where an event that began at `t` goes: to `cycle`, pending (the next round decides),
  // or nowhere (before capture, warmup/wait steps, after stop, or late: counted).
  struct Placement {
    CycleBuilder* cycle = nullptr;
    bool pending = false;
  };
  Placement Place(uint64_t t);
  // Assigns `event` to a cycle, or keeps it pending; returns false when kept pending.
  bool Classify(HostEvent& event);
  void FinishReadyCycles();
  void AttributeDrops(int64_t tid, uint64_t dropped);
  std::unique_ptr<CycleBuilder> NewCycle(int64_t index, int64_t start_ns);

  const SessionInfo& session_;
  TickClock& clock_;
  DeviceHooks devices_;
  std::function<void(FinishedCycle)> on_cycle_;

  // std::mutex rather than absl::Mutex: Debian's prebuilt abseil is not instrumented for
  // ThreadSanitizer, which then cannot see its locks and reports false races.
  mutable std::mutex mu_;
  std::condition_variable wake_cv_;
  std::vector<Boundary> posted_;  // guarded by mu_
  bool wake_ = false;             // guarded by mu_
  int64_t cycles_completed_ = 0;  // guarded by mu_
  int64_t cycles_discarded_ = 0;  // guarded by mu_

  // Collector-thread state.
  bool stopped_ = false;
  uint64_t safe_ticks_ = 0;
  // One per step since the oldest retained (see PruneIntervals).
  std::vector<Interval> intervals_;
  size_t last_interval_ = 0;  // the interval Place() found last (a cache)
  // Where capture began (the first interval's begin, kept after that interval is pruned),
  // and whether a pruned interval belonged to a recorded cycle.
  uint64_t capture_begin_ticks_ = UINT64_MAX;
  bool pruned_recorded_ = false;
  std::map<int64_t, OpenCycle> cycles_;
  int64_t next_cycle_ = 0;
  // The step still running (the last interval) and its cycle's builder, or nullptr when
  // that step is not recorded; UINT64_MAX / nullptr while no step runs.
  uint64_t open_step_begin_ = UINT64_MAX;
  CycleBuilder* open_step_cycle_ = nullptr;
  std::vector<HeadSnapshot> heads_;
  double fullest_ = 0;  // the fullest ring's share of its capacity at this round's snapshot
  std::vector<HostEvent> pending_;
  std::vector<ThreadState*> threads_;
  absl::flat_hash_map<ThreadState*, std::unique_ptr<RingDecoder>> decoders_;
  absl::flat_hash_map<ThreadState*, uint64_t> dropped_seen_;
  absl::flat_hash_map<int64_t, std::string> exited_thread_names_;
  absl::flat_hash_map<int64_t, uint64_t> unattributed_drops_;
  uint64_t late_host_events_ = 0;
  CpuTimeMeter cpu_;
  std::thread thread_;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_COLLECTOR_H_
