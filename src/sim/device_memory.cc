// sim::Device memory: allocations and the memory-in-use samples behind the
// "<device> memory" counter track.

#include <algorithm>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "scopetrace/sim/device.h"
#include "src/sim/device_state.h"

namespace scopetrace::sim {

// --- Memory ------------------------------------------------------------------------------

absl::StatusOr<DeviceMemory> Device::allocate(uint64_t bytes) {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  if (static_cast<int64_t>(bytes) > options_.memory_capacity_bytes - s.in_use) {
    return absl::ResourceExhaustedError(
        absl::StrCat(options_.name, ": out of device memory: ", bytes, " bytes requested, ",
                     s.in_use, " of ", options_.memory_capacity_bytes, " in use"));
  }
  const DeviceMemory memory{.address = s.next_address, .bytes = bytes};
  s.next_address += std::max<uint64_t>((bytes + 255) & ~uint64_t{255}, 256);
  s.allocations.emplace(memory.address, bytes);
  s.in_use += static_cast<int64_t>(bytes);
  if (s.recording && s.memory_samples.size() < options_.max_buffered_records) {
    s.memory_samples.push_back({s.clock.TicksAt(host_now_ns()), s.in_use});
  }
  return memory;
}

absl::Status Device::free(DeviceMemory memory) {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  auto it = s.allocations.find(memory.address);
  if (it == s.allocations.end()) {
    return absl::NotFoundError(absl::StrCat(options_.name, ": free of 0x",
                                            absl::Hex(memory.address),
                                            ", which is not a live allocation"));
  }
  s.in_use -= static_cast<int64_t>(it->second);
  s.allocations.erase(it);
  if (s.recording && s.memory_samples.size() < options_.max_buffered_records) {
    s.memory_samples.push_back({s.clock.TicksAt(host_now_ns()), s.in_use});
  }
  return absl::OkStatus();
}

int64_t Device::memory_in_use() const {
  std::lock_guard lock(state_->mu);
  return state_->in_use;
}

size_t Device::drain_memory(std::vector<MemorySample>& out) {
  std::lock_guard lock(state_->mu);
  const size_t n = state_->memory_samples.size();
  out.insert(out.end(), state_->memory_samples.begin(), state_->memory_samples.end());
  state_->memory_samples.clear();
  return n;
}

}  // namespace scopetrace::sim
