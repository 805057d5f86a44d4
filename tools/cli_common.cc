#include "tools/cli_common.h"

#include <algorithm>
#include <cstdio>

#include "fmt/format.h"
#include "tools/commands.h"

namespace scopetrace::cli {
namespace {

// Keeps an error to one line whatever the message holds.
std::string OneLine(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\r', ' ');
  return out;
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (unsigned char c : text) width += (c & 0xC0) != 0x80;  // count code point starts
  return width;
}

}  // namespace

bool CommandLine::Parse(int argc, char** argv, std::span<const OptionSpec> options,
                        std::string& error) {
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      positional_.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const auto spec = std::find_if(options.begin(), options.end(),
                                   [&](const OptionSpec& o) { return o.name == name; });
    if (spec == options.end()) {
      error = fmt::format("unknown option '{}' (see --help)", name);
      return false;
    }
    std::string value;
    if (spec->takes_value) {
      if (eq != std::string_view::npos) {
        value = std::string(arg.substr(eq + 1));
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        error = fmt::format("option '{}' needs a value", name);
        return false;
      }
    } else if (eq != std::string_view::npos) {
      error = fmt::format("option '{}' takes no value", name);
      return false;
    }
    options_.emplace_back(std::string(name), std::move(value));
  }
  return true;
}

bool CommandLine::has(std::string_view name) const {
  return std::any_of(options_.begin(), options_.end(),
                     [&](const auto& option) { return option.first == name; });
}

std::optional<std::string> CommandLine::value(std::string_view name) const {
  std::optional<std::string> found;  // the last one given wins
  for (const auto& [key, value] : options_) {
    if (key == name) found = value;
  }
  return found;
}

int Fail(std::string_view command, std::string_view message) {
  fmt::print(stderr, "scopetrace {}: {}\n", command, OneLine(message));
  return kExitBadInput;
}

std::optional<Trace> LoadTrace(std::string_view command, const std::string& path) {
  absl::StatusOr<Trace> trace = ReadTrace(path);
  if (!trace.ok()) {
    std::string message(trace.status().message());
    // Readers name the file; make sure of it so the one line is always actionable.
    if (message.find(path) == std::string::npos) message = fmt::format("{}: {}", path, message);
    Fail(command, message);
    return std::nullopt;
  }
  if (trace->metadata().truncated) {
    fmt::print(stderr, "scopetrace {}: warning: {}: file is cut short, read up to the cut: {}\n",
               command, path, OneLine(trace->metadata().truncation_reason));
  }
  return std::move(*trace);
}

void Table::AddColumn(std::string header, Align align) {
  headers_.push_back(std::move(header));
  aligns_.push_back(align);
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void Table::Print(int indent) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) {
    widths[c] = DisplayWidth(headers_[c]);
    for (const auto& row : rows_) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line(static_cast<size_t>(indent), ' ');
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(widths[c] - DisplayWidth(cells[c]), ' ');
      if (c > 0) line += "  ";
      line += aligns_[c] == Align::kLeft ? cells[c] + (c + 1 < cells.size() ? pad : "")
                                         : pad + cells[c];
    }
    fmt::print("{}\n", line);
  };
  print_row(headers_);
  size_t total = 0;
  for (size_t w : widths) total += w;
  total += 2 * (widths.empty() ? 0 : widths.size() - 1);
  fmt::print("{}{}\n", std::string(static_cast<size_t>(indent), ' '), std::string(total, '-'));
  for (const auto& row : rows_) print_row(row);
}

std::string FormatPercent(double percent) { return fmt::format("{:.1f} %", percent); }

std::string FormatDelta(double percent) { return fmt::format("{:+.1f} %", percent); }

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace scopetrace::cli
