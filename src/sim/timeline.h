// src/sim/timeline.h: the simulated device's schedule and its activity buffers.
//
// Pure bookkeeping, no threads and no clock reads: the Device guards a Timeline with its
// mutex and passes the current host time in. Device time is defined here: an operation
// starts at max(submission, end of the stream's previous work, events the stream waits
// for) and ends `duration` later, so the schedule of every stream is known the moment
// work is submitted, and a blocking host call only has to wait until a known time.
//
// Records follow a CUPTI-like life: in flight (submitted, not yet ended) → in the open
// batch (ended) → released (drainable). A batch is released when it holds
// `batch_records` records, when `flush_interval_ns` have passed since its first record
// ended, or on Flush(). Records are appended in end-time order across streams.

#ifndef SCOPETRACE_SRC_SIM_TIMELINE_H_
#define SCOPETRACE_SRC_SIM_TIMELINE_H_

#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "scopetrace/trace.h"

namespace scopetrace::sim::internal {

// One operation, timed in true host ns (the Device converts to ticks on delivery).
struct TimedOp {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  uint64_t bytes = 0;
  uint64_t correlation_id = 0;
  // Interned kernel name (Timeline::InternName), immutable and alive as long as the
  // Timeline, so records can be turned into ActivityRecords outside the device's lock.
  const std::string* name = nullptr;
  uint32_t stream = 0;
  DeviceOpKind kind = DeviceOpKind::kKernel;
};

struct TimelineOptions {
  int streams = 1;
  size_t batch_records = 256;
  int64_t flush_interval_ns = 4'000'000;
  size_t max_released = size_t{1} << 20;
};

class Timeline {
 public:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  explicit Timeline(TimelineOptions options);

  // Places an operation of `duration_ns` on `stream`, submitted at `submit_ns`; returns
  // it with start_ns/end_ns filled in. Kept for delivery only when `record` is true.
  TimedOp Schedule(uint32_t stream, int64_t submit_ns, int64_t duration_ns, TimedOp op,
                   bool record);
  // When the work submitted to `stream` so far ends (may lie in the past).
  int64_t stream_end(uint32_t stream) const { return stream_end_[stream]; }
  // Work submitted to `stream` from now on starts no earlier than `ready_ns`.
  void WaitUntil(uint32_t stream, int64_t ready_ns);

  // Moves the records that ended by `now_ns` into batches and releases the batches due.
  void Advance(int64_t now_ns);
  // Releases the open batch (records ended by the last Advance) whatever its age or size.
  void ReleaseOpenBatch();
  // The host time at which Advance() next has something to release; kNever if idle.
  int64_t NextRelease() const;
  bool has_in_flight() const;

  // Moves the released records out, oldest first.
  std::vector<TimedOp> TakeReleased();
  // Released records lost because nobody took them in time.
  uint64_t dropped() const { return dropped_; }

  // Kernel names are interned so a launch stores a pointer, not a string.
  const std::string* InternName(std::string_view name);

 private:
  void Release();

  const TimelineOptions options_;
  std::vector<int64_t> stream_end_;
  std::vector<std::deque<TimedOp>> in_flight_;  // per stream, in end order
  // Ended records in end order: the first `released_` are released, the rest form the
  // open batch. One vector, so releasing a batch moves an index, not the records.
  std::vector<TimedOp> done_;
  size_t released_ = 0;
  int64_t open_batch_first_end_ = 0;
  uint64_t dropped_ = 0;
  absl::flat_hash_map<std::string, std::unique_ptr<const std::string>> names_;
};

}  // namespace scopetrace::sim::internal

#endif  // SCOPETRACE_SRC_SIM_TIMELINE_H_
