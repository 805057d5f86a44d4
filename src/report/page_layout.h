// The frame of the HTML report: the inline style sheet, the capture header (worker,
// process, cycle, steps, events, drops, overhead, clock sync) and the diagnosis.

#ifndef SCOPETRACE_SRC_REPORT_PAGE_LAYOUT_H_
#define SCOPETRACE_SRC_REPORT_PAGE_LAYOUT_H_

#include <string>
#include <string_view>

#include "scopetrace/analysis.h"
#include "scopetrace/report.h"
#include "scopetrace/trace.h"

namespace scopetrace::report_internal {

// The whole style sheet; the charts' colour classes (c-compute, s0, ...) are defined here.
std::string_view ReportCss();

// The page title: "scopetrace report: <source or worker> cycle K".
std::string ReportTitle(const Trace& trace, const ReportOptions& options);

// The capture facts as a grid; every value carries data-field="<name>" for tests.
std::string HeaderSection(const Trace& trace, const StepAnalysis& steps,
                          const ReportOptions& options);

// The findings of Diagnose() with evidence and advice, or why there are none.
std::string DiagnosisSection(const Diagnosis& diagnosis);

}  // namespace scopetrace::report_internal

#endif  // SCOPETRACE_SRC_REPORT_PAGE_LAYOUT_H_
