// Internal: the profiler's measurement of its own cost. At start() the hot path is timed
// on this machine (a private ring, so no trace is touched); per cycle the estimate is
// events × cost ÷ wall time, per thread and in total.

#ifndef SCOPETRACE_SRC_OVERHEAD_H_
#define SCOPETRACE_SRC_OVERHEAD_H_

namespace scopetrace::internal {

struct OverheadCosts {
  double scope_ns = 0;          // static name, no args: begin + end
  double payload_scope_ns = 0;  // two args (or a dynamic name): open + payload + close
  double instant_ns = 0;
  double counter_ns = 0;
};

// Times each event kind over a short loop (a few ms in all) and returns the median of
// several rounds, so one preemption does not skew it.
OverheadCosts CalibrateOverhead();

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_OVERHEAD_H_
