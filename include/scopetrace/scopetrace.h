// scopetrace/scopetrace.h: the umbrella header, all a user includes.
//
// Example:
//
//   #include <scopetrace/scopetrace.h>
//
//   scopetrace::Profiler profiler({.schedule = scopetrace::Schedule{.wait = 1, .warmup = 1,
//                                                                   .active = 3},
//                                  .output_dir = "traces"});
//   profiler.start().IgnoreError();
//   for (int step = 0; step < 10; ++step) {
//     SCOPETRACE_SCOPE("forward");
//     profiler.step();
//   }
//   profiler.stop();

#ifndef SCOPETRACE_SCOPETRACE_H_
#define SCOPETRACE_SCOPETRACE_H_

#include "scopetrace/analysis.h"
#include "scopetrace/device.h"
#include "scopetrace/format.h"
#include "scopetrace/instrument.h"
#include "scopetrace/profiler.h"
#include "scopetrace/report.h"
#include "scopetrace/schedule.h"
#include "scopetrace/sim/device.h"
#include "scopetrace/trace.h"

#endif  // SCOPETRACE_SCOPETRACE_H_
