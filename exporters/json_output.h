// Internal: a buffered JSON text writer onto a file, for the Chrome JSON writer.
//
// Text accumulates in a large in-memory buffer that goes to the file descriptor in big
// chunks. The first failing write or close is remembered and reported by `Close()` with the
// path and the reason, so a full disk is an error, never a silently short file.

#ifndef SCOPETRACE_EXPORTERS_JSON_OUTPUT_H_
#define SCOPETRACE_EXPORTERS_JSON_OUTPUT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace scopetrace::exporters::json {

class JsonOutput {
 public:
  JsonOutput() = default;
  JsonOutput(const JsonOutput&) = delete;
  JsonOutput& operator=(const JsonOutput&) = delete;
  ~JsonOutput();  // closes the file if Close() was not called; errors are lost then

  // Creates (truncates) `path` for writing.
  absl::Status Open(const std::string& path);
  // Flushes and closes; the first error of any write, or of close itself.
  absl::Status Close();

  void Raw(std::string_view text) {
    buffer_.append(text);
    MaybeFlush();
  }
  void Char(char c) { buffer_.push_back(c); }
  void Int(int64_t value);
  void Uint(uint64_t value);
  // Shortest text that reads back to the same double, always with a '.' or exponent so
  // readers tell it from an integer. NaN is written as null (JSON has no NaN, and every
  // consumer accepts null); +-infinity as 1e999 / -1e999, which JavaScript and our reader
  // parse back to +-Infinity.
  void Double(double value);
  void Bool(bool value) { Raw(value ? "true" : "false"); }
  // Integer nanoseconds as exact decimal microseconds: 1234567891 -> 1234567.891.
  void Micros(int64_t ns);
  // `ns` (> 0) less `ps` picoseconds as exact decimal microseconds: (14248, 1) -> 14.247999
  // (see json_dur_nudges.h).
  void MicrosLessPicos(int64_t ns, uint16_t ps);
  // A quoted, escaped, UTF-8 sanitized string (see AppendJsonString).
  void String(std::string_view text);

 private:
  static constexpr size_t kFlushBytes = 4 << 20;
  void MaybeFlush() {
    if (buffer_.size() >= kFlushBytes) Flush();
  }
  void Flush();

  std::string path_;
  int fd_ = -1;
  std::string buffer_;
  absl::Status status_;
};

}  // namespace scopetrace::exporters::json

#endif  // SCOPETRACE_EXPORTERS_JSON_OUTPUT_H_
