// Internal: turns the hot path's raw tick values (`internal::Ticks()`: the invariant TSC,
// or CLOCK_MONOTONIC ns where there is none) into CLOCK_MONOTONIC nanoseconds.
//
// The TSC rate is fitted from (tsc, monotonic) pairs: the slope comes from the first pair
// of the session and the latest one (a long baseline, so its error shrinks as the session
// runs), and conversion is anchored at the latest pair, so an event drained a few
// milliseconds after it happened carries only a few nanoseconds of rate error.
//
// Thread safety: Sample() and ToNs() are called by the collector thread only; Start() by
// Profiler::start() before the collector runs.

#ifndef SCOPETRACE_SRC_CLOCK_H_
#define SCOPETRACE_SRC_CLOCK_H_

#include <cstdint>

namespace scopetrace::internal {

class TickClock {
 public:
  // Takes the first pair and waits until the rate can be estimated (at most ~2 ms after
  // the process loaded the library).
  void Start();
  // Takes a fresh pair (cheap: three clock reads) and refits.
  void Sample();
  int64_t ToNs(uint64_t ticks) const;
  double ns_per_tick() const { return ns_per_tick_; }
  bool uses_tsc() const;

 private:
  struct Pair {
    uint64_t ticks = 0;
    int64_t ns = 0;
  };
  static Pair ReadPair();

  Pair first_;
  Pair anchor_;
  double ns_per_tick_ = 1.0;
};

// Whether this CPU has an invariant TSC (CPUID 0x80000007 EDX bit 8), and the
// SCOPETRACE_CLOCK environment variable does not ask for "monotonic".
bool DetectInvariantTsc();

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_CLOCK_H_
