#include "scopetrace/schedule.h"

#include "absl/strings/str_cat.h"

namespace scopetrace {

std::string_view ProfilerActionName(ProfilerAction action) {
  switch (action) {
    case ProfilerAction::kNone:
      return "NONE";
    case ProfilerAction::kWarmup:
      return "WARMUP";
    case ProfilerAction::kRecord:
      return "RECORD";
    case ProfilerAction::kRecordAndSave:
      return "RECORD_AND_SAVE";
  }
  return "?";
}

ProfilerAction ScheduleAction(const Schedule& schedule, int64_t step) {
  if (step < schedule.skip_first) return ProfilerAction::kNone;
  const int64_t t = step - schedule.skip_first;
  const int64_t cycle_length = schedule.wait + schedule.warmup + schedule.active;
  if (schedule.repeat > 0 && t / cycle_length >= schedule.repeat) return ProfilerAction::kNone;
  const int64_t m = t % cycle_length;
  if (m < schedule.wait) return ProfilerAction::kNone;
  if (m < schedule.wait + schedule.warmup) return ProfilerAction::kWarmup;
  if (m < cycle_length - 1) return ProfilerAction::kRecord;
  return ProfilerAction::kRecordAndSave;
}

absl::Status ValidateSchedule(const Schedule& schedule) {
  if (schedule.active < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("schedule.active must be at least 1, got ", schedule.active));
  }
  if (schedule.skip_first < 0 || schedule.wait < 0 || schedule.warmup < 0 || schedule.repeat < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "schedule fields must not be negative: skip_first=", schedule.skip_first,
        " wait=", schedule.wait, " warmup=", schedule.warmup, " repeat=", schedule.repeat));
  }
  return absl::OkStatus();
}

}  // namespace scopetrace
