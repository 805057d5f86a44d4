// Internal: a minimal protobuf wire-format encoder and decoder for the Perfetto writer and
// reader. Follows the proto2 wire rules of ../shared/perfetto-format.md (A.1): varints
// for integers (negative int64 as 10-byte two's complement, never zigzag), fixed64/double
// as 8 little-endian bytes, length-delimited strings and messages, and repeated scalars
// unpacked (callers write one tag per element).
//
// The encoder appends to a growable byte buffer without per-field bounds checks: callers
// reserve an upper bound for what they are about to write (`Reserve`), so the hot path is
// plain stores. The decoder never reads past its span and reports malformed input.

#ifndef SCOPETRACE_EXPORTERS_PROTO_WIRE_H_
#define SCOPETRACE_EXPORTERS_PROTO_WIRE_H_

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace scopetrace::exporters::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

constexpr uint32_t Tag(uint32_t field, WireType type) { return field << 3 | type; }

// Bytes a varint of `v` takes.
inline size_t VarintSize(uint64_t v) {
  // ceil(bits / 7) without a loop: (bits * 9 + 64) / 64 equals it for bits in 1..64.
  const int bits = 64 - std::countl_zero(v | 1);
  return static_cast<size_t>((bits * 9 + 64) / 64);
}

inline uint8_t* PutVarint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

inline uint8_t* PutFixed64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  return p + 8;
}

// A growable output buffer. Writes go through a raw cursor after `Reserve(n)` guarantees
// room for n more bytes.
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { std::free(data_); }

  size_t size() const { return static_cast<size_t>(end_ - data_); }
  // Exchanges the storage (contents and capacity) of two buffers: hands a filled buffer
  // to another thread without copying it (PerfettoOutput's background compression).
  void swap(Buffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(end_, other.end_);
    std::swap(cap_end_, other.cap_end_);
  }
  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() { return data_; }
  void clear() { end_ = data_; }
  void Reserve(size_t n) {
    if (static_cast<size_t>(cap_end_ - end_) < n) Grow(n);
  }

  // Raw access for fixed layouts: write at cursor() (within what Reserve guaranteed), then
  // Commit the new end.
  uint8_t* cursor() { return end_; }
  void Commit(uint8_t* new_end) { end_ = new_end; }

  void Byte(uint8_t b) { *end_++ = b; }
  void Varint(uint64_t v) { end_ = PutVarint(end_, v); }
  void Fixed64(uint64_t v) { end_ = PutFixed64(end_, v); }
  void Double(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, 8);
    Fixed64(bits);
  }
  void Bytes(std::string_view s) {
    std::memcpy(end_, s.data(), s.size());
    end_ += s.size();
  }
  // Tag + value helpers. `tag` is the full key (field << 3 | wire type).
  void VarintField(uint32_t tag, uint64_t v) {
    Varint(tag);
    Varint(v);
  }
  void Fixed64Field(uint32_t tag, uint64_t v) {
    Varint(tag);
    Fixed64(v);
  }
  void DoubleField(uint32_t tag, double v) {
    Varint(tag);
    Double(v);
  }
  void StringField(uint32_t tag, std::string_view s) {
    Varint(tag);
    Varint(s.size());
    Bytes(s);
  }

  // Length-delimited sub-messages whose size is not known up front: `BeginNested` writes
  // the tag and reserves one length byte; `EndNested` patches the length, moving the body
  // when it needs a longer varint (rare: bodies here are usually < 128 bytes). The
  // caller's Reserve must cover the 4 extra bytes a move may need.
  size_t BeginNested(uint32_t tag) {
    Varint(tag);
    ++end_;
    return size();
  }
  void EndNested(size_t body_start) {
    uint8_t* body = data_ + body_start;
    const size_t len = static_cast<size_t>(end_ - body);
    const size_t len_size = VarintSize(len);
    if (len_size > 1) {
      std::memmove(body + len_size - 1, body, len);
      end_ += len_size - 1;
    }
    PutVarint(body - 1, len);
  }

 private:
  void Grow(size_t n) {
    const size_t used = size();
    const size_t cap = static_cast<size_t>(cap_end_ - data_);
    size_t want = cap ? cap * 2 : 64 * 1024;
    while (want - used < n) want *= 2;
    auto* grown = static_cast<uint8_t*>(std::realloc(data_, want));
    if (grown == nullptr) std::abort();  // out of memory: nothing sensible to do
    data_ = grown;
    end_ = data_ + used;
    cap_end_ = data_ + want;
  }

  uint8_t* data_ = nullptr;
  uint8_t* end_ = nullptr;
  uint8_t* cap_end_ = nullptr;
};

// One decoded field. For kVarint/kFixed64/kFixed32 `value` holds the number; for kLen
// `bytes` holds the payload.
struct Field {
  uint32_t number = 0;
  WireType type = kVarint;
  uint64_t value = 0;
  std::string_view bytes;

  int64_t as_int64() const { return static_cast<int64_t>(value); }
  double as_double() const {
    double d;
    std::memcpy(&d, &value, 8);
    return d;
  }
};

// Iterates the fields of one message. `Next` returns false at the end or on malformed
// input; `ok()` tells the two apart.
class Decoder {
 public:
  explicit Decoder(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool ok() const { return ok_; }
  bool done() const { return p_ == end_; }

  bool Next(Field& f) {
    if (p_ >= end_) return false;
    uint64_t key;
    if (!ReadVarint(key)) return Fail();
    f.number = static_cast<uint32_t>(key >> 3);
    f.type = static_cast<WireType>(key & 7);
    if (f.number == 0) return Fail();
    // Reset both members so a field of an unexpected wire type reads as 0 / empty.
    f.value = 0;
    f.bytes = {};
    switch (f.type) {
      case kVarint:
        if (!ReadVarint(f.value)) return Fail();
        return true;
      case kFixed64:
        if (end_ - p_ < 8) return Fail();
        f.value = 0;
        for (int i = 0; i < 8; ++i) f.value |= static_cast<uint64_t>(p_[i]) << (8 * i);
        p_ += 8;
        return true;
      case kFixed32:
        if (end_ - p_ < 4) return Fail();
        f.value = 0;
        for (int i = 0; i < 4; ++i) f.value |= static_cast<uint64_t>(p_[i]) << (8 * i);
        p_ += 4;
        return true;
      case kLen: {
        uint64_t len;
        if (!ReadVarint(len)) return Fail();
        if (len > static_cast<uint64_t>(end_ - p_)) return Fail();
        f.bytes = std::string_view(reinterpret_cast<const char*>(p_), len);
        p_ += len;
        return true;
      }
      default:
        return Fail();  // groups (3, 4) are not used by any message we read
    }
  }

 private:
  bool ReadVarint(uint64_t& v) {
    if (p_ < end_ && *p_ < 0x80) {  // fast path: one byte
      v = *p_++;
      return true;
    }
    if (end_ - p_ >= 10) {  // a whole varint fits: no bounds check per byte
      uint64_t r = 0;
      for (int i = 0; i < 10; ++i) {
        const uint8_t b = p_[i];
        r |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
        if (b < 0x80) {
          p_ += i + 1;
          v = r;
          return true;
        }
      }
      return false;  // more than 10 bytes: malformed (every caller then fails)
    }
    v = 0;
    for (int shift = 0; shift < 70 && p_ < end_; shift += 7) {
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (b < 0x80) return true;
    }
    return false;
  }
  bool Fail() {
    ok_ = false;
    p_ = end_;
    return false;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
};

// Reads one varint from the front of `in`; returns bytes consumed, 0 if incomplete or
// malformed (more than 10 bytes).
inline size_t ReadVarintPrefix(const uint8_t* p, size_t n, uint64_t& v) {
  v = 0;
  for (size_t i = 0; i < n && i < 10; ++i) {
    v |= static_cast<uint64_t>(p[i] & 0x7F) << (7 * i);
    if (p[i] < 0x80) return i + 1;
  }
  return 0;
}

}  // namespace scopetrace::exporters::wire

#endif  // SCOPETRACE_EXPORTERS_PROTO_WIRE_H_
