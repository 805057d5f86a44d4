// Internal: streaming capture. With ProfilerOptions::streaming, each Perfetto format of a
// cycle is encoded while the cycle is captured: the collector hands the sink chunks of
// events (then drops them from memory), and at the cycle's end the rest, the metadata, and
// the rename from the temporary name to the final one. Memory is bounded by one chunk
// however long the active window. zstd outputs compress on a thread each (see
// PerfettoStreamWriter::Open); the file is the same single zstd frame.

#ifndef SCOPETRACE_SRC_STREAMING_SINK_H_
#define SCOPETRACE_SRC_STREAMING_SINK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exporters/perfetto_stream_writer.h"
#include "scopetrace/format.h"
#include "scopetrace/trace.h"

namespace scopetrace::internal {

class HostSliceRuns;

class StreamingSink {
 public:
  // Opens one writer per (format, final path); files are written under a temporary name.
  static absl::StatusOr<std::unique_ptr<StreamingSink>> Open(
      const std::vector<std::pair<Format, std::string>>& outputs);
  ~StreamingSink();

  // zstd outputs compress on threads of their own (PerfettoStreamWriter's background
  // compression); when they end, they add their CPU time (ns) to `*counter`.
  void CountBackgroundCpuInto(std::atomic<int64_t>* counter);

  // Encodes every event now in `chunk` (and in `runs`, as PerfettoStreamWriter::Append
  // takes them) into every output.
  absl::Status Append(const Trace& chunk, const HostSliceRuns* runs = nullptr);
  // Encodes the rest, writes `rest.metadata()`, closes and renames every output into place.
  absl::Status Finish(const Trace& rest);

  const std::vector<Format>& formats() const { return formats_; }
  const std::string& first_path() const { return outputs_.front().final_path; }
  uint64_t events_written() const;

 private:
  struct Output {
    Format format;
    std::string final_path;
    std::string temp_path;
    std::unique_ptr<exporters::PerfettoStreamWriter> writer;
  };
  std::vector<Output> outputs_;
  std::vector<Format> formats_;
  bool finished_ = false;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_STREAMING_SINK_H_
