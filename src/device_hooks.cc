#include "src/device_hooks.h"

namespace scopetrace::internal {

DeviceHooksOwner::DeviceHooksOwner(std::vector<DeviceSource*> sources,
                                   std::chrono::milliseconds flush_timeout)
    : sources_(std::move(sources)), flush_timeout_(flush_timeout) {}

DeviceHooksOwner::~DeviceHooksOwner() = default;

// Wired to the device hub once it lands (src/device_hub.h).
absl::Status DeviceHooksOwner::Start() { return absl::OkStatus(); }
void DeviceHooksOwner::Stop() {}
DeviceHooks DeviceHooksOwner::hooks() { return {}; }

}  // namespace scopetrace::internal
