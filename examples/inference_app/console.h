// Console output of the demo, computed with the analysis library (scopetrace/analysis.h)
// so the numbers are the ones `scopetrace summary / steps / diagnose` print for the same
// trace file.

#ifndef SCOPETRACE_EXAMPLES_INFERENCE_APP_CONSOLE_H_
#define SCOPETRACE_EXAMPLES_INFERENCE_APP_CONSOLE_H_

#include <scopetrace/analysis.h>
#include <scopetrace/trace.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace demo {

// The figures the naive and tuned runs are compared by.
struct RunFigures {
  scopetrace::DurationStats step;  // step wall time
  double steps_per_second = 0;
  double device_idle_share = 0;  // of the summed step windows, first device
  std::string findings;          // "host-bound, copy trap", or "none"
};

RunFigures ComputeFigures(const scopetrace::Trace& trace);

// The `top` largest host scopes and device ops, like `scopetrace summary --top`.
void PrintSummary(const scopetrace::Trace& trace, size_t top);
// Step time percentiles and the device's share of the step, like `scopetrace steps`.
void PrintSteps(const scopetrace::Trace& trace);
// Like `scopetrace diagnose`.
void PrintDiagnosis(const scopetrace::Trace& trace);

}  // namespace demo

#endif  // SCOPETRACE_EXAMPLES_INFERENCE_APP_CONSOLE_H_
