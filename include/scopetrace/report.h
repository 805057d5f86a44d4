// scopetrace/report.h
//
// An HTML report of one captured `Trace`: a single self-contained file (inline CSS and
// SVG, no script, nothing fetched from the network) that opens offline in any browser.
// It is what `scopetrace report TRACE -o report.html` writes, and what a program can
// produce straight from `on_trace_ready`.
//
// The report shows, top to bottom:
//   - the capture: worker, process, cycle, steps, events, dropped events, measured
//     overhead against its budget, clock synchronization error per device;
//   - the diagnosis (`Diagnose`) with its evidence and advice;
//   - step time per step with P50 and P99 lines, and per device a stacked bar per step
//     of compute, copy, overlap and idle (`AnalyzeSteps`);
//   - the top operators by total time, host and device (`SummarizeOperators`);
//   - device utilization (busy fraction per time bucket) over the cycle, the device
//     memory counter and the host counters as line charts.
// Every bar and point carries a tooltip with its exact values; long names are shortened
// in labels and given in full in the tooltip. Every name from the trace is escaped, so
// a trace cannot inject markup into the page.
//
// Example:
//
//   absl::StatusOr<scopetrace::Trace> trace = scopetrace::ReadTrace("run.trace.json");
//   if (!trace.ok()) return trace.status();
//   absl::Status written = scopetrace::WriteHtmlReport(*trace, "report.html",
//                                                      {.source = "run.trace.json"});
//
// Size: long captures are bucketed (at most `max_step_bars` bars per step chart, about
// `utilization_buckets` buckets, thinned counter lines), so a 10 000-step trace gives a
// report of a few hundred KiB. Cost: the analyses' O(n log n) in the number of events.
// Thread safety: a `const Trace` may be reported from several threads at once.

#ifndef SCOPETRACE_REPORT_H_
#define SCOPETRACE_REPORT_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scopetrace/trace.h"

namespace scopetrace {

// Fields are declared in this order so designated initializers in this order compile.
struct ReportOptions {
  // Where the trace came from (a file name), shown in the title and header; may be empty.
  std::string source;
  // Rows in each of the host and device operator charts, largest total time first.
  size_t top_operators = 15;
  // Beyond this many steps, consecutive steps share one bar (their mean, with min and
  // max in the tooltip). At least 1.
  size_t max_step_bars = 300;
  // Most time buckets of the device utilization chart; each is a round length (1, 2 or
  // 5 × 10^k ns), the smallest that covers the cycle in this many. At least 1.
  size_t utilization_buckets = 120;
  // Counter lines are thinned to about this many points each (peaks are kept).
  size_t max_counter_points = 600;
};

// The report of `trace` as one HTML document (UTF-8). Fails with InvalidArgument only
// when `options` are out of range; any trace, even an empty one, gives a report.
absl::StatusOr<std::string> RenderHtmlReport(const Trace& trace, const ReportOptions& options = {});

// Renders the report and writes it to `path` under a temporary name renamed when
// complete, so a reader never sees half a file. Errors name the path.
absl::Status WriteHtmlReport(const Trace& trace, const std::string& path,
                             const ReportOptions& options = {});

}  // namespace scopetrace

#endif  // SCOPETRACE_REPORT_H_
