// Internal: turns the hot path's raw tick values (`internal::Ticks()`: the invariant TSC,
// or CLOCK_MONOTONIC ns where there is none) into CLOCK_MONOTONIC nanoseconds.
//
// The collector takes a (tsc, monotonic) pair at every drain; a tick value is converted by
// linear interpolation between the two pairs around it. The conversion is therefore a
// pure function of the ticks once those pairs exist: an event converted in one drain and
// its parent converted in the next can never disagree, and a value converted twice gives
// the same nanoseconds. Its error is that of one pair (a few tens of ns), whatever the
// TSC's true rate. Outside the pairs (before the first, after the newest) the rate of the
// longest baseline extrapolates.
//
// Thread safety: Sample() and ToNs() are called by the collector thread only; Start() by
// Profiler::start() before the collector runs.

#ifndef SCOPETRACE_SRC_CLOCK_H_
#define SCOPETRACE_SRC_CLOCK_H_

#include <cstddef>
#include <cstdint>
#include <deque>

namespace scopetrace::internal {

class TickClock {
 public:
  // Takes the first pairs and waits until the rate can be estimated (at most ~2 ms after
  // the process loaded the library).
  void Start();
  // Takes a fresh pair (a few clock reads). Every tick value read before this call can
  // then be converted by interpolation.
  void Sample();
  // Inline for the common case, a tick value inside the cached segment (two compares and
  // a multiply): the collector converts two values per event, and the out-of-line call
  // with its range checks was a quarter of the collector thread's time in a profile of
  // the streamed 10 M events/s capture.
  int64_t ToNs(uint64_t ticks) const {
    if (ticks >= segment_.lo_ticks && ticks < segment_.hi_ticks) [[likely]] {
      return InSegment(ticks);
    }
    return ToNsOutsideSegment(ticks);
  }
  double ns_per_tick() const { return ns_per_tick_; }
  bool uses_tsc() const;

 private:
  struct Pair {
    uint64_t ticks = 0;
    int64_t ns = 0;
  };
  static Pair ReadPair();
  void Append(const Pair& pair);

  // Bounded: ~4 minutes of pairs at the fastest drain cadence; older values extrapolate.
  static constexpr size_t kMaxPairs = size_t{1} << 18;
  std::deque<Pair> pairs_;
  // The last interpolation segment used (a cache): consecutive events almost always fall
  // in it, and then a conversion is one multiply in 32.32 fixed point, no division.
  struct Segment {
    uint64_t lo_ticks = 1;
    uint64_t hi_ticks = 0;  // empty until first used
    int64_t lo_ns = 0;
    uint64_t ns_per_tick_q32 = 0;
  };
  void FindSegment(uint64_t ticks) const;
  int64_t ToNsOutsideSegment(uint64_t ticks) const;
  int64_t InSegment(uint64_t ticks) const {
    const uint64_t delta = ticks - segment_.lo_ticks;
    const auto scaled = static_cast<uint64_t>(
        (static_cast<unsigned __int128>(delta) * segment_.ns_per_tick_q32 + (uint64_t{1} << 31)) >>
        32);
    return segment_.lo_ns + static_cast<int64_t>(scaled);
  }
  mutable Segment segment_;
  double ns_per_tick_ = 1.0;
};

// Whether this CPU has an invariant TSC (CPUID 0x80000007 EDX bit 8), and the
// SCOPETRACE_CLOCK environment variable does not ask for "monotonic".
bool DetectInvariantTsc();

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_CLOCK_H_
