#include "src/host_event.h"

#include <cstring>

namespace scopetrace::internal {
namespace {

const Site* SiteOf(const Record& record) {
  return reinterpret_cast<const Site*>(record.site_and_tag & ~kTagMask);
}

}  // namespace

void RingDecoder::DecodePayload(const ThreadRing& ring, uint64_t index, size_t bytes,
                                HostEvent& event) {
  size_t offset = 0;
  auto read = [&](void* out, size_t size) {
    ring.ReadPayload(index, offset, out, size);
    offset += size;
  };
  while (offset < bytes) {
    uint8_t type = 0;
    read(&type, 1);
    if (type == kPayloadName) {
      uint32_t size = 0;
      read(&size, sizeof(size));
      event.dynamic_name.resize(size);
      read(event.dynamic_name.data(), size);
      continue;
    }
    const char* key = nullptr;
    read(&key, sizeof(key));
    if (type == kPayloadString) {
      uint32_t size = 0;
      read(&size, sizeof(size));
      std::string text(size, '\0');
      read(text.data(), size);
      event.args.emplace_back(key, std::move(text));
      continue;
    }
    uint64_t bits = 0;
    read(&bits, sizeof(bits));
    switch (type) {
      case kPayloadInt:
        event.args.emplace_back(key, static_cast<int64_t>(bits));
        break;
      case kPayloadUint:
        // The launch correlation id is not an arg but the link between host and device.
        if (std::strcmp(key, "correlation_id") == 0) {
          event.correlation_id = bits;
        } else {
          event.args.emplace_back(key, static_cast<int64_t>(bits));
        }
        break;
      case kPayloadDouble: {
        double d;
        std::memcpy(&d, &bits, sizeof(d));
        event.args.emplace_back(key, d);
        break;
      }
      case kPayloadBool:
        event.args.emplace_back(key, bits != 0);
        break;
      default:
        return;  // unknown type: cannot be produced by this build; stop decoding safely
    }
  }
}

HostEvent RingDecoder::MakeEvent(HostEvent::Kind kind, const Record& record) const {
  HostEvent event;
  event.kind = kind;
  event.site = SiteOf(record);
  event.tid = tid_;
  event.begin = event.end = record.a;
  return event;
}

size_t RingDecoder::Drain(ThreadRing& ring, std::vector<HostEvent>& out) {
  struct Appender {
    RingDecoder& decoder;
    std::vector<HostEvent>& out;
    void Complete(const Site* site, uint64_t begin, uint64_t end) {
      HostEvent& event = out.emplace_back();
      event.kind = HostEvent::Kind::kSlice;
      event.site = site;
      event.tid = decoder.tid_;
      event.begin = begin;
      event.end = end;
    }
    void Event(HostEvent& event) { out.push_back(std::move(event)); }
  } appender{*this, out};
  return DrainUpTo(ring, ring.AcquireHead(), appender);
}

}  // namespace scopetrace::internal
