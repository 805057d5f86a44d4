// PLACEHOLDER while the real perfetto_reader is being written; replaced wholesale.
#include "exporters/trace_io.h"

namespace scopetrace::exporters {

absl::StatusOr<Trace> ReadPerfetto(const std::string& path) {
  return absl::UnimplementedError(path + ": perfetto_reader is not built yet");
}

}  // namespace scopetrace::exporters
