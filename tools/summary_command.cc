// `scopetrace summary TRACE [--top N] [--csv|--json] [--by-args]`: the operator tables.

#include <charconv>
#include <string>

#include "fmt/format.h"
#include "scopetrace/analysis.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace scopetrace::cli {
namespace {

constexpr std::string_view kHelp =
    R"(usage: scopetrace summary TRACE [--top N] [--csv|--json] [--by-args]

Operator tables, one for host scopes and one for device ops, sorted by total time:
name, calls, total, self (total minus children on the same track), avg, min, P50, P99,
max, and % (total as a share of the busy time of all host threads / device streams,
counted once; nested scopes add up past 100 %). Percentiles are exact (nearest rank).
ProfilerStep#N slices are left out (see 'scopetrace steps').

options:
  --top N      keep the N largest rows of each table
  --by-args    group by name and args (e.g. input shape), not by name alone
  --csv        one CSV table (column 'table' is host or device), durations in ns
  --json       JSON: metadata, host and device rows, durations in ns
)";

constexpr OptionSpec kOptions[] = {
    {"--top", true}, {"--csv", false}, {"--json", false}, {"--by-args", false}};

void PrintHeader(const Trace& trace, const std::string& path) {
  const TraceMetadata& m = trace.metadata();
  std::string steps = "none recorded";
  if (m.first_step >= 0) {
    steps = fmt::format("{}..{} ({})", m.first_step, m.last_step, m.last_step - m.first_step + 1);
  }
  double clock_error = 0;
  for (const ClockFit& fit : m.clock_fits) clock_error = std::max(clock_error, fit.error_bound_ns);
  fmt::print("{}\n", path);
  fmt::print("  worker {}  pid {}  cycle {}  steps {}\n", m.worker.empty() ? "?" : m.worker, m.pid,
             m.cycle, steps);
  fmt::print("  events {}  dropped events {}  overhead {:.2f} % (budget {:.2f} %){}\n",
             trace.event_count(), m.dropped_events, m.overhead.percent, m.overhead.budget_percent,
             m.overhead.over_budget ? "  OVER BUDGET" : "");
  fmt::print("  clock sync error bound {}\n",
             m.clock_fits.empty() ? std::string("n/a (no device clock)")
                                  : FormatDuration(static_cast<int64_t>(clock_error)));
}

void PrintTable(std::string_view title, const std::vector<OperatorRow>& rows, bool by_args) {
  fmt::print("\n{} ({} {})\n", title, rows.size(), rows.size() == 1 ? "row" : "rows");
  if (rows.empty()) {
    fmt::print("  (none)\n");
    return;
  }
  Table table;
  table.AddColumn("Name", Table::Align::kLeft);
  if (by_args) table.AddColumn("Args", Table::Align::kLeft);
  for (const char* header : {"Calls", "Total", "Self", "Avg", "Min", "P50", "P99", "Max", "%"}) {
    table.AddColumn(header, Table::Align::kRight);
  }
  for (const OperatorRow& row : rows) {
    std::vector<std::string> cells = {row.name};
    if (by_args) cells.push_back(row.args);
    for (std::string cell :
         {std::to_string(row.calls), FormatDuration(row.total_ns), FormatDuration(row.self_ns),
          FormatDuration(static_cast<int64_t>(row.avg_ns + 0.5)), FormatDuration(row.min_ns),
          FormatDuration(row.p50_ns), FormatDuration(row.p99_ns), FormatDuration(row.max_ns),
          FormatPercent(row.percent)}) {
      cells.push_back(std::move(cell));
    }
    table.AddRow(std::move(cells));
  }
  table.Print(2);
}

void PrintCsv(const OperatorSummary& summary) {
  fmt::print("table,name,args,calls,total_ns,self_ns,avg_ns,min_ns,p50_ns,p99_ns,max_ns,percent\n");
  for (const auto* rows : {&summary.host, &summary.device}) {
    for (const OperatorRow& r : *rows) {
      fmt::print("{},{},{},{},{},{},{:.1f},{},{},{},{},{:.3f}\n", r.device ? "device" : "host",
                 CsvField(r.name), CsvField(r.args), r.calls, r.total_ns, r.self_ns, r.avg_ns,
                 r.min_ns, r.p50_ns, r.p99_ns, r.max_ns, r.percent);
    }
  }
}

void PrintJson(const Trace& trace, const std::string& path, const OperatorSummary& summary) {
  const TraceMetadata& m = trace.metadata();
  fmt::print("{{\n  \"file\": {},\n", JsonString(path));
  fmt::print(
      "  \"metadata\": {{\"worker\": {}, \"pid\": {}, \"cycle\": {}, \"first_step\": {}, "
      "\"last_step\": {}, \"events\": {}, \"dropped_events\": {}, \"overhead_percent\": {}, "
      "\"overhead_budget_percent\": {}}},\n",
      JsonString(m.worker), m.pid, m.cycle, m.first_step, m.last_step, trace.event_count(),
      m.dropped_events, m.overhead.percent, m.overhead.budget_percent);
  auto print_rows = [](std::string_view key, const std::vector<OperatorRow>& rows, bool last) {
    fmt::print("  \"{}\": [", key);
    for (size_t i = 0; i < rows.size(); ++i) {
      const OperatorRow& r = rows[i];
      fmt::print(
          "{}\n    {{\"name\": {}, \"args\": {}, \"calls\": {}, \"total_ns\": {}, \"self_ns\": {}, "
          "\"avg_ns\": {:.1f}, \"min_ns\": {}, \"p50_ns\": {}, \"p99_ns\": {}, \"max_ns\": {}, "
          "\"percent\": {:.3f}}}",
          i ? "," : "", JsonString(r.name), JsonString(r.args), r.calls, r.total_ns, r.self_ns,
          r.avg_ns, r.min_ns, r.p50_ns, r.p99_ns, r.max_ns, r.percent);
    }
    fmt::print("{}]{}\n", rows.empty() ? "" : "\n  ", last ? "" : ",");
  };
  print_rows("host", summary.host, false);
  print_rows("device", summary.device, true);
  fmt::print("}}\n");
}

}  // namespace

int RunSummaryCommand(int argc, char** argv) {
  CommandLine cl;
  std::string error;
  if (!cl.Parse(argc, argv, kOptions, error)) return Fail("summary", error);
  if (cl.help()) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (cl.positional().size() != 1) {
    return Fail("summary", "expects exactly one TRACE file (see --help)");
  }
  if (cl.has("--csv") && cl.has("--json")) {
    return Fail("summary", "--csv and --json exclude each other");
  }
  SummaryOptions options{.group_by_args = cl.has("--by-args")};
  if (std::optional<std::string> top = cl.value("--top")) {
    const auto [end, ec] = std::from_chars(top->data(), top->data() + top->size(), options.top);
    if (ec != std::errc() || end != top->data() + top->size() || options.top == 0) {
      return Fail("summary", fmt::format("--top expects a positive integer, got '{}'", *top));
    }
  }
  const std::string& path = cl.positional()[0];
  std::optional<Trace> trace = LoadTrace("summary", path);
  if (!trace) return kExitBadInput;
  const OperatorSummary summary = SummarizeOperators(*trace, options);
  if (cl.has("--csv")) {
    PrintCsv(summary);
  } else if (cl.has("--json")) {
    PrintJson(*trace, path, summary);
  } else {
    PrintHeader(*trace, path);
    PrintTable("Host scopes", summary.host, options.group_by_args);
    PrintTable("Device ops", summary.device, options.group_by_args);
  }
  return kExitOk;
}

}  // namespace scopetrace::cli
