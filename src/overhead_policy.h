// Internal: OverheadPolicy::kSampleHottest, the policy that keeps the overhead budget by
// itself. At the end of a cycle whose estimate is over budget, the call sites that cost
// most are switched to keeping 1 in N of their events (Site::sample_every), N chosen so
// that the cycle's estimate would have fallen under the budget. Each decision, and each
// sampling still in effect, is written into the trace's metadata: a reader of a sampled
// trace must be able to tell that a scope's event count is 1 in N of what ran.

#ifndef SCOPETRACE_SRC_OVERHEAD_POLICY_H_
#define SCOPETRACE_SRC_OVERHEAD_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "scopetrace/internal/ring.h"
#include "scopetrace/trace.h"
#include "src/overhead.h"

namespace scopetrace::internal {

class CycleBuilder;

// The estimated cost of one call site's events in a cycle.
struct SiteLoad {
  const Site* site = nullptr;
  uint64_t events = 0;
  double overhead_ns = 0;
};

// Which sites to sample and by what factor so that `excess_ns` of overhead goes away:
// the fewest of the hottest sites (at most kMaxSampledSites) whose events can shed the
// excess with a factor no larger than kComfortableFactor, else the hottest few at a
// larger factor (capped at kMaxFactor). An empty choice when there is no excess.
struct SamplingChoice {
  std::vector<const Site*> sites;
  uint32_t factor = 1;
  bool reaches_budget = true;  // false when even the cap cannot shed the excess
};
SamplingChoice ChooseSampling(std::vector<SiteLoad> loads, double excess_ns);

class BudgetPolicy {
 public:
  static constexpr uint32_t kMaxSampledSites = 5;
  static constexpr uint32_t kComfortableFactor = 64;
  static constexpr uint32_t kMaxFactor = 1024;
  // The policy aims this far under the budget, so the next cycle's natural variation does
  // not push it straight back over.
  static constexpr double kTargetShareOfBudget = 0.8;

  explicit BudgetPolicy(const OverheadCosts& costs) : costs_(costs) {}
  // Every site it sampled goes back to keeping all events: sites outlive the session.
  ~BudgetPolicy() { Reset(); }
  BudgetPolicy(const BudgetPolicy&) = delete;
  BudgetPolicy& operator=(const BudgetPolicy&) = delete;

  // On the collector thread, for each finished cycle before it is handed over, with the
  // step in progress. Appends to trace.metadata().overhead.policy_decisions.
  void OnCycleFinished(const CycleBuilder& cycle, Trace& trace, int64_t current_step);
  void Reset();

 private:
  struct Sampled {
    const Site* site;
    uint32_t every;
    int64_t since_cycle;
    int64_t since_step;
  };
  double SiteCostNs(const Site* site, uint64_t events, uint64_t payload_events) const;

  const OverheadCosts costs_;
  std::vector<Sampled> sampled_;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_OVERHEAD_POLICY_H_
