// The schedule against torch.profiler.schedule's rule, checked with an independent
// construction: the expected action sequence is built cycle by cycle, not by formula.

#include "scopetrace/schedule.h"

#include <gtest/gtest.h>

#include <vector>

namespace scopetrace {
namespace {

std::vector<ProfilerAction> Expected(const Schedule& s, int64_t steps) {
  std::vector<ProfilerAction> actions;
  auto add = [&](ProfilerAction action, int64_t n) {
    for (int64_t i = 0; i < n && static_cast<int64_t>(actions.size()) < steps; ++i) {
      actions.push_back(action);
    }
  };
  add(ProfilerAction::kNone, s.skip_first);
  for (int64_t cycle = 0; static_cast<int64_t>(actions.size()) < steps; ++cycle) {
    if (s.repeat > 0 && cycle >= s.repeat) {
      add(ProfilerAction::kNone, steps);
      break;
    }
    add(ProfilerAction::kNone, s.wait);
    add(ProfilerAction::kWarmup, s.warmup);
    add(ProfilerAction::kRecord, s.active - 1);
    add(ProfilerAction::kRecordAndSave, 1);
  }
  return actions;
}

TEST(ScheduleTest, IssueExample) {
  const Schedule s{.skip_first = 1, .wait = 1, .warmup = 1, .active = 2, .repeat = 2};
  using A = ProfilerAction;
  const std::vector<A> want = {A::kNone,          A::kNone, A::kWarmup, A::kRecord,
                               A::kRecordAndSave, A::kNone, A::kWarmup, A::kRecord,
                               A::kRecordAndSave, A::kNone, A::kNone,   A::kNone};
  for (int64_t step = 0; step < static_cast<int64_t>(want.size()); ++step) {
    EXPECT_EQ(ScheduleAction(s, step), want[step]) << "step " << step;
  }
}

TEST(ScheduleTest, EveryStepOfManyParameterSets) {
  int checked = 0;
  for (int64_t skip = 0; skip <= 3; ++skip) {
    for (int64_t wait = 0; wait <= 3; ++wait) {
      for (int64_t warmup = 0; warmup <= 3; ++warmup) {
        for (int64_t active = 1; active <= 4; ++active) {
          for (int64_t repeat = 0; repeat <= 3; ++repeat) {
            const Schedule s{.skip_first = skip,
                             .wait = wait,
                             .warmup = warmup,
                             .active = active,
                             .repeat = repeat};
            const std::vector<ProfilerAction> want = Expected(s, 80);
            for (int64_t step = 0; step < 80; ++step) {
              ASSERT_EQ(ScheduleAction(s, step), want[step])
                  << "skip_first=" << skip << " wait=" << wait << " warmup=" << warmup
                  << " active=" << active << " repeat=" << repeat << " step=" << step;
              ++checked;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 4 * 4 * 4 * 4 * 80);
}

TEST(ScheduleTest, ActiveOnlyRecordsEveryStepAndSavesEachOne) {
  const Schedule s{.active = 1};
  for (int64_t step = 0; step < 10; ++step) {
    EXPECT_EQ(ScheduleAction(s, step), ProfilerAction::kRecordAndSave);
  }
}

TEST(ScheduleTest, RejectsInvalidSchedules) {
  EXPECT_FALSE(ValidateSchedule(Schedule{.active = 0}).ok());
  EXPECT_FALSE(ValidateSchedule(Schedule{.wait = -1, .active = 1}).ok());
  EXPECT_FALSE(ValidateSchedule(Schedule{.active = 1, .repeat = -2}).ok());
  EXPECT_TRUE(ValidateSchedule(Schedule{.skip_first = 5, .active = 1}).ok());
}

}  // namespace
}  // namespace scopetrace
