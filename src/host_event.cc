#include "src/host_event.h"

#include <cstring>

namespace scopetrace::internal {
namespace {

const Site* SiteOf(const Record& record) {
  return reinterpret_cast<const Site*>(record.site_and_tag & ~kTagMask);
}

uint64_t SlotsFor(uint64_t payload_bytes) {
  return (payload_bytes + sizeof(Record) - 1) / sizeof(Record);
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

size_t RingDecoder::Drain(ThreadRing& ring, std::vector<HostEvent>& out) {
  const uint64_t head = ring.AcquireHead();
  uint64_t index = ring.tail();
  const size_t before = out.size();
  while (index < head) {
    const Record& record = ring.At(index);
    const uintptr_t tag = record.site_and_tag & kTagMask;
    uint64_t consumed = 1;
    switch (tag) {
      case kTagComplete: {
        HostEvent& event = out.emplace_back();
        event.kind = HostEvent::Kind::kSlice;
        event.site = SiteOf(record);
        event.tid = tid_;
        event.begin = record.a;
        event.end = record.b;
        break;
      }
      case kTagOpen: {
        HostEvent& event = open_.emplace_back();
        event.kind = HostEvent::Kind::kSlice;
        event.site = SiteOf(record);
        event.tid = tid_;
        event.begin = record.a;
        DecodePayload(ring, index, record.b, event);
        consumed += SlotsFor(record.b);
        break;
      }
      case kTagClose: {
        if (!open_.empty()) {
          open_.back().end = record.a;
          out.push_back(std::move(open_.back()));
          open_.pop_back();
        }
        break;
      }
      case kTagInstant: {
        HostEvent& event = out.emplace_back();
        event.kind = HostEvent::Kind::kInstant;
        event.site = SiteOf(record);
        event.tid = tid_;
        event.begin = event.end = record.a;
        if (record.b > 0) {
          DecodePayload(ring, index, record.b, event);
          consumed += SlotsFor(record.b);
        }
        break;
      }
      case kTagCounterInt:
      case kTagCounterDouble: {
        HostEvent& event = out.emplace_back();
        event.kind = HostEvent::Kind::kCounter;
        event.site = SiteOf(record);
        event.tid = tid_;
        event.begin = event.end = record.a;
        if (tag == kTagCounterInt) {
          event.value = static_cast<double>(static_cast<int64_t>(record.b));
        } else {
          std::memcpy(&event.value, &record.b, sizeof(double));
        }
        break;
      }
      default:
        break;
    }
    index += consumed;
  }
  ring.ReleaseTail(index);
  return out.size() - before;
}

}  // namespace scopetrace::internal
