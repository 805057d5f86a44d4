// Shared pieces of the `scopetrace` subcommands: a small argument parser whose errors fit
// on one line, trace loading with one-line errors, and terminal tables.

#ifndef SCOPETRACE_TOOLS_CLI_COMMON_H_
#define SCOPETRACE_TOOLS_CLI_COMMON_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scopetrace/trace.h"

namespace scopetrace::cli {

// An option a command accepts: "--top" (takes_value) or "--csv".
struct OptionSpec {
  std::string_view name;
  bool takes_value = false;
};

// The parsed command line of one subcommand.
class CommandLine {
 public:
  // Parses argv[1..argc) against `options`; "--name=value" and "--name value" both work,
  // "--" ends the options. Returns false with `error` set (one line) on a mistake.
  bool Parse(int argc, char** argv, std::span<const OptionSpec> options, std::string& error);
  bool help() const { return help_; }
  bool has(std::string_view name) const;
  std::optional<std::string> value(std::string_view name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  bool help_ = false;
  std::vector<std::pair<std::string, std::string>> options_;
  std::vector<std::string> positional_;
};

// Prints "scopetrace <command>: <message>" as one line on stderr; returns kExitBadInput.
int Fail(std::string_view command, std::string_view message);

// Reads `path`; on failure prints the reader's error (which names the file) and returns
// nullopt. Warns on stderr when the file was cut short.
std::optional<Trace> LoadTrace(std::string_view command, const std::string& path);

// A table printed with aligned columns (widths in UTF-8 code points, so "µs" counts once).
class Table {
 public:
  enum class Align { kLeft, kRight };
  void AddColumn(std::string header, Align align);
  void AddRow(std::vector<std::string> cells);
  // Prints the header, a rule and the rows, `indent` spaces in.
  void Print(int indent = 0) const;

 private:
  std::vector<std::string> headers_;
  std::vector<Align> aligns_;
  std::vector<std::vector<std::string>> rows_;
};

// "12.3 %" with one decimal.
std::string FormatPercent(double percent);
// "+10.0 %" / "-3.2 %".
std::string FormatDelta(double percent);
// Text for a CSV field (quoted when needed) and a JSON string literal (with quotes).
std::string CsvField(std::string_view text);
std::string JsonString(std::string_view text);

}  // namespace scopetrace::cli

#endif  // SCOPETRACE_TOOLS_CLI_COMMON_H_
