// Diff of two traces (`scopetrace diff`): step time percentiles and the top operators
// side by side, and the regression verdict a CI gate acts on.

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "scopetrace/analysis.h"

namespace scopetrace {
namespace {

double DeltaPercent(double base, double next) {
  return base > 0 ? 100.0 * (next - base) / base : 0.0;
}

}  // namespace

TraceDiff DiffTraces(const Trace& base, const Trace& next, const DiffOptions& options) {
  TraceDiff diff;
  diff.base_steps = AnalyzeSteps(base).wall;
  diff.new_steps = AnalyzeSteps(next).wall;
  diff.p50_delta_pct = DeltaPercent(static_cast<double>(diff.base_steps.p50_ns),
                                    static_cast<double>(diff.new_steps.p50_ns));
  diff.p90_delta_pct = DeltaPercent(static_cast<double>(diff.base_steps.p90_ns),
                                    static_cast<double>(diff.new_steps.p90_ns));
  diff.p99_delta_pct = DeltaPercent(static_cast<double>(diff.base_steps.p99_ns),
                                    static_cast<double>(diff.new_steps.p99_ns));
  diff.regressed = diff.base_steps.count > 0 && diff.new_steps.count > 0 &&
                   (diff.p50_delta_pct > options.max_regression_pct ||
                    diff.p99_delta_pct > options.max_regression_pct);

  // Operators are matched by (device, name): the two traces intern strings differently.
  absl::flat_hash_map<std::pair<bool, std::string>, size_t> index;
  auto add = [&](const OperatorRow& row, bool is_new) {
    auto [it, inserted] = index.try_emplace(std::pair(row.device, row.name), diff.operators.size());
    if (inserted) diff.operators.push_back({.name = row.name, .device = row.device});
    OperatorDelta& delta = diff.operators[it->second];
    (is_new ? delta.new_calls : delta.base_calls) += row.calls;
    (is_new ? delta.new_total_ns : delta.base_total_ns) += row.total_ns;
  };
  const OperatorSummary base_ops = SummarizeOperators(base);
  const OperatorSummary new_ops = SummarizeOperators(next);
  for (const auto* table : {&base_ops.host, &base_ops.device}) {
    for (const OperatorRow& row : *table) add(row, /*is_new=*/false);
  }
  for (const auto* table : {&new_ops.host, &new_ops.device}) {
    for (const OperatorRow& row : *table) add(row, /*is_new=*/true);
  }
  for (OperatorDelta& delta : diff.operators) {
    delta.delta_pct = DeltaPercent(static_cast<double>(delta.base_total_ns),
                                   static_cast<double>(delta.new_total_ns));
  }
  std::sort(diff.operators.begin(), diff.operators.end(),
            [](const OperatorDelta& a, const OperatorDelta& b) {
              const int64_t ka = std::max(a.base_total_ns, a.new_total_ns);
              const int64_t kb = std::max(b.base_total_ns, b.new_total_ns);
              return std::tuple(-ka, a.device, a.name) < std::tuple(-kb, b.device, b.name);
            });
  if (options.top_operators > 0 && diff.operators.size() > options.top_operators) {
    diff.operators.resize(options.top_operators);
  }
  return diff;
}

}  // namespace scopetrace
