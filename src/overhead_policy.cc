#include "src/overhead_policy.h"

#include <algorithm>
#include <cmath>

#include "fmt/format.h"
#include "src/cycle_builder.h"

namespace scopetrace::internal {
namespace {

// One counter per (thread, site hash): a sampled site's 1 in N is per thread and needs no
// shared write. Two sampled sites colliding in the 64 slots share a counter, which only
// blurs which of their events are kept, not how many.
constexpr size_t kSampleSlots = 64;
thread_local uint32_t t_sample_counts[kSampleSlots];

std::string SiteName(const Site* site) {
  return site->name != nullptr ? std::string(site->name)
                               : fmt::format("<dynamic {}>", site->category);
}

}  // namespace

bool KeepSampled(const Site* site, uint32_t every) {
  uint32_t& count = t_sample_counts[(reinterpret_cast<uintptr_t>(site) >> 3) % kSampleSlots];
  if (++count < every) return false;
  count = 0;
  return true;
}

SamplingChoice ChooseSampling(std::vector<SiteLoad> loads, double excess_ns) {
  SamplingChoice choice;
  if (excess_ns <= 0 || loads.empty()) return choice;
  std::sort(loads.begin(), loads.end(),
            [](const SiteLoad& a, const SiteLoad& b) { return a.overhead_ns > b.overhead_ns; });
  const size_t candidates = std::min<size_t>(loads.size(), BudgetPolicy::kMaxSampledSites);
  // Sampling sites costing S ns by 1 in N sheds S (1 - 1/N): N = S / (S - excess).
  auto factor_for = [excess_ns](double sum) -> double {
    return sum > excess_ns ? std::ceil(sum / (sum - excess_ns)) : HUGE_VAL;
  };
  // The fewest sites with a comfortable factor, else the fewest any factor up to the cap
  // can bring under, else all candidates at the cap.
  size_t chosen = candidates;
  double sum = 0;
  for (double limit : {static_cast<double>(BudgetPolicy::kComfortableFactor),
                       static_cast<double>(BudgetPolicy::kMaxFactor)}) {
    sum = 0;
    for (size_t k = 0; k < candidates && chosen == candidates; ++k) {
      sum += loads[k].overhead_ns;
      if (factor_for(sum) <= limit) chosen = k + 1;
    }
    if (chosen < candidates || factor_for(sum) <= limit) break;
  }
  const double factor = factor_for(sum);
  choice.reaches_budget = factor <= BudgetPolicy::kMaxFactor;
  choice.factor =
      static_cast<uint32_t>(std::clamp(factor, 2.0, static_cast<double>(BudgetPolicy::kMaxFactor)));
  for (size_t k = 0; k < chosen; ++k) choice.sites.push_back(loads[k].site);
  return choice;
}

double BudgetPolicy::SiteCostNs(const Site* site, uint64_t events, uint64_t payload_events) const {
  switch (site->kind) {
    case SiteKind::kInstant:
    case SiteKind::kDynamicInstant:
      return static_cast<double>(events) * costs_.instant_ns;
    case SiteKind::kCounter:
      return static_cast<double>(events) * costs_.counter_ns;
    case SiteKind::kScope:
    case SiteKind::kDynamicScope:
      break;
  }
  return static_cast<double>(events - payload_events) * costs_.scope_ns +
         static_cast<double>(payload_events) * costs_.payload_scope_ns;
}

void BudgetPolicy::OnCycleFinished(const CycleBuilder& cycle, Trace& trace, int64_t current_step) {
  OverheadReport& report = trace.mutable_metadata().overhead;
  const int64_t cycle_index = trace.metadata().cycle;
  // Sampling already in effect is restated in every trace it shaped.
  for (const Sampled& sampled : sampled_) {
    report.policy_decisions.push_back(fmt::format(
        "cycle {}: '{}' sampled 1 in {} (since step {}, decided at the end of cycle {})",
        cycle_index, SiteName(sampled.site), sampled.every, sampled.since_step,
        sampled.since_cycle));
  }
  if (!report.over_budget) return;
  const double wall_ns = static_cast<double>(
      std::max<int64_t>(1, trace.metadata().end_ns - trace.metadata().start_ns));
  const double target_ns = wall_ns * report.budget_percent / 100.0 * kTargetShareOfBudget;
  std::vector<SiteLoad> loads;
  for (const auto& [site, ids] : cycle.sites()) {
    if (ids.events == 0 || site->kind == SiteKind::kCounter) continue;  // counters are few
    loads.push_back(SiteLoad{.site = site,
                             .events = ids.events,
                             .overhead_ns = SiteCostNs(site, ids.events, ids.payload_events)});
  }
  const SamplingChoice choice = ChooseSampling(std::move(loads), report.total_ns - target_ns);
  for (const Site* site : choice.sites) {
    auto it = std::find_if(sampled_.begin(), sampled_.end(),
                           [site](const Sampled& s) { return s.site == site; });
    if (it == sampled_.end()) {
      it = sampled_.insert(
          sampled_.end(),
          Sampled{
              .site = site, .every = 1, .since_cycle = cycle_index, .since_step = current_step});
    }
    // Already sampled and still over: the factors compound.
    it->every = std::min<uint32_t>(it->every * choice.factor, 1u << 20);
    site->sample_every.store(it->every, std::memory_order_relaxed);
    report.policy_decisions.push_back(fmt::format(
        "cycle {}: sampling '{}' 1 in {} from step {} (overhead {:.2f}% > budget {:.2f}%){}",
        cycle_index, SiteName(site), it->every, current_step, report.percent, report.budget_percent,
        choice.reaches_budget ? "" : "; the budget is out of reach"));
  }
}

void BudgetPolicy::Reset() {
  for (const Sampled& sampled : sampled_) {
    sampled.site->sample_every.store(0, std::memory_order_relaxed);
  }
  sampled_.clear();
}

}  // namespace scopetrace::internal
