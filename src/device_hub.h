// src/device_hub.h: the profiler's side of every DeviceSource: it drains their activity
// and memory samples, keeps their clocks synchronized, and hands each recorded cycle the
// device operations its steps launched, on the host timeline.
//
// Used by the collector thread (Profiler integrates it):
//
//   DeviceHub hub;
//   hub.Add(&npu);                    // before Start(); device i → pid kDevicePidBase + i
//   RETURN_IF_ERROR(hub.Start());     // starts the sources, takes the first clock pairs
//   ...
//   hub.BeginCycle();                 // a recorded cycle begins (any thread; optional)
//   while (capturing) { hub.Poll(); sleep ~1 ms; }
//   hub.CollectCycle(launched_ids, cycle_start_ns, cycle_end_ns, absl::Seconds(2), trace);
//   hub.Stop();
//
// Cycle membership. A device operation belongs to the cycle whose recorded step launched
// it: the collector passes the correlation ids of the launch slices it recorded in the
// cycle (`launched`), and only those operations enter the trace. Operations launched in
// WAIT or WARMUP steps are discarded, never leaked into a cycle. Correlation ids increase
// with time, so once a cycle has been collected every record with an id up to the
// cycle's highest id is settled: it was handed over, or belongs to no cycle and is
// dropped on arrival (or counted late, below). Records with higher ids are kept until
// the next collection. Memory stays bounded: with BeginCycle() records arriving while no
// cycle is open or awaiting collection are dropped at once; without it, at most
// `max_pending_records` are kept (the lowest ids are evicted first).
//
// Late and missing. CollectCycle waits up to `timeout` (calling each source's flush()
// and Poll()) for the launched operations still in flight; those that have not arrived
// count as metadata.device_records_missing. If one arrives afterwards it counts as
// device_records_late in the next cycle handed over.
//
// Clocks. Each source has a ClockSync fed a pair every `clock_pair_interval` (the
// narrowest of `reads_per_pair` bracketed reads). A record is converted to host ns as
// soon as a pair newer than its end exists, with the fit of that moment: interpolation
// inside a window of recent pairs, so even a minute-long cycle is converted accurately
// while the window follows a changing drift. CollectCycle takes a fresh pair first.
//
// Thread safety: BeginCycle() may be called from any thread; everything else from one
// thread at a time (the collector's).

#ifndef SCOPETRACE_SRC_DEVICE_HUB_H_
#define SCOPETRACE_SRC_DEVICE_HUB_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "scopetrace/device.h"
#include "scopetrace/trace.h"
#include "src/clock_sync.h"

namespace scopetrace::internal {

struct DeviceHubOptions {
  absl::Duration clock_pair_interval = absl::Milliseconds(25);
  // Each pair is the narrowest-bracketed of this many reads.
  int reads_per_pair = 3;
  // Pairs taken by Start(), so a fit exists before the first record.
  int initial_pairs = 4;
  ClockSyncOptions clock;
  size_t max_pending_records = size_t{1} << 20;
  // Ids reported missing that are remembered, to count them late if they arrive.
  size_t max_missing_ids = size_t{1} << 16;
  // The host clock pairs are bracketed by. Default: CLOCK_MONOTONIC ns. Tests with
  // virtual-time devices pass the device's clock.
  std::function<int64_t()> host_clock_ns;
};

class DeviceHub {
 public:
  explicit DeviceHub(DeviceHubOptions options = {});
  ~DeviceHub();
  DeviceHub(const DeviceHub&) = delete;
  DeviceHub& operator=(const DeviceHub&) = delete;

  // Adds a source (not owned; it must outlive the hub's session). Before Start().
  void Add(DeviceSource* source);
  // Starts every source and takes the initial clock pairs. On error the sources already
  // started are stopped and the error names the device.
  absl::Status Start();
  // Stops every source. Collect the open cycle first.
  void Stop();

  // Tells the hub a recorded cycle begins; call before its first launch can happen.
  // Optional: it only lets the hub drop unclaimed records early (see above).
  void BeginCycle() { cycles_begun_.fetch_add(1, std::memory_order_relaxed); }

  // Drains activity and memory samples, takes a clock pair when one is due, converts
  // what the pairs bracket. Call often (~every 1 ms); cheap when there is nothing new.
  void Poll();

  // Moves into `trace` the operations whose correlation id is in `launched` (device
  // processes and stream tracks per trace.h's conventions; op_kind, category, args
  // "stream" and "bytes", correlation_id, flow_in = correlation id), the memory samples
  // in [start_ns, end_ns] (plus the value at start_ns), each device's ClockFit into
  // metadata.clock_fits, and metadata.device_records_missing / device_records_late.
  // Waits up to `timeout` for launched operations still in flight. Appends; the caller
  // calls trace.SortEvents() once at the end.
  void CollectCycle(const absl::flat_hash_set<uint64_t>& launched, int64_t start_ns, int64_t end_ns,
                    absl::Duration timeout, Trace& trace);

  // --- Introspection (tests, diagnostics) ---
  size_t device_count() const { return devices_.size(); }
  const ClockSync& clock_sync(size_t device) const;
  // Records held for a cycle not yet collected.
  size_t pending_records() const { return pending_.size(); }
  // Records dropped because max_pending_records was reached.
  uint64_t evicted_records() const { return evicted_; }

 private:
  // One delivered operation, waiting for the cycle that claims it.
  struct Pending {
    uint32_t device = 0;
    uint32_t stream = 0;
    DeviceOpKind kind = DeviceOpKind::kKernel;
    bool converted = false;
    std::string name;
    uint64_t bytes = 0;
    int64_t start_ticks = 0;
    int64_t end_ticks = 0;
    int64_t start_ns = 0;  // host ns, once converted
    int64_t end_ns = 0;
  };
  struct Device {
    explicit Device(DeviceSource* source) : source(source), name(source->name()) {}
    DeviceSource* source;
    std::string name;
    std::optional<ClockSync> sync;  // created by Start(), with the source's tick rate
    int64_t next_pair_ns = 0;
    std::vector<uint64_t> unconverted;               // ids of pending ops not yet converted
    std::vector<MemorySample> raw_memory;            // samples not yet converted
    std::deque<std::pair<int64_t, int64_t>> memory;  // (host ns, bytes in use)
  };

  int64_t HostNow() const;
  void TakePair(Device& device);
  void Ingest(uint32_t device, ActivityRecord& record);
  void ConvertBracketed(Device& device, bool all);
  void AddMemoryCounter(const Device& device, int64_t pid, int64_t start_ns, int64_t end_ns,
                        Trace& trace);
  bool CycleOpen() const;

  DeviceHubOptions options_;
  std::vector<std::unique_ptr<Device>> devices_;
  bool started_ = false;
  absl::flat_hash_map<uint64_t, Pending> pending_;
  // Pending ids in arrival (≈ id) order, for eviction and settling; may hold ids already
  // claimed, skipped when reached.
  std::deque<uint64_t> arrival_;
  absl::flat_hash_set<uint64_t> missing_;
  std::deque<uint64_t> missing_order_;
  uint64_t watermark_ = 0;  // highest correlation id of a collected cycle
  uint64_t late_ = 0;       // since the last cycle handed over
  uint64_t evicted_ = 0;
  std::atomic<int64_t> cycles_begun_{0};
  int64_t cycles_collected_ = 0;
  std::vector<ActivityRecord> scratch_;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_DEVICE_HUB_H_
