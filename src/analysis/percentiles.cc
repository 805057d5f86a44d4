// Exact percentiles by the nearest-rank method, duration statistics, and durations
// formatted for people.

#include <algorithm>
#include <cmath>

#include "fmt/format.h"
#include "scopetrace/analysis.h"

namespace scopetrace {

int64_t NearestRankPercentile(std::span<const int64_t> sorted, double q) {
  if (sorted.empty()) return 0;
  const double n = static_cast<double>(sorted.size());
  // Rank ceil(q/100 · n), 1-based; q = 0 means the minimum. The small epsilon keeps
  // q·n that is an integer in exact arithmetic (e.g. 0.29 · 100) from rounding up.
  double rank = std::ceil(q / 100.0 * n - 1e-9);
  rank = std::clamp(rank, 1.0, n);
  return sorted[static_cast<size_t>(rank) - 1];
}

DurationStats ComputeDurationStats(std::vector<int64_t>& durations) {
  DurationStats stats;
  if (durations.empty()) return stats;
  std::sort(durations.begin(), durations.end());
  stats.count = static_cast<int64_t>(durations.size());
  for (int64_t d : durations) stats.total_ns += d;
  stats.mean_ns = static_cast<double>(stats.total_ns) / static_cast<double>(stats.count);
  stats.min_ns = durations.front();
  stats.max_ns = durations.back();
  stats.p50_ns = NearestRankPercentile(durations, 50);
  stats.p90_ns = NearestRankPercentile(durations, 90);
  stats.p99_ns = NearestRankPercentile(durations, 99);
  return stats;
}

std::string FormatDuration(int64_t ns) {
  const double v = static_cast<double>(ns);
  const double magnitude = std::abs(v);
  if (magnitude < 1e3) return fmt::format("{} ns", ns);
  if (magnitude < 1e6) return fmt::format("{:.1f} µs", v / 1e3);
  if (magnitude < 1e9) return fmt::format("{:.2f} ms", v / 1e6);
  return fmt::format("{:.3f} s", v / 1e9);
}

}  // namespace scopetrace
