#include "src/report/html_text.h"

#include <cmath>

#include "fmt/format.h"

namespace scopetrace::report_internal {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not valid
// (overlong forms, surrogates and values past U+10FFFF are invalid too).
size_t ValidSequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t length = 0;
  uint32_t code = 0;
  if ((c & 0xE0) == 0xC0) {
    length = 2;
    code = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    length = 3;
    code = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    length = 4;
    code = c & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMinForLength[length] || code > 0x10FFFF) return 0;
  if (code >= 0xD800 && code <= 0xDFFF) return 0;
  return length;
}

}  // namespace

void AppendEscaped(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size());
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default: {
        const size_t length = ValidSequenceLength(text, i);
        if (length == 0) {
          out += kReplacement;
          ++i;
          continue;
        }
        const auto u = static_cast<unsigned char>(c);
        if (length == 1 && (u < 0x20 || u == 0x7F) && c != '\t' && c != '\n') {
          ++i;  // control characters are parse errors in HTML; they carry nothing here
          continue;
        }
        out.append(text.substr(i, length));
        i += length;
        continue;
      }
    }
    ++i;
  }
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  AppendEscaped(out, text);
  return out;
}

size_t CodePoints(std::string_view text) {
  size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

std::string ShortenLabel(std::string_view text, size_t max_chars) {
  if (CodePoints(text) <= max_chars) return std::string(text);
  if (max_chars == 0) return "";
  // Keep max_chars - 1 code points, then the ellipsis; cut only at a sequence start.
  size_t kept = 0;
  size_t end = 0;
  while (end < text.size()) {
    if ((static_cast<unsigned char>(text[end]) & 0xC0) != 0x80) {
      if (kept == max_chars - 1) break;
      ++kept;
    }
    ++end;
  }
  return std::string(text.substr(0, end)) + "\xE2\x80\xA6";  // U+2026
}

std::string FormatCount(uint64_t count) {
  std::string digits = std::to_string(count);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += "\xE2\x80\xAF";  // narrow no-break space
    out += digits[i];
  }
  return out;
}

std::string FormatBytes(double bytes) {
  const double magnitude = std::abs(bytes);
  if (magnitude < 1024) return fmt::format("{:.0f} B", bytes);
  if (magnitude < 1024.0 * 1024) return fmt::format("{:.2f} KiB", bytes / 1024);
  if (magnitude < 1024.0 * 1024 * 1024) return fmt::format("{:.2f} MiB", bytes / (1024.0 * 1024));
  return fmt::format("{:.2f} GiB", bytes / (1024.0 * 1024 * 1024));
}

std::string FormatTick(double value, int decimals) {
  std::string text = fmt::format("{:.{}f}", value, decimals);
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  if (text == "-0") text = "0";
  return text;
}

}  // namespace scopetrace::report_internal
