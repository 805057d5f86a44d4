// Internal: exact conversions of JSON number text (the reader keeps numbers as text so
// timestamps never pass through a double).

#ifndef SCOPETRACE_EXPORTERS_JSON_NUMBER_H_
#define SCOPETRACE_EXPORTERS_JSON_NUMBER_H_

#include <cstdint>
#include <string_view>

namespace scopetrace::exporters::json {

// True when `text` is an integer: digits with an optional leading '-', no fraction, no exponent.
bool IsIntegerText(std::string_view text);

bool ParseInt64(std::string_view text, int64_t* out);
bool ParseUint64(std::string_view text, uint64_t* out);
// Any JSON number, also "NaN", "Infinity" and "-Infinity" (Python's json writes them);
// magnitudes beyond double's range become +-infinity, as in JavaScript.
bool ParseDouble(std::string_view text, double* out);
// Hex flow ids as Perfetto reads string ids: hex digits with an optional "0x".
bool ParseHexUint64(std::string_view text, uint64_t* out);

// A decimal number of microseconds ("1234567.891", "12", "1.5e3", "-0.25") to integer
// nanoseconds, computed on the decimal digits: no double rounding. Digits below a
// nanosecond round half away from zero. False for malformed text or int64 overflow.
bool ParseMicrosAsNs(std::string_view text, int64_t* ns);

}  // namespace scopetrace::exporters::json

#endif  // SCOPETRACE_EXPORTERS_JSON_NUMBER_H_
