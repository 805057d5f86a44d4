// src/sim/host_slice.h: the host slice a sim::Device call records ("launch conv2d",
// "copy_to_host", ...), written straight into the calling thread's ring.
//
// The slice is an open/close record pair whose payload holds the arg "correlation_id"
// (and, for launches, the dynamic name "launch " + kernel name, written in pieces so
// nothing allocates). The collector turns it into a Slice with correlation_id and
// flow_out set. The correlation id is written whether or not args are recorded
// (ProfilerOptions::record_args): without it a launch could not be linked to its device
// operation nor assigned to a cycle.

#ifndef SCOPETRACE_SRC_SIM_HOST_SLICE_H_
#define SCOPETRACE_SRC_SIM_HOST_SLICE_H_

#include <cstdint>
#include <cstring>
#include <string_view>

#include "scopetrace/instrument.h"

namespace scopetrace::sim::internal {

inline constexpr char kCorrelationIdKey[] = "correlation_id";

class HostSlice {
 public:
  // `site` has a static name, or none (then the name is `prefix` + `name`).
  HostSlice(const scopetrace::internal::Site* site, std::string_view prefix, std::string_view name,
            uint64_t correlation_id) {
    if (scopetrace::internal::CaptureEnabled()) open_ = Open(site, prefix, name, correlation_id);
  }
  ~HostSlice() {
    if (open_) scopetrace::internal::t_ring->PushClose(scopetrace::internal::Ticks());
  }
  HostSlice(const HostSlice&) = delete;
  HostSlice& operator=(const HostSlice&) = delete;

 private:
  static bool Open(const scopetrace::internal::Site* site, std::string_view prefix,
                   std::string_view name, uint64_t correlation_id) {
    namespace si = scopetrace::internal;
    si::ThreadRing* ring = si::Ring();
    if (ring == nullptr) return false;
    const bool dynamic = site->name == nullptr;
    constexpr size_t kNameHeader = 1 + sizeof(uint32_t);
    constexpr size_t kArgBytes = 1 + sizeof(const char*) + sizeof(uint64_t);
    const size_t name_bytes = dynamic ? kNameHeader + prefix.size() + name.size() : 0;
    if (!ring->BeginWithPayload(si::kTagOpen, si::Ticks(), site, name_bytes + kArgBytes)) {
      return false;
    }
    if (dynamic) {
      unsigned char header[kNameHeader];
      header[0] = si::kPayloadName;
      const auto size = static_cast<uint32_t>(prefix.size() + name.size());
      std::memcpy(header + 1, &size, sizeof(size));
      ring->WritePayload(header, sizeof(header));
      ring->WritePayload(prefix.data(), prefix.size());
      ring->WritePayload(name.data(), name.size());
    }
    unsigned char arg[kArgBytes];
    arg[0] = si::kPayloadUint;
    const char* key = kCorrelationIdKey;
    std::memcpy(arg + 1, &key, sizeof(key));
    std::memcpy(arg + 1 + sizeof(key), &correlation_id, sizeof(correlation_id));
    ring->WritePayload(arg, sizeof(arg));
    ring->FinishWithPayload();
    return true;
  }

  bool open_ = false;
};

}  // namespace scopetrace::sim::internal

#endif  // SCOPETRACE_SRC_SIM_HOST_SLICE_H_
