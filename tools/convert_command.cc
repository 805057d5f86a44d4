// `scopetrace convert IN OUT` and `scopetrace merge IN... -o OUT`: trace files in, one
// trace file out, the output format chosen by OUT's extension.

#include <string>

#include "fmt/format.h"
#include "scopetrace/analysis.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace scopetrace::cli {
namespace {

constexpr std::string_view kConvertHelp = R"(usage: scopetrace convert IN OUT

Reads IN (.trace.json, .pftrace or .pftrace.zst, recognised by content) and writes OUT in
the format its extension names: .json -> Chrome trace JSON, .pftrace -> Perfetto
protobuf, .pftrace.zst / .zst -> Perfetto protobuf compressed with zstd.
)";

constexpr std::string_view kMergeHelp = R"(usage: scopetrace merge IN... -o OUT

Puts several traces (processes, ranks) on one timeline: every process keeps its own
tracks, and the inputs are aligned on the wall clock each recorded at capture (the first
input's timeline is kept). Colliding pids are renumbered, and correlation / flow ids kept
apart. OUT's extension picks the format, as for 'convert'.

options:
  -o OUT, --output OUT   the merged trace file
)";

constexpr OptionSpec kMergeOptions[] = {{"-o", true}, {"--output", true}};

// Writes `trace` to `path` in the format of its extension.
int WriteByExtension(std::string_view command, const Trace& trace, const std::string& path) {
  absl::StatusOr<Format> format = FormatFromPath(path);
  if (!format.ok()) return Fail(command, std::string(format.status().message()));
  if (absl::Status written = trace.Write(path, *format); !written.ok()) {
    const std::string message(written.message());
    return Fail(command, message.find(path) == std::string::npos
                             ? fmt::format("{}: {}", path, message)
                             : message);
  }
  fmt::print("wrote {} ({} events)\n", path, trace.event_count());
  return kExitOk;
}

}  // namespace

int RunConvertCommand(int argc, char** argv) {
  CommandLine cl;
  std::string error;
  if (!cl.Parse(argc, argv, {}, error)) return Fail("convert", error);
  if (cl.help()) {
    fmt::print("{}", kConvertHelp);
    return kExitOk;
  }
  if (cl.positional().size() != 2) return Fail("convert", "expects IN and OUT files (see --help)");
  // Check OUT's extension before reading a possibly large IN.
  if (absl::StatusOr<Format> format = FormatFromPath(cl.positional()[1]); !format.ok()) {
    return Fail("convert", std::string(format.status().message()));
  }
  std::optional<Trace> trace = LoadTrace("convert", cl.positional()[0]);
  if (!trace) return kExitBadInput;
  return WriteByExtension("convert", *trace, cl.positional()[1]);
}

int RunMergeCommand(int argc, char** argv) {
  CommandLine cl;
  std::string error;
  if (!cl.Parse(argc, argv, kMergeOptions, error)) return Fail("merge", error);
  if (cl.help()) {
    fmt::print("{}", kMergeHelp);
    return kExitOk;
  }
  std::optional<std::string> out = cl.value("-o");
  if (!out) out = cl.value("--output");
  if (!out) return Fail("merge", "missing -o OUT (see --help)");
  if (cl.positional().empty()) return Fail("merge", "expects at least one IN file (see --help)");
  if (absl::StatusOr<Format> format = FormatFromPath(*out); !format.ok()) {
    return Fail("merge", std::string(format.status().message()));
  }
  std::vector<Trace> traces;
  for (const std::string& path : cl.positional()) {
    std::optional<Trace> trace = LoadTrace("merge", path);
    if (!trace) return kExitBadInput;
    traces.push_back(std::move(*trace));
  }
  std::vector<const Trace*> inputs;
  for (const Trace& t : traces) inputs.push_back(&t);
  absl::StatusOr<Trace> merged = MergeTraces(inputs);
  if (!merged.ok()) return Fail("merge", std::string(merged.status().message()));
  return WriteByExtension("merge", *merged, *out);
}

}  // namespace scopetrace::cli
