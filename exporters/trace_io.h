// Internal: the entry points of each writer and reader, dispatched by trace_io.cc.
// Writers write straight to `path` (the caller renames a temporary file into place);
// readers name `path` in every error.

#ifndef SCOPETRACE_EXPORTERS_TRACE_IO_H_
#define SCOPETRACE_EXPORTERS_TRACE_IO_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scopetrace/trace.h"

namespace scopetrace::exporters {

// Chrome trace event JSON (chrome_json_writer.cc / chrome_json_reader.cc).
absl::Status WriteChromeJson(const Trace& trace, const std::string& path);
absl::StatusOr<Trace> ReadChromeJson(const std::string& path);

// Perfetto TracePacket stream, optionally one zstd stream (perfetto_writer.cc /
// perfetto_reader.cc). The reader detects zstd by its magic number.
absl::Status WritePerfetto(const Trace& trace, const std::string& path, bool zstd);
absl::StatusOr<Trace> ReadPerfetto(const std::string& path);

// Writes through `write(tmp_path)` to a temporary name beside `path`, then renames it to
// `path`. On failure the temporary file is removed and nothing appears under `path`.
absl::Status WriteAtomically(const std::string& path,
                             const std::function<absl::Status(const std::string&)>& write);

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_TRACE_IO_H_
