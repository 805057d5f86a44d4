// Text for the HTML report: escaping of everything that comes from a trace, label
// shortening that never cuts a UTF-8 sequence, and number formats shared by the charts.

#ifndef SCOPETRACE_SRC_REPORT_HTML_TEXT_H_
#define SCOPETRACE_SRC_REPORT_HTML_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace scopetrace::report_internal {

// `text` made safe for HTML text and for a quoted attribute value: & < > " ' become
// entities, control characters other than tab and newline are dropped, and invalid UTF-8
// becomes U+FFFD, so the page stays well-formed whatever bytes a trace name holds.
std::string EscapeHtml(std::string_view text);

// Appends EscapeHtml(text) to `out`.
void AppendEscaped(std::string& out, std::string_view text);

// At most `max_chars` code points of `text`; when shortened, ends with "…" (within the
// limit). Not escaped: pass the result through EscapeHtml.
std::string ShortenLabel(std::string_view text, size_t max_chars);

// Number of UTF-8 code points in `text` (bytes that do not continue a sequence).
size_t CodePoints(std::string_view text);

// "1 234 567": a count with thin groups, easy to read in a header.
std::string FormatCount(uint64_t count);

// "512 B", "1.50 KiB", "12.0 MiB", "1.25 GiB".
std::string FormatBytes(double bytes);

// A number for a tick label: at most `decimals` decimals, trailing zeros removed.
std::string FormatTick(double value, int decimals);

}  // namespace scopetrace::report_internal

#endif  // SCOPETRACE_SRC_REPORT_HTML_TEXT_H_
