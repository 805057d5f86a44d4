// PLACEHOLDER while the real chrome_json_writer is being written; replaced wholesale.
#include "exporters/trace_io.h"

namespace scopetrace::exporters {

absl::Status WriteChromeJson(const Trace&, const std::string& path) {
  return absl::UnimplementedError(path + ": chrome_json_writer is not built yet");
}

}  // namespace scopetrace::exporters
