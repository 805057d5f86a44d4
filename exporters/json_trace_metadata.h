// Internal: the "scopetrace" top-level object of our Chrome JSON files.
//
// It carries everything the trace events cannot: every TraceMetadata field, and the exact
// process and track layout (device processes, track kinds, ids and order), so a file we
// wrote reads back into an equal model. Foreign files lack it; the reader then infers.

#ifndef SCOPETRACE_EXPORTERS_JSON_TRACE_METADATA_H_
#define SCOPETRACE_EXPORTERS_JSON_TRACE_METADATA_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "exporters/json_output.h"
#include "exporters/json_parser.h"
#include "scopetrace/trace.h"

namespace scopetrace::exporters::json {

// The top-level key of the object.
inline constexpr std::string_view kScopetraceKey = "scopetrace";

// Writes the object (a JSON value, without the key).
void WriteScopetraceObject(const Trace& trace, JsonOutput& out);

struct ScopetraceObject {
  TraceMetadata metadata;
  std::vector<Process> processes;
  std::vector<Track> tracks;
};

// Device stream tracks are listed with their stream index as tid; in trace events the
// writer puts stream i at tid i + 1 (see chrome_json_writer.cc).
// Reads the object back. Missing fields keep their defaults; a field of the wrong type
// is an error naming the field.
absl::Status ReadScopetraceObject(const Value& value, ScopetraceObject* out);

}  // namespace scopetrace::exporters::json

#endif  // SCOPETRACE_EXPORTERS_JSON_TRACE_METADATA_H_
