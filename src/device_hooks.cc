#include "src/device_hooks.h"

namespace scopetrace::internal {

DeviceHooksOwner::DeviceHooksOwner(std::vector<DeviceSource*> sources,
                                   std::chrono::milliseconds flush_timeout)
    : sources_(std::move(sources)), flush_timeout_(flush_timeout) {
  for (DeviceSource* source : sources_) hub_.Add(source);
}

absl::Status DeviceHooksOwner::Start() {
  if (sources_.empty()) return absl::OkStatus();
  absl::Status status = hub_.Start();
  started_ = status.ok();
  return status;
}

void DeviceHooksOwner::Stop() {
  if (started_) hub_.Stop();
  started_ = false;
}

void DeviceHooksOwner::BeginCycle() {
  if (started_) hub_.BeginCycle();
}

DeviceHooks DeviceHooksOwner::hooks() {
  if (sources_.empty()) return {};
  DeviceHooks hooks;
  hooks.poll = [this] { hub_.Poll(); };
  hooks.collect = [this](const CycleBuilder& cycle, int64_t end_ns, Trace& trace) {
    hub_.CollectCycle(cycle.launched(), cycle.start_ns(), end_ns, absl::FromChrono(flush_timeout_),
                      trace);
  };
  return hooks;
}

}  // namespace scopetrace::internal
