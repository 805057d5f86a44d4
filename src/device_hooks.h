// Internal: connects the session's device sources to the collector (polling, clock
// synchronization and per-cycle collection through the device hub).

#ifndef SCOPETRACE_SRC_DEVICE_HOOKS_H_
#define SCOPETRACE_SRC_DEVICE_HOOKS_H_

#include <chrono>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "scopetrace/device.h"
#include "src/collector.h"

namespace scopetrace::internal {

class DeviceHooksOwner {
 public:
  DeviceHooksOwner(std::vector<DeviceSource*> sources, std::chrono::milliseconds flush_timeout);
  ~DeviceHooksOwner();
  absl::Status Start();
  void Stop();
  // Empty hooks when the session has no device.
  DeviceHooks hooks();

 private:
  std::vector<DeviceSource*> sources_;
  std::chrono::milliseconds flush_timeout_;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_DEVICE_HOOKS_H_
