#include "src/streaming_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace scopetrace::internal {

absl::StatusOr<std::unique_ptr<StreamingSink>> StreamingSink::Open(
    const std::vector<std::pair<Format, std::string>>& outputs) {
  auto sink = std::unique_ptr<StreamingSink>(new StreamingSink());
  for (const auto& [format, path] : outputs) {
    Output output{.format = format,
                  .final_path = path,
                  .temp_path = absl::StrCat(path, ".tmp.", getpid()),
                  .writer = nullptr};
    absl::StatusOr<std::unique_ptr<exporters::PerfettoStreamWriter>> writer =
        exporters::PerfettoStreamWriter::Open(output.temp_path,
                                              /*zstd=*/format == Format::kPerfettoZstd,
                                              exporters::PerfettoOutput::kDefaultZstdLevel,
                                              /*background_compression=*/true);
    if (!writer.ok()) return writer.status();  // the destructor removes opened files
    output.writer = std::move(*writer);
    sink->formats_.push_back(format);
    sink->outputs_.push_back(std::move(output));
  }
  return sink;
}

StreamingSink::~StreamingSink() {
  if (finished_) return;
  // Abandoned (an error, or the profiler went away): nothing may appear under a final
  // name, and no temporary file is left behind.
  for (Output& output : outputs_) {
    output.writer.reset();
    std::remove(output.temp_path.c_str());
  }
}

void StreamingSink::CountBackgroundCpuInto(std::atomic<int64_t>* counter) {
  for (Output& output : outputs_) output.writer->CountBackgroundCpuInto(counter);
}

absl::Status StreamingSink::Append(const Trace& chunk, const HostSliceRuns* runs) {
  for (Output& output : outputs_) {
    if (absl::Status status = output.writer->Append(chunk, runs); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status StreamingSink::Finish(const Trace& rest) {
  if (absl::Status status = Append(rest); !status.ok()) return status;
  for (Output& output : outputs_) {
    if (absl::Status status = output.writer->Finish(rest.metadata()); !status.ok()) {
      return status;
    }
    output.writer.reset();
    if (std::rename(output.temp_path.c_str(), output.final_path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat(
          output.final_path, ": cannot rename temporary file into place: ", std::strerror(errno)));
    }
  }
  finished_ = true;
  return absl::OkStatus();
}

uint64_t StreamingSink::events_written() const {
  return outputs_.empty() || !outputs_.front().writer ? 0
                                                      : outputs_.front().writer->events_written();
}

}  // namespace scopetrace::internal
