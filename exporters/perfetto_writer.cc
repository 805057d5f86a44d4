// PLACEHOLDER while the real perfetto_writer is being written; replaced wholesale.
#include "exporters/trace_io.h"

namespace scopetrace::exporters {

absl::Status WritePerfetto(const Trace&, const std::string& path, bool) {
  return absl::UnimplementedError(path + ": perfetto_writer is not built yet");
}

}  // namespace scopetrace::exporters
