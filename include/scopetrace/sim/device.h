// scopetrace/sim/device.h
//
// `scopetrace::sim::Device` is the built-in simulated accelerator: N streams (queues)
// that execute work in order, concurrently with each other and with the host, a host-side
// launch cost, copies timed by a bandwidth model, device memory, and its own clock with a
// configurable rate, offset, drift and read jitter. It implements `DeviceSource`, so the
// profiler shows its activity on the host timeline exactly as it would a real driver's:
// records arrive in batches after the fact, timed by the device clock.
//
// Example:
//
//   scopetrace::sim::Device npu({.name = "sim0", .streams = 2, .drift_ppm = 50});
//   profiler.add_device(npu);
//   scopetrace::sim::Stream& s = npu.stream(0);
//   s.copy_to_device(input_bytes);                          // async H2D
//   s.launch("conv2d", std::chrono::microseconds(120));     // async kernel
//   s.copy_to_host(output_bytes);                           // blocks until the stream reaches it
//   npu.synchronize();                                      // waits for every stream
//
//   scopetrace::sim::Event ready = npu.stream(0).record_event();
//   npu.stream(1).wait_event(ready);                        // stream 1 waits for stream 0's work
//
// Timing model. Each operation occupies its stream for a modelled duration (a kernel: the
// duration given; a copy: `copy_latency` + bytes / bandwidth; a memset: bytes /
// `memset_bytes_per_s`) and starts when it has been submitted, the stream's previous
// operation has ended and every event the stream waits for has completed. Device time is
// defined by this model, so timestamps are exact whatever the OS scheduler does; in real
// time a driver thread releases the completed records in batches and host calls that block
// (copy_to_host, synchronize) wait until the modelled end (sleeping, spinning only the
// last tens of µs). With `virtual_time` nothing sleeps: the device keeps its own host
// clock (`host_now_ns()`), which host calls advance by the model (a launch by
// `launch_cost`, a blocking call to the end of what it waits for), so tests can run a
// minute of device timeline in milliseconds.
//
// Host slices. While a capture is active each call records a host slice carrying the arg
// "correlation_id" (also returned by the call), which the device operation it causes
// shares: "launch <name>", "copy_to_device" and "memset" (category "launch", they only
// enqueue), "copy_to_host" and "synchronize" (category "device_wait", they block).
// `synchronize` causes a zero-length kSync operation at the point where the stream (for
// Device::synchronize, the last stream to finish) reached it.
//
// Thread safety: every method may be called from any thread. Work submitted to one stream
// from several threads at once is ordered by submission. Correlation ids are unique and
// increasing across every sim::Device of the process.

#ifndef SCOPETRACE_SIM_DEVICE_H_
#define SCOPETRACE_SIM_DEVICE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scopetrace/device.h"
#include "scopetrace/trace.h"

namespace scopetrace::sim {

// Fields are declared in this order so designated initializers in this order compile.
struct DeviceOptions {
  std::string name = "sim0";
  int streams = 1;
  // Device clock: ticks = (host_ns * (1 + drift_ppm * 1e-6) + clock_offset_ns)
  //                       * tick_rate_hz / 1e9, each read off by up to ±clock_jitter_ns.
  double tick_rate_hz = 1e9;
  int64_t clock_offset_ns = 0;
  double drift_ppm = 0;
  int64_t clock_jitter_ns = 0;
  // Host time one call spends in the "driver" (busy-waited on the calling thread).
  std::chrono::nanoseconds launch_cost = std::chrono::microseconds(4);
  double h2d_bytes_per_s = 12e9;
  double d2h_bytes_per_s = 12e9;
  // Device time advances by the model only; nothing sleeps (see the file comment).
  bool virtual_time = false;
  // --- Beyond the design document's list ---
  double memset_bytes_per_s = 200e9;
  // Fixed setup time of every copy, on the device.
  std::chrono::nanoseconds copy_latency = std::chrono::microseconds(2);
  // Virtual time only: host time one read_clock() takes; the device clock is sampled at a
  // random point within it, like a real read between two host timestamps.
  std::chrono::nanoseconds clock_read_cost = std::chrono::nanoseconds(600);
  // Activity delivery, like CUPTI's buffers: a batch is released when it holds this many
  // completed records, or when its first record completed this long ago, or on flush().
  size_t activity_batch_records = 256;
  std::chrono::nanoseconds activity_flush_interval = std::chrono::milliseconds(4);
  // Records released but not drained beyond this many are dropped (dropped_records()).
  size_t max_buffered_records = size_t{1} << 20;
  // allocate() fails with ResourceExhausted beyond this many bytes in use.
  int64_t memory_capacity_bytes = int64_t{16} << 30;
  // Keep the true host-time interval of every operation (ground_truth()); tests only.
  bool keep_ground_truth = false;
  // Seed of the clock read jitter.
  uint64_t seed = 1;
};

class Device;

// A point in a stream's work: complete when every operation submitted to the stream
// before record_event() has ended. Cheap to copy. Valid only with the device it came from.
class Event {
 public:
  Event() = default;
  // True when the work before the event has completed (a default Event is complete).
  bool query() const;
  // Blocks the calling thread until query() is true.
  void synchronize() const;

 private:
  friend class Stream;
  Event(Device* device, int64_t ready_ns) : device_(device), ready_ns_(ready_ns) {}
  Device* device_ = nullptr;
  int64_t ready_ns_ = 0;  // host time at which it completes
};

// A block of device memory from Device::allocate().
struct DeviceMemory {
  uint64_t address = 0;
  uint64_t bytes = 0;
};

// The true host-time interval of one operation (DeviceOptions::keep_ground_truth).
struct OpTruth {
  uint64_t correlation_id = 0;
  uint32_t stream = 0;
  DeviceOpKind kind = DeviceOpKind::kKernel;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
};

// One in-order queue of a Device; owned by it (Device::stream()). Every call that enqueues
// returns the correlation id it shares with its device operation.
class Stream {
 public:
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Enqueues a kernel that runs for `duration`. Costs the host `launch_cost`.
  uint64_t launch(std::string_view name, std::chrono::nanoseconds duration);
  // Enqueues a host-to-device copy (asynchronous, like a copy from pinned memory).
  uint64_t copy_to_device(uint64_t bytes);
  // Enqueues a device-to-host copy and blocks until it has ended, like a synchronous
  // copy: the host waits for all earlier work on the stream too.
  uint64_t copy_to_host(uint64_t bytes);
  // Enqueues a fill of `bytes` of device memory.
  uint64_t memset(uint64_t bytes);
  // Blocks until every operation submitted to this stream so far has ended.
  void synchronize();
  // An event that completes with the work submitted to this stream so far.
  Event record_event();
  // Work submitted to this stream from now on starts after `event` completes.
  void wait_event(const Event& event);

  int index() const { return index_; }
  Device& device() const { return *device_; }

 private:
  friend class Device;
  Stream(Device* device, int index) : device_(device), index_(index) {}
  Device* const device_;
  const int index_;
};

class Device final : public DeviceSource {
 public:
  explicit Device(DeviceOptions options = {});
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  // Stops the driver thread. Work still queued is abandoned.
  ~Device() override;

  // Stream `index`, 0 <= index < stream_count().
  Stream& stream(int index);
  // Blocks until every stream has finished the work submitted so far.
  void synchronize();

  // Device memory. Each change is a memory sample ("<name> memory" counter in traces).
  absl::StatusOr<DeviceMemory> allocate(uint64_t bytes);
  // NotFound when `memory` is not a live allocation of this device.
  absl::Status free(DeviceMemory memory);
  int64_t memory_in_use() const;

  // --- Time (tests, virtual time) ---
  // The host clock the device runs on: CLOCK_MONOTONIC ns, or the virtual clock.
  int64_t host_now_ns() const;
  // Host work: advances the virtual clock by `duration`; in real time, sleeps.
  void advance_host_time(std::chrono::nanoseconds duration);
  // The clock model without jitter, both ways (ground truth for clock synchronization).
  int64_t true_ticks(int64_t host_ns) const;
  int64_t true_host_ns(int64_t ticks) const;
  // Every operation so far with its true host interval (keep_ground_truth only).
  std::vector<OpTruth> ground_truth() const;
  // Records lost because nobody drained them (max_buffered_records).
  uint64_t dropped_records() const;
  const DeviceOptions& options() const { return options_; }

  // --- DeviceSource ---
  std::string_view name() const override { return options_.name; }
  int stream_count() const override { return static_cast<int>(streams_.size()); }
  // Begins recording activity (and, in real time, starts the driver thread).
  // FailedPrecondition when already started.
  absl::Status start() override;
  // Ends recording (and stops the driver thread). Records of work submitted before stays
  // available: flush() releases it once it has ended.
  void stop() override;
  ClockReading read_clock() override;
  size_t drain_activity(std::vector<ActivityRecord>& out) override;
  size_t drain_memory(std::vector<MemorySample>& out) override;
  // Releases every completed record now, whatever the batch rules say.
  void flush() override;

 private:
  friend class Stream;
  friend class Event;
  struct State;

  uint64_t Enqueue(int stream, DeviceOpKind kind, std::string_view name, int64_t duration_ns,
                   uint64_t bytes, bool wait);
  void SyncStreams(int stream);  // -1: every stream
  void WaitUntil(int64_t host_ns);
  void SpendLaunchCost();
  void DriverLoop();

  const DeviceOptions options_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::unique_ptr<State> state_;
};

}  // namespace scopetrace::sim

#endif  // SCOPETRACE_SIM_DEVICE_H_
