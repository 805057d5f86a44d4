// Internal: scopetrace's TraceMetadata in a Perfetto file, as the ScopetraceMetadata
// message of proto/perfetto_trace.proto (TracePacket field 61731; see that file for why
// the field is safe for Perfetto's own tools). Not on a hot path, so this uses the
// generated protobuf classes.

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_METADATA_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_METADATA_H_

#include <string>
#include <string_view>

#include "scopetrace/trace.h"

namespace scopetrace::exporters {

// TracePacket field number of our metadata and TrackDescriptor field number of our track
// identity (both messages defined in proto/perfetto_trace.proto).
constexpr uint32_t kScopetraceFieldNumber = 61731;

// The serialized ScopetraceMetadata. `complete` = false marks the producer-only packet
// written when a file is opened.
std::string EncodeMetadata(const TraceMetadata& metadata, bool complete);

// Parses a serialized ScopetraceMetadata into `metadata`; false if it does not parse.
bool DecodeMetadata(std::string_view bytes, TraceMetadata& metadata, bool& complete);

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_METADATA_H_
