// Internal: JSON string literals that are valid UTF-8 whatever bytes the input holds.

#ifndef SCOPETRACE_EXPORTERS_JSON_STRING_H_
#define SCOPETRACE_EXPORTERS_JSON_STRING_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace scopetrace::exporters::json {

// Appends `text` to `out` as a quoted JSON string. `"`, `\` and control characters are
// escaped; every byte sequence that is not well-formed UTF-8 (stray continuation bytes,
// truncated or overlong sequences, surrogates, code points above U+10FFFF) becomes U+FFFD,
// one replacement per offending byte, so the result is always valid JSON and valid UTF-8.
void AppendJsonString(std::string_view text, std::string* out);

// Appends code point `cp` as UTF-8 (U+FFFD for surrogates and values above U+10FFFF).
void AppendUtf8(uint32_t cp, std::string* out);

// The length of the well-formed UTF-8 sequence at the start of `bytes`, or 0 if there is none.
size_t Utf8SequenceLength(std::string_view bytes);

}  // namespace scopetrace::exporters::json

#endif  // SCOPETRACE_EXPORTERS_JSON_STRING_H_
