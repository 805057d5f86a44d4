#include "console.h"

#include <fmt/format.h>

#include <vector>

namespace demo {
namespace {

using scopetrace::FormatDuration;

void PrintTable(std::string_view title, const std::vector<scopetrace::OperatorRow>& rows,
                size_t top) {
  fmt::print("  {:<24} {:>6} {:>10} {:>10} {:>10} {:>10} {:>7}\n", title, "Calls", "Total", "Self",
             "Avg", "P99", "%");
  for (size_t i = 0; i < rows.size() && i < top; ++i) {
    const scopetrace::OperatorRow& row = rows[i];
    fmt::print("  {:<24} {:>6} {:>10} {:>10} {:>10} {:>10} {:>6.1f}%\n", row.name, row.calls,
               FormatDuration(row.total_ns), FormatDuration(row.self_ns),
               FormatDuration(static_cast<int64_t>(row.avg_ns + 0.5)), FormatDuration(row.p99_ns),
               row.percent);
  }
  if (rows.size() > top) fmt::print("  ... {} more\n", rows.size() - top);
}

}  // namespace

RunFigures ComputeFigures(const scopetrace::Trace& trace) {
  const scopetrace::StepAnalysis steps = scopetrace::AnalyzeSteps(trace);
  RunFigures figures;
  figures.step = steps.wall;
  figures.steps_per_second = steps.steps_per_second;
  int64_t wall = 0, idle = 0;
  for (const scopetrace::StepRow& step : steps.steps) {
    wall += step.wall_ns;
    if (!step.devices.empty()) idle += step.devices[0].idle_ns;
  }
  if (wall > 0) figures.device_idle_share = static_cast<double>(idle) / static_cast<double>(wall);
  for (const scopetrace::Finding& finding : scopetrace::Diagnose(trace).findings) {
    if (!figures.findings.empty()) figures.findings += ", ";
    figures.findings += scopetrace::FindingKindName(finding.kind);
  }
  if (figures.findings.empty()) figures.findings = "none";
  return figures;
}

void PrintSummary(const scopetrace::Trace& trace, size_t top) {
  const scopetrace::OperatorSummary summary = scopetrace::SummarizeOperators(trace);
  PrintTable("Host scopes", summary.host, top);
  fmt::print("\n");
  PrintTable("Device ops", summary.device, top);
}

void PrintSteps(const scopetrace::Trace& trace) {
  const RunFigures f = ComputeFigures(trace);
  fmt::print(
      "  {} steps: P50 {}  P90 {}  P99 {}  ({:.0f} steps/s); device idle {:.1f} % of the step\n",
      f.step.count, FormatDuration(f.step.p50_ns), FormatDuration(f.step.p90_ns),
      FormatDuration(f.step.p99_ns), f.steps_per_second, 100 * f.device_idle_share);
}

void PrintDiagnosis(const scopetrace::Trace& trace) {
  const scopetrace::Diagnosis diagnosis = scopetrace::Diagnose(trace);
  if (diagnosis.findings.empty()) fmt::print("  {}\n", diagnosis.note);
  for (size_t i = 0; i < diagnosis.findings.size(); ++i) {
    const scopetrace::Finding& f = diagnosis.findings[i];
    fmt::print("  {}. {}\n     evidence: {}\n     try: {}\n", i + 1, f.title, f.evidence, f.advice);
  }
}

}  // namespace demo
