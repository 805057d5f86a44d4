#include "exporters/trace_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace scopetrace {

absl::StatusOr<Format> FormatFromPath(std::string_view path_view) {
  const absl::string_view path(path_view.data(), path_view.size());
  if (absl::EndsWith(path, ".json")) return Format::kChromeJson;
  if (absl::EndsWith(path, ".pftrace")) return Format::kPerfetto;
  if (absl::EndsWith(path, ".zst")) return Format::kPerfettoZstd;
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": unknown trace format (expected .trace.json, .pftrace or .pftrace.zst)"));
}

absl::Status Trace::Write(const std::string& path, Format format) const {
  return exporters::WriteAtomically(path, [&](const std::string& tmp) -> absl::Status {
    switch (format) {
      case Format::kChromeJson:
        return exporters::WriteChromeJson(*this, tmp);
      case Format::kPerfetto:
        return exporters::WritePerfetto(*this, tmp, /*zstd=*/false);
      case Format::kPerfettoZstd:
        return exporters::WritePerfetto(*this, tmp, /*zstd=*/true);
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": Trace::Write needs exactly one format"));
    }
  });
}

absl::StatusOr<Trace> ReadTrace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  char head[8] = {};
  in.read(head, sizeof(head));
  const std::streamsize n = in.gcount();
  if (n == 0) return absl::InvalidArgumentError(absl::StrCat(path, ": empty file"));
  size_t i = 0;
  while (i < static_cast<size_t>(n) &&
         (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) {
    ++i;
  }
  if (i < static_cast<size_t>(n) && (head[i] == '{' || head[i] == '[')) {
    return exporters::ReadChromeJson(path);
  }
  return exporters::ReadPerfetto(path);
}

namespace exporters {

absl::Status WriteAtomically(const std::string& path,
                             const std::function<absl::Status(const std::string&)>& write) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  absl::Status status = write(tmp);
  if (status.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    status = absl::InternalError(
        absl::StrCat(path, ": cannot rename temporary file into place: ", std::strerror(errno)));
  }
  if (!status.ok()) std::remove(tmp.c_str());
  return status;
}

}  // namespace exporters
}  // namespace scopetrace
