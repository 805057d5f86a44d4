// src/sim/device_state.h: the state behind a sim::Device, shared by its source files
// (device.cc: host calls, clock, activity; device_memory.cc: allocations).

#ifndef SCOPETRACE_SRC_SIM_DEVICE_STATE_H_
#define SCOPETRACE_SRC_SIM_DEVICE_STATE_H_

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "scopetrace/sim/device.h"
#include "src/sim/clock_model.h"
#include "src/sim/timeline.h"

namespace scopetrace::sim {

// Everything behind the mutex is the device as the driver sees it; the host-side
// virtual clock and the clock read counter are atomics so reads need no lock.
struct Device::State {
  State(const DeviceOptions& options, int64_t start_ns)
      : clock(options.tick_rate_hz, options.clock_offset_ns, options.drift_ppm),
        timeline({.streams = std::max(options.streams, 1),
                  .batch_records = std::max<size_t>(options.activity_batch_records, 1),
                  .flush_interval_ns = options.activity_flush_interval.count(),
                  .max_released = options.max_buffered_records}),
        virtual_now(start_ns) {}

  const internal::ClockModel clock;
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees through pthread mutexes
  // even when abseil is a prebuilt, uninstrumented library.
  mutable std::mutex mu;
  std::condition_variable driver_cv;
  internal::Timeline timeline;
  bool started = false;
  bool recording = false;
  bool stopping = false;
  int64_t planned_wake = internal::Timeline::kNever;
  std::thread driver;
  std::vector<MemorySample> memory_samples;
  absl::flat_hash_map<uint64_t, uint64_t> allocations;
  uint64_t next_address = 0x7f00'0000'0000;
  int64_t in_use = 0;
  std::vector<OpTruth> truth;
  std::atomic<int64_t> virtual_now;
  std::atomic<uint64_t> clock_reads{0};
};

}  // namespace scopetrace::sim

#endif  // SCOPETRACE_SRC_SIM_DEVICE_STATE_H_
