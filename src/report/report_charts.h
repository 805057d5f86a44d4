// The report's charts, built from the analyses and series: step time, per-device step
// breakdown, top operators, device utilization, counters. Each returns the HTML of one
// <section> (charts and, where useful, a table with the same numbers).

#ifndef SCOPETRACE_SRC_REPORT_REPORT_CHARTS_H_
#define SCOPETRACE_SRC_REPORT_REPORT_CHARTS_H_

#include <cstdint>
#include <string>

#include "scopetrace/analysis.h"
#include "scopetrace/report.h"
#include "scopetrace/trace.h"
#include "src/report/report_series.h"

namespace scopetrace::report_internal {

// "1.23 ms (1 234 567 ns)": readable and exact, for tooltips.
std::string ExactDuration(double ns);

// Step time per step (or group of steps) with P50 and P99 lines, then one stacked chart
// per device of compute only, copy only, overlap and idle.
std::string StepSection(const StepAnalysis& steps, const ReportOptions& options);

// Top host and device operators by total time, as bars and as a table.
std::string OperatorSection(const OperatorSummary& summary);

// Device busy share per time bucket, one chart per device.
std::string UtilizationSection(const Trace& trace, const TimeWindow& window,
                               const ReportOptions& options);

// Device memory (all devices in one chart) and each host counter in its own chart.
std::string CounterSection(const Trace& trace, const TimeWindow& window,
                           const ReportOptions& options);

}  // namespace scopetrace::report_internal

#endif  // SCOPETRACE_SRC_REPORT_REPORT_CHARTS_H_
