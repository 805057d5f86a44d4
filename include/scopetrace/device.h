// scopetrace/device.h
//
// `DeviceSource` is the interface a device backend implements so its activity (kernels,
// copies, memsets, synchronizations on its streams) appears on the host timeline next to
// the host scopes that launched it. The built-in backend is the simulated accelerator
// (`scopetrace/sim/device.h`); a real driver's activity API fits the same shape: records
// arrive in batches after the fact, timed by the device's own clock.
//
// Example (a backend):
//
//   class MyDriver : public scopetrace::DeviceSource {
//    public:
//     std::string_view name() const override { return "npu0"; }
//     int stream_count() const override { return 4; }
//     absl::Status start() override { return driver_enable_activity(); }
//     void stop() override { driver_disable_activity(); }
//     scopetrace::ClockReading read_clock() override { return {driver_ticks(), 1e9}; }
//     size_t drain_activity(std::vector<scopetrace::ActivityRecord>& out) override;
//   };
//
//   MyDriver driver;
//   profiler.add_device(driver);
//
// The profiler reads the clock periodically (each read bracketed by two host clock reads)
// and fits a linear map from device ticks to host nanoseconds, so both offset and drift
// are corrected. A host launch slice and the device operation it caused share a
// correlation id; the profiler links them with a flow and assigns the operation to the
// cycle whose recorded step launched it.

#ifndef SCOPETRACE_DEVICE_H_
#define SCOPETRACE_DEVICE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "scopetrace/trace.h"

namespace scopetrace {

// One completed device operation, timed by the device clock.
struct ActivityRecord {
  uint32_t stream = 0;
  DeviceOpKind kind = DeviceOpKind::kKernel;
  std::string name;
  int64_t start_ticks = 0;
  int64_t end_ticks = 0;
  uint64_t bytes = 0;           // copies and memsets
  uint64_t correlation_id = 0;  // matches the host launch slice's "correlation_id" arg
};

// Device memory in use, sampled by the device when it changes.
struct MemorySample {
  int64_t ticks = 0;
  int64_t bytes_in_use = 0;
};

// One read of the device clock.
struct ClockReading {
  int64_t ticks = 0;
  double tick_rate_hz = 0;  // nominal rate; drift is fitted by the profiler
};

// Thread safety: the profiler calls read_clock() and drain_*() from its collector thread
// while the application uses the device from its own threads; implementations must
// allow that.
class DeviceSource {
 public:
  virtual ~DeviceSource() = default;

  // Shown as the device's process name in traces ("sim0").
  virtual std::string_view name() const = 0;
  virtual int stream_count() const = 0;
  // Called by Profiler::start() / stop().
  virtual absl::Status start() = 0;
  virtual void stop() = 0;
  // Reads the device clock now. Called bracketed by host clock reads.
  virtual ClockReading read_clock() = 0;
  // Appends the records completed since the last call; returns how many. Never blocks.
  virtual size_t drain_activity(std::vector<ActivityRecord>& out) = 0;
  // Appends memory samples since the last call; returns how many.
  virtual size_t drain_memory(std::vector<MemorySample>& out) {
    (void)out;
    return 0;
  }
  // Asks the backend to deliver records it still buffers (a driver's flush call).
  virtual void flush() {}
};

}  // namespace scopetrace

#endif  // SCOPETRACE_DEVICE_H_
