// scopetrace/format.h
//
// The trace file formats scopetrace writes and reads. Formats combine as flags so a
// profiler can write several at once:
//
//   options.formats = scopetrace::Format::kChromeJson | scopetrace::Format::kPerfettoZstd;

#ifndef SCOPETRACE_FORMAT_H_
#define SCOPETRACE_FORMAT_H_

#include <cstdint>
#include <string_view>

namespace scopetrace {

enum class Format : uint32_t {
  kNone = 0,
  kChromeJson = 1u << 0,    // <name>.trace.json: Chrome trace event format
  kPerfetto = 1u << 1,      // <name>.pftrace: Perfetto TracePacket stream
  kPerfettoZstd = 1u << 2,  // <name>.pftrace.zst: the same, one zstd stream
};

constexpr Format operator|(Format a, Format b) {
  return static_cast<Format>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b));
}
constexpr Format operator&(Format a, Format b) {
  return static_cast<Format>(static_cast<uint32_t>(a) & static_cast<uint32_t>(b));
}
// True when `set` includes every flag of `format`.
constexpr bool HasFormat(Format set, Format format) {
  return format != Format::kNone && (set & format) == format;
}

// The file name extension of one format: ".trace.json", ".pftrace", ".pftrace.zst".
std::string_view FormatExtension(Format format);

}  // namespace scopetrace

#endif  // SCOPETRACE_FORMAT_H_
