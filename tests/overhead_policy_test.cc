// The overhead budget policy: a cycle over budget makes kSampleHottest sample its hottest
// scope from the next step on (decision recorded, fewer events of that scope, the others
// untouched); under budget nothing changes; kReport never samples; the over-budget warning
// names the hottest scope; and a sampled site keeps every event again after stop().

#include "src/overhead_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scopetrace/scopetrace.h"

namespace scopetrace {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int kHotPerStep = 200'000;
constexpr int kColdPerStep = 10;

// Tight scopes: the estimate is then tens of percent of the step's wall time.
void Work() {
  for (int i = 0; i < kHotPerStep; ++i) {
    SCOPETRACE_SCOPE("hot");
  }
  for (int i = 0; i < kColdPerStep; ++i) {
    SCOPETRACE_SCOPE("cold");
  }
}

struct Collected {
  std::mutex mu;
  std::vector<Trace> traces;
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return traces.size();
  }
};

std::map<std::string, int> CountByName(const Trace& trace) {
  std::map<std::string, int> counts;
  for (const Slice& slice : trace.slices()) ++counts[std::string(trace.str(slice.name))];
  return counts;
}

// Runs `steps` steps of Work(), one cycle each. Each step's work starts only once the
// previous cycle has been handed over, so a decision taken at its end governs the whole
// next step.
std::vector<Trace> RunSteps(OverheadPolicy policy, double budget_percent, int steps) {
  Collected collected;
  ProfilerOptions options;
  options.schedule = Schedule{.active = 1};
  options.overhead_budget_percent = budget_percent;
  options.overhead_policy = policy;
  options.on_trace_ready = [&collected](const Trace& trace) {
    std::lock_guard<std::mutex> lock(collected.mu);
    collected.traces.push_back(trace);
  };
  Profiler profiler(options);
  EXPECT_TRUE(profiler.start().ok());
  for (int step = 0; step < steps; ++step) {
    Work();
    profiler.step();
    while (collected.size() < static_cast<size_t>(step + 1)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  profiler.stop();  // also hands over the (empty) step after the last
  std::lock_guard<std::mutex> lock(collected.mu);
  EXPECT_EQ(collected.traces.size(), static_cast<size_t>(steps + 1));
  collected.traces.resize(std::min<size_t>(collected.traces.size(), steps));
  return std::move(collected.traces);
}

TEST(ChooseSamplingTest, FewestHottestSitesWithTheSmallestFactorThatSheds) {
  const internal::Site hot{"hot", "host", internal::SiteKind::kScope};
  const internal::Site warm{"warm", "host", internal::SiteKind::kScope};
  // Sampling `hot` (1000 ns) by 1 in 2 sheds 500 ns: enough for an excess of 400.
  internal::SamplingChoice choice = internal::ChooseSampling(
      {{.site = &warm, .overhead_ns = 100}, {.site = &hot, .overhead_ns = 1000}}, 400);
  ASSERT_EQ(choice.sites.size(), 1u);
  EXPECT_EQ(choice.sites[0], &hot);
  EXPECT_EQ(choice.factor, 2u);
  EXPECT_TRUE(choice.reaches_budget);
  // 1000 - 1000/N >= 990 needs N = 100 > 64 for `hot` alone, and 1100 ns of both needs
  // N = 10: two sites at a comfortable factor beat one at a large one.
  choice = internal::ChooseSampling(
      {{.site = &warm, .overhead_ns = 100}, {.site = &hot, .overhead_ns = 1000}}, 990);
  EXPECT_EQ(choice.sites.size(), 2u);
  EXPECT_EQ(choice.factor, 10u);
  // No excess, no sampling.
  EXPECT_THAT(internal::ChooseSampling({{.site = &hot, .overhead_ns = 1000}}, 0).sites, IsEmpty());
}

TEST(OverheadPolicyTest, OverBudgetSamplesTheHottestScopeFromTheNextStep) {
  const std::vector<Trace> traces = RunSteps(OverheadPolicy::kSampleHottest, 0.5, 2);
  ASSERT_EQ(traces.size(), 2u);
  const OverheadReport& first = traces[0].metadata().overhead;
  ASSERT_TRUE(first.over_budget) << first.percent;
  ASSERT_FALSE(first.policy_decisions.empty());
  EXPECT_THAT(first.policy_decisions[0],
              AllOf(HasSubstr("cycle 0: sampling 'hot' 1 in "), HasSubstr("from step 1"),
                    HasSubstr("> budget 0.50%")));
  for (const std::string& decision : first.policy_decisions) {
    std::printf("decision: %s\n", decision.c_str());  // for a reader of the test log
    EXPECT_THAT(decision, ::testing::Not(HasSubstr("'cold'")));
  }
  std::map<std::string, int> before = CountByName(traces[0]);
  std::map<std::string, int> after = CountByName(traces[1]);
  EXPECT_EQ(before["hot"], kHotPerStep);
  EXPECT_LT(after["hot"], kHotPerStep / 2);
  EXPECT_GT(after["hot"], 0);
  EXPECT_EQ(after["cold"], kColdPerStep);
  // The sampled trace says it was sampled.
  EXPECT_THAT(traces[1].metadata().overhead.policy_decisions[0],
              AllOf(HasSubstr("cycle 1: 'hot' sampled 1 in "), HasSubstr("since step 1")));

  // Sites outlive the session: after stop() every event is kept again.
  const std::vector<Trace> next = RunSteps(OverheadPolicy::kReport, 100, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(CountByName(next[0])["hot"], kHotPerStep);
}

TEST(OverheadPolicyTest, UnderBudgetNothingChanges) {
  const std::vector<Trace> traces = RunSteps(OverheadPolicy::kSampleHottest, 100, 3);
  ASSERT_EQ(traces.size(), 3u);
  for (const Trace& trace : traces) {
    EXPECT_FALSE(trace.metadata().overhead.over_budget);
    EXPECT_THAT(trace.metadata().overhead.policy_decisions, IsEmpty());
    EXPECT_EQ(CountByName(trace)["hot"], kHotPerStep);
  }
}

TEST(OverheadPolicyTest, ReportNeverSamplesAndTheWarningNamesTheHottestScope) {
  ::testing::internal::CaptureStderr();
  const std::vector<Trace> traces = RunSteps(OverheadPolicy::kReport, 0.5, 2);
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(traces.size(), 2u);
  for (const Trace& trace : traces) {
    EXPECT_TRUE(trace.metadata().overhead.over_budget);
    EXPECT_THAT(trace.metadata().overhead.policy_decisions, IsEmpty());
    EXPECT_EQ(CountByName(trace)["hot"], kHotPerStep);
    ASSERT_FALSE(trace.metadata().overhead.top_scopes.empty());
    EXPECT_THAT(trace.metadata().overhead.top_scopes[0], HasSubstr("hot"));
  }
  EXPECT_THAT(warnings, AllOf(HasSubstr("cycle 0 overhead"), HasSubstr("over the 0.50% budget"),
                              HasSubstr("most events from: hot (")));
}

}  // namespace
}  // namespace scopetrace
