// Internal: exact conversions of JSON number text (the reader keeps numbers as text so
// timestamps never pass through a double).

#ifndef SCOPETRACE_EXPORTERS_JSON_NUMBER_H_
#define SCOPETRACE_EXPORTERS_JSON_NUMBER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace scopetrace::exporters::json {

// The number of ASCII digits at the start of [p, end). Inline and eight bytes at a time: the
// parser measures five numbers per event with it.
inline size_t DigitRun(const char* p, const char* end) {
  const char* s = p;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr uint64_t kHighNibbles = 0xF0F0F0F0F0F0F0F0;
  constexpr uint64_t kDigitNibble = 0x3030303030303030;
  while (end - s >= 8) {
    uint64_t w;
    std::memcpy(&w, s, sizeof(w));
    // A byte is a digit when its high nibble is 3 and stays 3 with 6 added. A carry out of
    // a byte (from 0xFA and up, not a digit) only disturbs the bytes after it.
    const uint64_t non_digit = ((w & kHighNibbles) ^ kDigitNibble) |
                               (((w + 0x0606060606060606) & kHighNibbles) ^ kDigitNibble);
    if (non_digit != 0) {
      return static_cast<size_t>(s - p) + static_cast<size_t>(__builtin_ctzll(non_digit) / 8);
    }
    s += 8;
  }
#endif
  while (s < end && static_cast<unsigned>(*s - '0') <= 9) ++s;
  return static_cast<size_t>(s - p);
}

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
