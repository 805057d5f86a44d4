// PLACEHOLDER while the real chrome_json_reader is being written; replaced wholesale.
#include "exporters/trace_io.h"

namespace scopetrace::exporters {

absl::StatusOr<Trace> ReadChromeJson(const std::string& path) {
  return absl::UnimplementedError(path + ": chrome_json_reader is not built yet");
}

}  // namespace scopetrace::exporters
