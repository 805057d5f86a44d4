// The operator table (`scopetrace summary`): slices grouped by name (and args), with
// total, self time and exact percentiles of their durations.
//
// Cost: one pass to group slices (a hash lookup on ids, never on text), one pass with a
// per-track stack for self time, then a counting sort of durations by group so each
// group's durations sit together and are sorted once for exact percentiles.

#include <algorithm>
#include <limits>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "fmt/format.h"
#include "scopetrace/analysis.h"
#include "src/analysis/analysis_internal.h"

namespace scopetrace {
namespace {

using analysis_internal::IsDeviceOp;
using analysis_internal::IsHostSlice;
using analysis_internal::TrackRole;

constexpr uint32_t kNoGroup = std::numeric_limits<uint32_t>::max();

// What makes two slices the same operator. `args` points into the trace (no copy) and is
// null unless grouping by args.
struct GroupKey {
  bool device = false;
  StringId name = 0;
  const std::vector<Arg>* args = nullptr;

  friend bool operator==(const GroupKey& a, const GroupKey& b) {
    if (a.device != b.device || a.name != b.name) return false;
    if (a.args == nullptr || b.args == nullptr) return a.args == b.args;
    return *a.args == *b.args;
  }
  template <typename H>
  friend H AbslHashValue(H h, const GroupKey& key) {
    h = H::combine(std::move(h), key.device, key.name);
    if (key.args != nullptr) {
      for (const Arg& arg : *key.args) h = H::combine(std::move(h), arg.key, arg.value);
      h = H::combine(std::move(h), key.args->size());
    }
    return h;
  }
};

struct GroupTotals {
  GroupKey key;
  DeviceOpKind op_kind = DeviceOpKind::kNone;
  int64_t calls = 0;
  int64_t total_ns = 0;
  int64_t self_ns = 0;
};

std::string FormatArgValue(const ArgValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return fmt::format("{}", *i);
  if (const auto* d = std::get_if<double>(&value)) return fmt::format("{}", *d);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  return std::get<std::string>(value);
}

std::string FormatArgs(const Trace& trace, const std::vector<Arg>& args) {
  std::string out;
  for (const Arg& arg : args) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}={}", trace.str(arg.key), FormatArgValue(arg.value));
  }
  return out;
}

// Assigns each slice its group (kNoGroup: step slices and slices on counter tracks).
std::vector<uint32_t> GroupSlices(const Trace& trace, const std::vector<TrackRole>& roles,
                                  bool group_by_args, std::vector<GroupTotals>& groups) {
  const std::vector<bool> is_step = analysis_internal::StepNameIds(trace);
  const std::vector<Slice>& slices = trace.slices();
  std::vector<uint32_t> group_of(slices.size(), kNoGroup);
  absl::flat_hash_map<GroupKey, uint32_t> index;
  for (size_t i = 0; i < slices.size(); ++i) {
    const Slice& s = slices[i];
    const bool device = IsDeviceOp(s, roles);
    if (!device && (!IsHostSlice(s, roles) || is_step[s.name])) continue;
    const GroupKey key{device, s.name, group_by_args ? &s.args : nullptr};
    auto [it, inserted] = index.try_emplace(key, static_cast<uint32_t>(groups.size()));
    if (inserted) groups.push_back({.key = key, .op_kind = s.op_kind});
    GroupTotals& g = groups[it->second];
    ++g.calls;
    g.total_ns += s.dur_ns;
    g.self_ns += s.dur_ns;
    group_of[i] = it->second;
  }
  return group_of;
}

// Subtracts from each parent the part of its direct children that lies inside it.
void SubtractChildren(const Trace& trace, const std::vector<uint32_t>& group_of,
                      std::vector<GroupTotals>& groups) {
  const std::vector<Slice>& slices = trace.slices();
  const std::vector<uint32_t> order = analysis_internal::SortedSliceOrder(trace);
  std::vector<uint32_t> stack;  // open slices on the current track, outermost first
  TrackId track = std::numeric_limits<TrackId>::max();
  for (uint32_t i : order) {
    const Slice& s = slices[i];
    if (s.track != track) {
      stack.clear();
      track = s.track;
    }
    while (!stack.empty() && slices[stack.back()].end_ns() <= s.start_ns) stack.pop_back();
    if (!stack.empty()) {
      const Slice& parent = slices[stack.back()];
      const uint32_t g = group_of[stack.back()];
      if (g != kNoGroup) groups[g].self_ns -= std::min(s.end_ns(), parent.end_ns()) - s.start_ns;
    }
    stack.push_back(i);
  }
}

}  // namespace

OperatorSummary SummarizeOperators(const Trace& trace, const SummaryOptions& options) {
  const std::vector<TrackRole> roles = analysis_internal::TrackRoles(trace);
  std::vector<GroupTotals> groups;
  const std::vector<uint32_t> group_of = GroupSlices(trace, roles, options.group_by_args, groups);
  SubtractChildren(trace, group_of, groups);

  // Counting sort of durations by group: group g owns durations[offset[g], offset[g+1]).
  std::vector<int64_t> offset(groups.size() + 1, 0);
  for (size_t g = 0; g < groups.size(); ++g) offset[g + 1] = offset[g] + groups[g].calls;
  std::vector<int64_t> durations(static_cast<size_t>(offset.back()));
  {
    std::vector<int64_t> cursor(offset.begin(), offset.end() - 1);
    const std::vector<Slice>& slices = trace.slices();
    for (size_t i = 0; i < slices.size(); ++i) {
      if (group_of[i] != kNoGroup) durations[cursor[group_of[i]]++] = slices[i].dur_ns;
    }
  }

  OperatorSummary summary;
  for (const GroupTotals& g : groups) {
    (g.key.device ? summary.device_self_ns : summary.host_self_ns) += g.self_ns;
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    const GroupTotals& totals = groups[g];
    const auto first = durations.begin() + offset[g];
    const auto last = durations.begin() + offset[g + 1];
    std::sort(first, last);
    const std::span<const int64_t> sorted(&*first, static_cast<size_t>(last - first));
    const int64_t table_self = totals.key.device ? summary.device_self_ns : summary.host_self_ns;
    OperatorRow row{
        .name = std::string(trace.str(totals.key.name)),
        .args = totals.key.args ? FormatArgs(trace, *totals.key.args) : "",
        .device = totals.key.device,
        .op_kind = totals.op_kind,
        .calls = totals.calls,
        .total_ns = totals.total_ns,
        .self_ns = totals.self_ns,
        .avg_ns = static_cast<double>(totals.total_ns) / static_cast<double>(totals.calls),
        .min_ns = sorted.front(),
        .p50_ns = NearestRankPercentile(sorted, 50),
        .p99_ns = NearestRankPercentile(sorted, 99),
        .max_ns = sorted.back(),
        .percent = table_self > 0 ? 100.0 * static_cast<double>(totals.total_ns) /
                                        static_cast<double>(table_self)
                                  : 0.0,
    };
    (row.device ? summary.device : summary.host).push_back(std::move(row));
  }
  for (std::vector<OperatorRow>* table : {&summary.host, &summary.device}) {
    std::sort(table->begin(), table->end(), [](const OperatorRow& a, const OperatorRow& b) {
      if (a.total_ns != b.total_ns) return a.total_ns > b.total_ns;
      if (a.name != b.name) return a.name < b.name;
      return a.args < b.args;
    });
    if (options.top > 0 && table->size() > options.top) table->resize(options.top);
  }
  return summary;
}

}  // namespace scopetrace
