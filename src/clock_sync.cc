#include "src/clock_sync.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace scopetrace::internal {

ClockSync::ClockSync(std::string device, double tick_rate_hz, ClockSyncOptions options)
    : device_(std::move(device)),
      tick_rate_hz_(tick_rate_hz > 0 ? tick_rate_hz : 1e9),
      options_(options) {
  options_.window_pairs = std::max<size_t>(options_.window_pairs, 1);
  fit_.device = device_;
  fit_.tick_rate_hz = tick_rate_hz_;
  fit_.slope_ns_per_tick = 1e9 / tick_rate_hz_;
}

bool ClockSync::AddPair(const ClockPair& pair) {
  const int64_t bracket = pair.host_after_ns - pair.host_before_ns;
  if (bracket < 0) {
    ++rejected_;
    return false;
  }
  if (window_.size() >= 3 && bracket > options_.min_reject_bracket_ns) {
    std::vector<int64_t> brackets;
    brackets.reserve(window_.size());
    for (const ClockPair& p : window_) brackets.push_back(p.host_after_ns - p.host_before_ns);
    std::nth_element(brackets.begin(), brackets.begin() + brackets.size() / 2, brackets.end());
    const double median = static_cast<double>(brackets[brackets.size() / 2]);
    if (static_cast<double>(bracket) > options_.reject_bracket_factor * median) {
      ++rejected_;
      return false;
    }
  }
  window_.push_back(pair);
  while (window_.size() > options_.window_pairs) window_.pop_front();
  ++pairs_total_;
  Refit();
  return true;
}

void ClockSync::Refit() {
  // Work on differences from the middle pair of the window: with ticks ~1e13 the squares
  // of raw values would exceed double's 53-bit mantissa.
  const ClockPair& ref = window_[window_.size() / 2];
  const int64_t ref_ticks = ref.device_ticks;
  const int64_t ref_host = ref.host_before_ns;
  const double nominal = 1e9 / tick_rate_hz_;
  const size_t n = window_.size();

  std::vector<double> xs(n), ys(n);
  double x_mean = 0, y_mean = 0, max_half_bracket = 0;
  for (size_t i = 0; i < n; ++i) {
    const ClockPair& p = window_[i];
    xs[i] = static_cast<double>(p.device_ticks - ref_ticks);
    const double half = 0.5 * static_cast<double>(p.host_after_ns - p.host_before_ns);
    ys[i] = static_cast<double>(p.host_before_ns - ref_host) + half;
    x_mean += xs[i];
    y_mean += ys[i];
    max_half_bracket = std::max(max_half_bracket, half);
  }
  x_mean /= static_cast<double>(n);
  y_mean /= static_cast<double>(n);

  double slope = nominal;
  const double span_ns =
      static_cast<double>(window_.back().host_before_ns - window_.front().host_before_ns);
  if (options_.model == ClockSyncModel::kOffsetAndDrift && n >= 3 &&
      span_ns >= static_cast<double>(options_.min_drift_span_ns)) {
    double sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; ++i) {
      sxx += (xs[i] - x_mean) * (xs[i] - x_mean);
      sxy += (xs[i] - x_mean) * (ys[i] - y_mean);
    }
    if (sxx > 0) slope = sxy / sxx;
  }
  const double intercept = y_mean - slope * x_mean;  // host ns at ref_ticks, minus ref_host

  double max_residual = 0;
  for (size_t i = 0; i < n; ++i) {
    max_residual = std::max(max_residual, std::abs(ys[i] - (intercept + slope * xs[i])));
  }

  reference_host_ns_ = ref_host;
  intercept_ns_ = intercept;
  fit_.reference_ticks = ref_ticks;
  fit_.offset_ns = static_cast<double>(ref_host) + intercept;
  fit_.slope_ns_per_tick = slope;
  // Positive: the device clock runs fast (fewer host ns per tick than nominal).
  fit_.drift_ppm = (nominal / slope - 1.0) * 1e6;
  fit_.pairs = pairs_total_;
  fit_.max_residual_ns = max_residual;
  fit_.max_half_bracket_ns = max_half_bracket;
  fit_.error_bound_ns = max_residual + max_half_bracket;
}

int64_t ClockSync::ToHostNs(int64_t ticks) const {
  const double dx = static_cast<double>(ticks - fit_.reference_ticks);
  return reference_host_ns_ + std::llround(intercept_ns_ + fit_.slope_ns_per_tick * dx);
}

}  // namespace scopetrace::internal
