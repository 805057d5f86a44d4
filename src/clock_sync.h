// src/clock_sync.h: maps one device's clock onto the host timeline.
//
// The profiler periodically reads the device clock between two host clock reads, giving
// a pair (host_before_ns, device_ticks, host_after_ns); the read happened somewhere in
// the bracket, so its host time is estimated by the midpoint, off by at most half the
// bracket. `ClockSync` keeps a sliding window of the most recent pairs and fits
//
//   host_ns = offset_ns + slope_ns_per_tick * (ticks - reference_ticks)
//
// by least squares, so drift (the device clock running fast or slow) is corrected, not
// only the offset. Refit on every pair: the window follows a drift that changes with
// temperature. Convert timestamps that lie within (or just before the end of) the window:
// interpolation is accurate to the pairs' noise, extrapolation far outside is not, which
// is why DeviceHub converts records soon after they arrive, not at the end of a long cycle.
//
// Numerics: ticks and host ns are ~1e13 or more; the fit works on differences from a
// reference pair in double, so no precision is lost to the large magnitudes.
//
// Example:
//
//   ClockSync sync("sim0", /*tick_rate_hz=*/1e9);
//   sync.AddPair({before, reading.ticks, after});   // every few tens of ms
//   int64_t host_ns = sync.ToHostNs(record.start_ticks);
//   trace.mutable_metadata().clock_fits.push_back(sync.fit());
//
// Not thread-safe: one owner (DeviceHub, on the collector thread).

#ifndef SCOPETRACE_SRC_CLOCK_SYNC_H_
#define SCOPETRACE_SRC_CLOCK_SYNC_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "scopetrace/trace.h"

namespace scopetrace::internal {

// One read of a device clock between two reads of the host clock (CLOCK_MONOTONIC ns).
struct ClockPair {
  int64_t host_before_ns = 0;
  int64_t device_ticks = 0;
  int64_t host_after_ns = 0;
};

enum class ClockSyncModel : uint8_t {
  kOffsetAndDrift,  // least-squares line: offset and slope
  kOffsetOnly,      // nominal tick rate, fitted offset (what a naive profiler does)
};

struct ClockSyncOptions {
  // Pairs in the sliding window.
  size_t window_pairs = 40;
  ClockSyncModel model = ClockSyncModel::kOffsetAndDrift;
  // The slope is fitted only once the window spans this much host time; before, the
  // pairs are too close together to tell drift from read noise, so the nominal rate is
  // used.
  int64_t min_drift_span_ns = 2'000'000;
  // A pair whose bracket is wider than this many times the window's median bracket (and
  // wider than `min_reject_bracket_ns`) is rejected: the reading thread was preempted
  // between its host reads, so its midpoint says little.
  double reject_bracket_factor = 4.0;
  int64_t min_reject_bracket_ns = 2'000;
};

class ClockSync {
 public:
  ClockSync(std::string device, double tick_rate_hz, ClockSyncOptions options = {});

  // Adds a pair (in host time order) and refits. Returns false if it was rejected.
  bool AddPair(const ClockPair& pair);

  // True once a pair has been added: ToHostNs and fit() are meaningful.
  bool has_fit() const { return !window_.empty(); }
  // The current fit, with its error bound. A default ClockFit before the first pair.
  const ClockFit& fit() const { return fit_; }
  // The device ticks of the newest pair: timestamps up to here are interpolated.
  int64_t newest_ticks() const { return window_.empty() ? INT64_MIN : window_.back().device_ticks; }
  uint64_t rejected_pairs() const { return rejected_; }

  // Device ticks → host CLOCK_MONOTONIC ns with the current fit.
  int64_t ToHostNs(int64_t ticks) const;

 private:
  void Refit();

  std::string device_;
  double tick_rate_hz_;
  ClockSyncOptions options_;
  std::deque<ClockPair> window_;
  int64_t pairs_total_ = 0;
  uint64_t rejected_ = 0;
  // The fit, kept as (reference host ns, intercept, slope) for exact integer arithmetic
  // on the large part; fit_ mirrors it in the trace's form.
  int64_t reference_host_ns_ = 0;
  double intercept_ns_ = 0;
  ClockFit fit_;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_CLOCK_SYNC_H_
