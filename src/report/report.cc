// RenderHtmlReport and WriteHtmlReport: runs the analyses once and assembles the page
// from the sections (page_layout.cc, report_charts.cc).

#include "scopetrace/report.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "fmt/format.h"
#include "scopetrace/analysis.h"
#include "src/report/html_text.h"
#include "src/report/page_layout.h"
#include "src/report/report_charts.h"
#include "src/report/report_series.h"

namespace scopetrace {

absl::StatusOr<std::string> RenderHtmlReport(const Trace& trace, const ReportOptions& options) {
  using namespace report_internal;
  if (options.max_step_bars == 0) {
    return absl::InvalidArgumentError("ReportOptions::max_step_bars must be at least 1");
  }
  if (options.utilization_buckets == 0) {
    return absl::InvalidArgumentError("ReportOptions::utilization_buckets must be at least 1");
  }
  if (options.max_counter_points < 2) {
    return absl::InvalidArgumentError("ReportOptions::max_counter_points must be at least 2");
  }
  const StepAnalysis steps = AnalyzeSteps(trace);
  const OperatorSummary operators = SummarizeOperators(
      trace, SummaryOptions{.top = options.top_operators, .group_by_args = false});
  const Diagnosis diagnosis = Diagnose(trace);
  const TimeWindow window = ReportWindow(trace);
  const std::string title = ReportTitle(trace, options);

  std::string html;
  html.reserve(64 * 1024);
  // No script and no external resource: the CSP makes sure the page never loads any,
  // even if a future change slipped markup through.
  html +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>";
  AppendEscaped(html, title);
  html += "</title><style>";
  html += ReportCss();
  html += "</style></head><body><header class=\"top\"><h1>";
  AppendEscaped(html, title);
  html += "</h1><div class=\"sub\">Hover a bar or point for its exact values.</div>";
  html += HeaderSection(trace, steps, options);
  html += "</header><main>";
  html += DiagnosisSection(diagnosis);
  html += StepSection(steps, options);
  html += OperatorSection(operators);
  html += UtilizationSection(trace, window, options);
  html += CounterSection(trace, window, options);
  html += "<footer>Written by scopetrace report";
  if (!trace.metadata().producer.empty()) {
    html += " from a trace by ";
    AppendEscaped(html, trace.metadata().producer);
  }
  html += ".</footer></main></body></html>\n";
  return html;
}

absl::Status WriteHtmlReport(const Trace& trace, const std::string& path,
                             const ReportOptions& options) {
  absl::StatusOr<std::string> html = RenderHtmlReport(trace, options);
  if (!html.ok()) return html.status();
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) {
      return absl::UnavailableError(fmt::format("{}: cannot create the file: {}", path,
                                                std::generic_category().message(errno)));
    }
    file.write(html->data(), static_cast<std::streamsize>(html->size()));
    file.close();
    if (!file) {
      std::remove(temporary.c_str());
      return absl::DataLossError(fmt::format("{}: writing failed (disk full?)", path));
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::remove(temporary.c_str());
    return absl::UnavailableError(
        fmt::format("{}: cannot rename the finished file into place: {}", path, error.message()));
  }
  return absl::OkStatus();
}

}  // namespace scopetrace
