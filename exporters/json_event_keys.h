// Internal: which trace-event member a JSON object key names (see EventKey in
// json_parser.h). The parser calls these once per member, some 150 M times for a
// 10 M-event file, so the common keys have a path that needs no string scan.

#ifndef SCOPETRACE_EXPORTERS_JSON_EVENT_KEYS_H_
#define SCOPETRACE_EXPORTERS_JSON_EVENT_KEYS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "exporters/json_parser.h"

namespace scopetrace::exporters::json {
namespace event_keys_internal {

// `text` as the first bytes of a little-endian word.
constexpr uint64_t Word(std::string_view text) {
  uint64_t word = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    word |= uint64_t{static_cast<unsigned char>(text[i])} << (8 * i);
  }
  return word;
}

// The common event keys by their first eight bytes, closing quote included, in a table
// indexed by a hash of the first two: one compare instead of a string scan and a lookup,
// and no branch on the key (its order varies from file to file).
struct CommonKey {
  uint64_t word = 0;  // the quoted key's bytes, zero above them
  int key = -1;
};

constexpr size_t CommonKeySlot(uint64_t word) { return ((word & 0xFFFF) * 27 >> 8) & 15; }

constexpr std::array<CommonKey, 16> MakeCommonKeys() {
  std::array<CommonKey, 16> table{};
  auto add = [&](std::string_view quoted, EventKey key) {
    const uint64_t word = Word(quoted);
    table[CommonKeySlot(word)] = CommonKey{.word = word, .key = static_cast<int>(key)};
  };
  add("ph\"", EventKey::kPh);
  add("pid\"", EventKey::kPid);
  add("ts\"", EventKey::kTs);
  add("tid\"", EventKey::kTid);
  add("name\"", EventKey::kName);
  add("cat\"", EventKey::kCat);
  add("dur\"", EventKey::kDur);
  add("args\"", EventKey::kArgs);
  add("id\"", EventKey::kId);
  return table;
}

constexpr std::array<CommonKey, 16> kCommonKeys = MakeCommonKeys();
// Two keys in one slot would hide one of them: the hash was chosen to keep all nine apart.
static_assert([] {
  int used = 0;
  for (const CommonKey& entry : kCommonKeys) used += entry.key >= 0 ? 1 : 0;
  return used == 9;
}());

}  // namespace event_keys_internal

// The slot of an event member, or -1 for a member the builder does not read.
int EventKeyIndex(std::string_view key);

// True where CommonEventKey may be used (it reads the key as a little-endian word).
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
inline constexpr bool kCommonEventKeys = true;
#else
inline constexpr bool kCommonEventKeys = false;
#endif

// For `p` just after a key's opening quote, with at least 8 readable bytes: the slot of the
// key when it is one of the keys every event has ("ph", "name", "ts", ...), with *length
// set to the bytes of its name and closing quote; -1 for any other key (or an escape), which
// the caller then reads in full. The same slot EventKeyIndex gives for the decoded key.
inline int CommonEventKey(const char* p, size_t* length) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHigh = 0x8080808080808080;
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  // The key's length comes from the word itself (its first '"' byte; the zero-byte test is
  // exact for the lowest one), not from the table: the parser's next loads then need not
  // wait for the table's.
  const uint64_t x = word ^ (kOnes * '"');
  const uint64_t quotes = (x - kOnes) & ~x & kHigh;
  if (quotes == 0) return -1;
  const int quote = __builtin_ctzll(quotes) / 8;
  // Bytes 0..quote. An empty slot (word 0) never matches: byte `quote` is '"'.
  const uint64_t mask = ~uint64_t{0} >> (56 - 8 * quote);
  const event_keys_internal::CommonKey& entry =
      event_keys_internal::kCommonKeys[event_keys_internal::CommonKeySlot(word)];
  if ((word & mask) != entry.word) return -1;
  *length = static_cast<size_t>(quote) + 1;
  return entry.key;
}

}  // namespace scopetrace::exporters::json

#endif  // SCOPETRACE_EXPORTERS_JSON_EVENT_KEYS_H_
