// Internal: how flows are spelled in our Chrome JSON files (shared by writer and reader).
//
// Each flow is written as a v1 flow-event pair, `s` at the slice that starts the flow and
// `f` with `bp:"e"` at the slice that ends it, each preceded by a thread-scoped `I` marker
// with the same ts, pid, tid and category ("flow"). Why this shape (checked with
// tools/check-chrome-trace):
// - Chrome DevTools only knows `s`/`t`/`f`. It groups the phases of one flow by
//   (cat, name, id) and binds each phase to the first non-flow event with the identical
//   (ts, pid, tid, cat). A launch slice ("launch") and its device op ("kernel", ...) never
//   share a category, so the flow cannot bind to them directly: it binds to the markers,
//   which sit exactly at the starts of the two slices. The markers are instants, not
//   zero-length slices, because speedscope mis-nests zero-length `X` events that start
//   together with their parent (it then drops the whole thread).
// - Perfetto reads `s`/`f` too (binding `s` to the open slice on the thread, `f` with
//   bp:"e" to the enclosing one), so the same events serve it. We do not also write
//   `bind_id`/`flow_in`/`flow_out`: Perfetto would import every flow twice.
// - Ids are JSON numbers up to 2^53 (exact in JavaScript) and hex strings ("0x...") above,
//   which Perfetto parses as hex and DevTools compares as text.
// The reader drops the markers and binds `s`/`f` to the slice written just before them.

#ifndef SCOPETRACE_EXPORTERS_JSON_FLOW_H_
#define SCOPETRACE_EXPORTERS_JSON_FLOW_H_

#include <cstdint>
#include <string_view>

namespace scopetrace::exporters::json {

inline constexpr std::string_view kFlowCategory = "flow";
inline constexpr std::string_view kFlowName = "flow";
// Largest id written as a JSON number; JavaScript doubles hold integers exactly up to here.
inline constexpr uint64_t kMaxExactJsonInteger = (uint64_t{1} << 53) - 1;

}  // namespace scopetrace::exporters::json

#endif  // SCOPETRACE_EXPORTERS_JSON_FLOW_H_
