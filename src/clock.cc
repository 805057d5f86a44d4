#include "src/clock.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "scopetrace/instrument.h"

namespace scopetrace::internal {

bool DetectInvariantTsc() {
  const char* forced = std::getenv("SCOPETRACE_CLOCK");
  if (forced != nullptr && std::strcmp(forced, "monotonic") == 0) return false;
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000007u) return false;
  __cpuid(0x80000007u, eax, ebx, ecx, edx);
  return (edx & (1u << 8)) != 0;
#else
  return false;
#endif
}

bool g_ticks_from_tsc = DetectInvariantTsc();

namespace {
// The process's first pair, taken at load time so that by the time a profiler starts the
// baseline is usually long enough already.
struct LoadTimePair {
  uint64_t ticks = Ticks();
  int64_t ns = static_cast<int64_t>(MonotonicNs());
};
const LoadTimePair g_load_time_pair;
}  // namespace

bool TickClock::uses_tsc() const { return g_ticks_from_tsc; }

TickClock::Pair TickClock::ReadPair() {
  // The tightest bracket of a few tries: a preempted read would skew the pair.
  Pair best;
  uint64_t best_width = UINT64_MAX;
  for (int i = 0; i < 5; ++i) {
    const uint64_t before = Ticks();
    const int64_t ns = static_cast<int64_t>(MonotonicNs());
    const uint64_t after = Ticks();
    if (after - before < best_width) {
      best_width = after - before;
      best = Pair{before + (after - before) / 2, ns};
    }
  }
  return best;
}

void TickClock::Start() {
  pairs_.clear();
  segment_ = Segment{};
  if (!g_ticks_from_tsc) {
    ns_per_tick_ = 1.0;
    return;
  }
  Append(Pair{g_load_time_pair.ticks, g_load_time_pair.ns});
  // Two milliseconds of baseline give a rate good to ~50 ppm for extrapolation; the
  // interpolated conversion does not depend on it.
  while (static_cast<int64_t>(MonotonicNs()) - pairs_.front().ns < 2'000'000) {
  }
  Sample();
}

void TickClock::Sample() {
  if (!g_ticks_from_tsc) return;
  Append(ReadPair());
}

void TickClock::Append(const Pair& pair) {
  // Strictly increasing in both coordinates, so interpolation is monotonic.
  if (!pairs_.empty() && (pair.ticks <= pairs_.back().ticks || pair.ns <= pairs_.back().ns)) {
    return;
  }
  pairs_.push_back(pair);
  if (pairs_.size() > kMaxPairs) {
    pairs_.pop_front();
    segment_ = Segment{};
  }
  if (pairs_.size() >= 2) {
    ns_per_tick_ = static_cast<double>(pairs_.back().ns - pairs_.front().ns) /
                   static_cast<double>(pairs_.back().ticks - pairs_.front().ticks);
  }
}

int64_t TickClock::ToNsOutsideSegment(uint64_t ticks) const {
  // A valid segment lies within the pairs, so a value ToNs converted in its
  // segment would convert the same way here.
  if (!g_ticks_from_tsc || pairs_.empty()) return static_cast<int64_t>(ticks);
  auto extrapolate = [&](const Pair& from) {
    const double delta = static_cast<double>(static_cast<int64_t>(ticks - from.ticks));
    return from.ns + static_cast<int64_t>(std::llround(delta * ns_per_tick_));
  };
  if (ticks <= pairs_.front().ticks) return extrapolate(pairs_.front());
  if (ticks >= pairs_.back().ticks) return extrapolate(pairs_.back());
  FindSegment(ticks);
  return InSegment(ticks);
}

void TickClock::FindSegment(uint64_t ticks) const {
  // Called with pairs_.front().ticks < ticks < pairs_.back().ticks.
  auto upper = std::upper_bound(pairs_.begin(), pairs_.end(), ticks,
                                [](uint64_t t, const Pair& p) { return t < p.ticks; });
  const Pair& lo = *(upper - 1);
  const Pair& hi = *upper;
  segment_.lo_ticks = lo.ticks;
  segment_.hi_ticks = hi.ticks;
  segment_.lo_ns = lo.ns;
  // A pure function of the two pairs, so a tick value converts the same way every time.
  segment_.ns_per_tick_q32 = static_cast<uint64_t>(
      (static_cast<unsigned __int128>(static_cast<uint64_t>(hi.ns - lo.ns)) << 32) /
      (hi.ticks - lo.ticks));
}

}  // namespace scopetrace::internal
