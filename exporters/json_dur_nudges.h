// Internal: which slices the Chrome JSON writer writes with a `dur` a few picoseconds short,
// so that importers that compute a slice's end as `ts + dur` in doubles keep the nesting.
//
//   const std::vector<uint16_t> nudges = json::DurNudgesPs(trace, FileTid);
//   ... out.MicrosLessPicos(slice.dur_ns, nudges[i]) ...
//
// Why: speedscope (its trace-event importer) rebases every `ts` of a thread on the thread's
// first B/E/X event and takes each X event's end as `ts + dur`, all in doubles. Microsecond
// timestamps with nanosecond decimals are not exact doubles (half an ulp is 4.8e-7 us at
// 2^33 us, 2.4 hours of uptime), so the end of a slice can come out a fraction of a
// picosecond after the begin of the slice that starts exactly where it ends, or after its
// parent's equal end. speedscope then processes the begin first and keeps the wrong frame
// open (160 warnings in the demo's trace). Ties are no better for two back-to-back slices
// with the same name and args: speedscope opens the second before closing the first.
//
// So where a slice's end, computed as speedscope computes it, is not strictly before the
// begin of a slice starting at its exact end, or passes its parent's end when both end
// together, its duration is written shorter by the least of 1, 10, 100 or 400 ps that puts
// it back in order. Under half a nanosecond: every reader that rounds to the nearest
// nanosecond (ours, Perfetto's trace_processor) reads the exact duration back, and a
// viewer shows the same value. Nothing else changes; when no nudge suffices (timestamps
// beyond ~2^40 us, where an ulp is more than 400 ps) the slice is written exactly as before.
//
// The doubles are computed as a JavaScript engine does: a number's text parses to the
// nearest double, which for `N` ns written as `N / 1000` us is the correctly rounded
// quotient `double(N) / 1000.0` (N is exact in a double below 2^53 ns, 104 days).

#ifndef SCOPETRACE_EXPORTERS_JSON_DUR_NUDGES_H_
#define SCOPETRACE_EXPORTERS_JSON_DUR_NUDGES_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "scopetrace/trace.h"

namespace scopetrace::exporters::json {

// One entry per slice of `trace`: picoseconds to take off its written `dur` (0 for nearly
// all). `file_tid` gives the tid a track is written under: slices of one (pid, tid) form
// one thread for speedscope.
std::vector<uint16_t> DurNudgesPs(const Trace& trace,
                                  const std::function<int64_t(const Track&)>& file_tid);

}  // namespace scopetrace::exporters::json

#endif  // SCOPETRACE_EXPORTERS_JSON_DUR_NUDGES_H_
