// WritePerfetto: a whole Trace as one Perfetto TracePacket file, through the same
// incremental writer the streaming capture uses (perfetto_stream_writer.h).

#include "exporters/perfetto_stream_writer.h"
#include "exporters/trace_io.h"

namespace scopetrace::exporters {

absl::Status WritePerfetto(const Trace& trace, const std::string& path, bool zstd) {
  absl::StatusOr<std::unique_ptr<PerfettoStreamWriter>> writer =
      PerfettoStreamWriter::Open(path, zstd);
  if (!writer.ok()) return writer.status();
  if (absl::Status s = (*writer)->Append(trace); !s.ok()) return s;
  return (*writer)->Finish(trace.metadata());
}

}  // namespace scopetrace::exporters
