// Internal: connects the session's device sources to the profiler through the device hub
// (src/device_hub.h): the step thread announces recorded cycles, the collector polls the
// hub and collects each cycle's device operations.

#ifndef SCOPETRACE_SRC_DEVICE_HOOKS_H_
#define SCOPETRACE_SRC_DEVICE_HOOKS_H_

#include <chrono>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "scopetrace/device.h"
#include "src/collector.h"
#include "src/device_hub.h"

namespace scopetrace::internal {

class DeviceHooksOwner {
 public:
  DeviceHooksOwner(std::vector<DeviceSource*> sources, std::chrono::milliseconds flush_timeout);
  absl::Status Start();
  void Stop();
  // The step thread, before the first step of a recorded cycle begins.
  void BeginCycle();
  // Empty hooks when the session has no device.
  DeviceHooks hooks();

 private:
  std::vector<DeviceSource*> sources_;
  std::chrono::milliseconds flush_timeout_;
  DeviceHub hub_;
  bool started_ = false;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_DEVICE_HOOKS_H_
