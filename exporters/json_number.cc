#include "exporters/json_number.h"

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace scopetrace::exporters::json {

bool IsIntegerText(std::string_view text) {
  size_t i = !text.empty() && text[0] == '-' ? 1 : 0;
  if (i >= text.size()) return false;
  for (; i < text.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

namespace {

// Up to 18 decimal digits, which cannot overflow: pids, tids, ids and timestamps in the
// files people have. False for anything else (the callers then take the general path).
bool ParseShortDigits(std::string_view digits, int64_t* out) {
  if (digits.empty() || digits.size() > 18) return false;
  int64_t value = 0;
  for (const char c : digits) {
    const auto d = static_cast<unsigned>(c - '0');
    if (d > 9) return false;
    value = value * 10 + d;
  }
  *out = value;
  return true;
}

// The value of the eight ASCII digits at `p`, all at once: pairs, then fours, then the
// eight, each a multiply-add across the lanes of one word (little-endian only).
uint64_t EightDigits(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  v -= 0x3030303030303030;
  v = v * 10 + (v >> 8);  // even bytes: two-digit values
  constexpr uint64_t kPairs = 0x000000FF000000FF;
  constexpr uint64_t kHigh = 100 + (uint64_t{1000000} << 32);
  constexpr uint64_t kLow = 1 + (uint64_t{10000} << 32);
  return ((v & kPairs) * kHigh + ((v >> 16) & kPairs) * kLow) >> 32;
}

}  // namespace

bool ParseInt64(std::string_view text, int64_t* out) {
  const bool negative = !text.empty() && text[0] == '-';
  if (int64_t v = 0; ParseShortDigits(text.substr(negative ? 1 : 0), &v)) {
    *out = negative ? -v : v;
    return true;
  }
  return IsIntegerText(text) && absl::SimpleAtoi(absl::string_view(text.data(), text.size()), out);
}

bool ParseUint64(std::string_view text, uint64_t* out) {
  if (int64_t v = 0; ParseShortDigits(text, &v)) {
    *out = static_cast<uint64_t>(v);
    return true;
  }
  return IsIntegerText(text) && text[0] != '-' &&
         absl::SimpleAtoi(absl::string_view(text.data(), text.size()), out);
}

bool ParseDouble(std::string_view text, double* out) {
  if (text == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (text == "Infinity" || text == "-Infinity") {
    *out = text[0] == '-' ? -std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::infinity();
    return true;
  }
  if (absl::SimpleAtod(absl::string_view(text.data(), text.size()), out)) return true;
  // SimpleAtod refuses out-of-range magnitudes; JavaScript reads 1e999 as Infinity and the
  // writer relies on that to carry infinities, so do the same (tiny values become 0).
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end == copy.c_str() || *end != '\0') return false;
  *out = value;
  return true;
}

bool ParseHexUint64(std::string_view text, uint64_t* out) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  if (text.empty() || text.size() > 16) return false;
  uint64_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  *out = value;
  return true;
}

bool ParseMicrosAsNs(std::string_view text, int64_t* ns) {
  // The common spelling, "-?digits[.ddd]" with at most 15 integer digits, is exact in int64
  // arithmetic, and so is ".dddddd" (our writer's durations a few picoseconds short, see
  // json_dur_nudges.h), rounded half away from zero like the general path; everything else
  // (more fraction digits, exponents) takes the general path.
  // One pass: every event has a timestamp, most a duration.
  {
    auto digit = [](char c) { return static_cast<unsigned>(c - '0') <= 9; };
    const char* p = text.data();
    const char* const end = p + text.size();
    const bool negative = p != end && *p == '-';
    if (negative) ++p;
    const char* const whole = p;
    int64_t us = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    // Timestamps of long traces have eight or more integer digits.
    if (end - p >= 8 && DigitRun(p, p + 8) == 8) {
      us = static_cast<int64_t>(EightDigits(p));
      p += 8;
    }
#endif
    while (p != end && p - whole < 16 && digit(*p)) us = us * 10 + (*p++ - '0');
    const ptrdiff_t whole_len = p - whole;
    bool simple = false;
    int64_t sub = 0;
    if (whole_len >= 1 && whole_len <= 15) {
      if (p == end) {
        simple = true;
      } else if (*p == '.') {
        const char* const frac = ++p;
        while (p != end && p - frac < 7 && digit(*p)) sub = sub * 10 + (*p++ - '0');
        const ptrdiff_t frac_len = p - frac;
        if (p == end && frac_len <= 3) {
          for (ptrdiff_t k = frac_len; k < 3; ++k) sub *= 10;
          simple = true;
        } else if (p == end && frac_len <= 6) {
          for (ptrdiff_t k = frac_len; k < 6; ++k) sub *= 10;  // picoseconds
          sub = sub / 1000 + (sub % 1000 >= 500 ? 1 : 0);
          simple = true;
        }
      }
    }
    if (simple) {
      *ns = negative ? -(us * 1000 + sub) : us * 1000 + sub;
      return true;
    }
  }
  size_t i = 0;
  const bool negative = i < text.size() && text[i] == '-';
  if (negative) ++i;
  // The value is `digits` x 10^exponent; leading zeros are dropped as they carry nothing.
  std::string digits;
  int64_t exponent = 0;
  bool any_digit = false;
  for (; i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i])); ++i) {
    any_digit = true;
    if (!digits.empty() || text[i] != '0') digits.push_back(text[i]);
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i])); ++i) {
      any_digit = true;
      if (!digits.empty() || text[i] != '0') digits.push_back(text[i]);
      --exponent;
    }
  }
  if (!any_digit) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    int64_t e = 0;
    bool exp_digit = false;
    for (; i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i])); ++i) {
      exp_digit = true;
      if (e < 100000) e = e * 10 + (text[i] - '0');
    }
    if (!exp_digit) return false;
    exponent += exp_negative ? -e : e;
  }
  if (i != text.size()) return false;
  exponent += 3;  // microseconds to nanoseconds
  if (digits.empty()) {
    *ns = 0;
    return true;
  }
  // Integer digits of the nanosecond value and the first digit after them, for rounding.
  const int64_t int_len = static_cast<int64_t>(digits.size()) + exponent;
  if (int_len > 19) return false;
  unsigned __int128 value = 0;
  for (int64_t k = 0; k < int_len; ++k) {
    const char d = k < static_cast<int64_t>(digits.size()) ? digits[k] : '0';
    value = value * 10 + static_cast<unsigned>(d - '0');
  }
  const int64_t round_pos = int_len;
  if (round_pos >= 0 && round_pos < static_cast<int64_t>(digits.size()) &&
      digits[round_pos] >= '5') {
    value += 1;
  }
  const unsigned __int128 limit =
      static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
  if (value > limit) return false;
  *ns = negative ? static_cast<int64_t>(0 - static_cast<uint64_t>(value))
                 : static_cast<int64_t>(value);
  return true;
}

}  // namespace scopetrace::exporters::json
