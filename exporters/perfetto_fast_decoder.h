// Internal: the Perfetto reader's field iterator for the messages it decodes once per
// event (TracePacket, TrackEvent, DebugAnnotation).

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_FAST_DECODER_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_FAST_DECODER_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "exporters/proto_wire.h"

namespace scopetrace::exporters {

// wire::Decoder's contract (a field of an unexpected wire type reads as 0 / empty, and
// Next() returns false at the end or on malformed input, ok() telling them apart), for
// the per-event messages: multi-byte varints (timestamps, ids) are decoded without a
// bounds check per byte when the message has 10 bytes left, which is most of the time.
class FastDecoder {
 public:
  explicit FastDecoder(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool ok() const { return ok_; }

  bool Next(wire::Field& f) {
    if (p_ >= end_) return false;
    uint64_t key;
    if (!ReadVarint(key)) return Fail();
    f.number = static_cast<uint32_t>(key >> 3);
    f.type = static_cast<wire::WireType>(key & 7);
    if (f.number == 0) return Fail();
    f.value = 0;
    f.bytes = {};
    switch (f.type) {
      case wire::kVarint:
        return ReadVarint(f.value) || Fail();
      case wire::kFixed64:
        if (end_ - p_ < 8) return Fail();
        std::memcpy(&f.value, p_, 8);  // the wire is little-endian, so is the host
        p_ += 8;
        return true;
      case wire::kFixed32: {
        if (end_ - p_ < 4) return Fail();
        uint32_t v;
        std::memcpy(&v, p_, 4);
        f.value = v;
        p_ += 4;
        return true;
      }
      case wire::kLen: {
        uint64_t len;
        if (!ReadVarint(len)) return Fail();
        if (len > static_cast<uint64_t>(end_ - p_)) return Fail();
        f.bytes = std::string_view(reinterpret_cast<const char*>(p_), len);
        p_ += len;
        return true;
      }
      default:
        return Fail();
    }
  }

 private:
  bool ReadVarint(uint64_t& v) {
    if (p_ < end_ && *p_ < 0x80) {
      v = *p_++;
      return true;
    }
    if (end_ - p_ >= 10) {
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
      return false;
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

static_assert(std::endian::native == std::endian::little, "FastDecoder copies fixed64 as is");

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_FAST_DECODER_H_
