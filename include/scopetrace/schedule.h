// scopetrace/schedule.h
//
// Which steps a profiler records, with the semantics of `torch.profiler.schedule`:
// skip the first `skip_first` steps, then cycle through `wait` idle steps, `warmup` steps
// that run the capture machinery but keep nothing, and `active` recorded steps; stop after
// `repeat` cycles (0: cycle until `Profiler::stop()`).
//
// Example: skip_first = 1, wait = 1, warmup = 1, active = 2, repeat = 2 over 10 steps
// records steps 3-4 (cycle 0) and 7-8 (cycle 1):
//
//   scopetrace::Schedule schedule{.skip_first = 1, .wait = 1, .warmup = 1,
//                                 .active = 2, .repeat = 2};
//   scopetrace::ScheduleAction(schedule, 4);  // kRecordAndSave: cycle 0 ends with step 4

#ifndef SCOPETRACE_SCHEDULE_H_
#define SCOPETRACE_SCHEDULE_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace scopetrace {

struct Schedule {
  int64_t skip_first = 0;
  int64_t wait = 0;
  int64_t warmup = 0;
  int64_t active = 1;
  int64_t repeat = 0;  // 0: no limit
  friend bool operator==(const Schedule&, const Schedule&) = default;
};

enum class ProfilerAction : uint8_t {
  kNone,           // nothing is captured
  kWarmup,         // captured and thrown away
  kRecord,         // recorded into the current cycle
  kRecordAndSave,  // recorded; the cycle is complete when this step ends
};

std::string_view ProfilerActionName(ProfilerAction action);

// The action for step `step` (0 = the first step after start()). Pure function.
ProfilerAction ScheduleAction(const Schedule& schedule, int64_t step);

// Rejects schedules torch would reject: negative fields, active < 1.
absl::Status ValidateSchedule(const Schedule& schedule);

}  // namespace scopetrace

#endif  // SCOPETRACE_SCHEDULE_H_
