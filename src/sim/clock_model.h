// src/sim/clock_model.h: the simulated device's clock, a linear function of host time.
//
//   ticks = (host_ns * (1 + drift_ppm * 1e-6) + offset_ns) * tick_rate_hz / 1e9
//
// Computed in long double: host times are ~1e13-1e15 ns and tick values as large, so a
// double product would lose the sub-tick precision that ground-truth checks rely on.

#ifndef SCOPETRACE_SRC_SIM_CLOCK_MODEL_H_
#define SCOPETRACE_SRC_SIM_CLOCK_MODEL_H_

#include <cmath>
#include <cstdint>

namespace scopetrace::sim::internal {

class ClockModel {
 public:
  ClockModel(double tick_rate_hz, int64_t offset_ns, double drift_ppm)
      : ticks_per_ns_(static_cast<long double>(tick_rate_hz) / 1e9L),
        rate_(1.0L + static_cast<long double>(drift_ppm) * 1e-6L),
        offset_ns_(offset_ns) {}

  // Device ticks at true host time `host_ns` (`noise_ns` shifts the instant read).
  int64_t TicksAt(int64_t host_ns, long double noise_ns = 0) const {
    const long double device_ns = (static_cast<long double>(host_ns) + noise_ns) * rate_ +
                                  static_cast<long double>(offset_ns_);
    return static_cast<int64_t>(std::floor(device_ns * ticks_per_ns_));
  }

  // The inverse: the true host time at which the device clock showed `ticks`.
  int64_t HostNsAt(int64_t ticks) const {
    const long double device_ns = static_cast<long double>(ticks) / ticks_per_ns_;
    return static_cast<int64_t>(
        std::llround((device_ns - static_cast<long double>(offset_ns_)) / rate_));
  }

 private:
  long double ticks_per_ns_;
  long double rate_;
  int64_t offset_ns_;
};

}  // namespace scopetrace::sim::internal

#endif  // SCOPETRACE_SRC_SIM_CLOCK_MODEL_H_
