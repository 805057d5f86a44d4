// The numbers behind the report's charts that the analyses do not give directly: steps
// grouped into at most N bars, device busy time per time bucket, counters thinned for
// drawing. Pure functions of a Trace or StepAnalysis; no HTML here.

#ifndef SCOPETRACE_SRC_REPORT_REPORT_SERIES_H_
#define SCOPETRACE_SRC_REPORT_REPORT_SERIES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "scopetrace/analysis.h"
#include "scopetrace/trace.h"

namespace scopetrace::report_internal {

// The host time window the report's time axes span: the cycle window from the metadata,
// or the extent of the events when the metadata has none. Empty (0, 0) without events.
struct TimeWindow {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t length() const { return end_ns - start_ns; }
};
TimeWindow ReportWindow(const Trace& trace);

// One device's part of a StepGroup, as means over the group's steps. The four parts
// add up to the mean window: compute only + copy only + overlap + idle.
struct DeviceShare {
  double compute_only_ns = 0;
  double copy_only_ns = 0;
  double overlap_ns = 0;
  double idle_ns = 0;
};

// Consecutive steps drawn as one bar (a single step when there are few).
struct StepGroup {
  int64_t first_step = 0;  // N of the first and last ProfilerStep#N
  int64_t last_step = 0;
  size_t count = 0;
  double mean_wall_ns = 0;
  int64_t min_wall_ns = 0;
  int64_t max_wall_ns = 0;
  std::vector<DeviceShare> devices;  // StepAnalysis::devices order
};

// `analysis.steps` in order, split into at most `max_groups` runs of equal length (the
// last may be shorter). `max_groups` must be at least 1.
std::vector<StepGroup> GroupSteps(const StepAnalysis& analysis, size_t max_groups);

// How busy one device was in each time bucket of the window.
struct DeviceUtilization {
  std::string device;
  int64_t bucket_ns = 0;
  std::vector<double> compute;  // share (0..1) of each bucket covered by kernels
  std::vector<double> busy;     // share covered by any device op (kernels, copies, ...)
};

// One entry per device process (by pid), at most `buckets` buckets of a round length
// (1, 2 or 5 × 10^k ns) over `window`. Operations of all the device's streams count once
// where they overlap.
std::vector<DeviceUtilization> ComputeDeviceUtilization(const Trace& trace,
                                                        const TimeWindow& window, size_t buckets);

// A counter track ready to draw: time since the window start and value, thinned to about
// `max_points` points keeping each run's minimum and maximum, so peaks survive, plus the
// last value repeated at the window's end (a counter holds its value until changed).
struct CounterLine {
  std::string name;
  bool device = false;  // on a device process ("<device> memory")
  std::vector<double> offset_ns;
  std::vector<double> value;
  size_t samples = 0;  // before thinning
  double min = 0;
  double max = 0;
  double last = 0;
};

// Every counter track with at least one sample, device counters first, then by name.
std::vector<CounterLine> CollectCounters(const Trace& trace, const TimeWindow& window,
                                         size_t max_points);

}  // namespace scopetrace::report_internal

#endif  // SCOPETRACE_SRC_REPORT_REPORT_SERIES_H_
