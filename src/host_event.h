// Internal: one host event decoded from a thread's ring, still in ticks, before it is
// known which cycle (if any) it belongs to.

#ifndef SCOPETRACE_SRC_HOST_EVENT_H_
#define SCOPETRACE_SRC_HOST_EVENT_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "scopetrace/internal/ring.h"
#include "scopetrace/trace.h"

namespace scopetrace::internal {

struct HostEvent {
  enum class Kind : uint8_t { kSlice, kInstant, kCounter };
  Kind kind = Kind::kSlice;
  const Site* site = nullptr;
  int64_t tid = 0;
  uint64_t begin = 0;  // ticks; instants and counters: their time
  uint64_t end = 0;
  double value = 0;  // counters
  uint64_t correlation_id = 0;
  std::string dynamic_name;  // set when site->name is null
  std::vector<std::pair<const char*, ArgValue>> args;
};

// Decodes the records of one thread's ring. Keeps the thread's open scopes (kOpen
// records whose kClose has not arrived yet) across drains.
class RingDecoder {
 public:
  explicit RingDecoder(int64_t tid) : tid_(tid) {}

  // Consumes the records of `ring` published before `head` (a value of AcquireHead()), or
  // only until `max_events` events were visited (the rest stays in the ring for the next
  // call). The common record, a scope with a static name and no payload, goes to
  // `visitor.Complete(site, begin_ticks, end_ticks)` without materializing a HostEvent
  // (that path carries most events, so it stays allocation-free); every other event to
  // `visitor.Event(HostEvent&)`, which may move from it. Returns the events visited.
  template <typename Visitor>
  size_t DrainUpTo(ThreadRing& ring, uint64_t head, Visitor& visitor, size_t max_events = SIZE_MAX);

  // Consumes every published record, appending the events to `out` (tests, tools).
  size_t Drain(ThreadRing& ring, std::vector<HostEvent>& out);
  size_t open_scopes() const { return open_.size(); }
  int64_t tid() const { return tid_; }

 private:
  // Decodes one non-Complete record at `index` into an event handed to `visitor` (or onto
  // the open-scope stack); returns the slots it used.
  template <typename Visitor>
  uint64_t DecodeOther(const ThreadRing& ring, uint64_t index, uintptr_t tag, Visitor& visitor);
  void DecodePayload(const ThreadRing& ring, uint64_t index, size_t bytes, HostEvent& event);
  HostEvent MakeEvent(HostEvent::Kind kind, const Record& record) const;

  int64_t tid_;
  std::vector<HostEvent> open_;
};

template <typename Visitor>
size_t RingDecoder::DrainUpTo(ThreadRing& ring, uint64_t head, Visitor& visitor,
                              size_t max_events) {
  uint64_t index = ring.tail();
  size_t events = 0;
  while (index < head && events < max_events) {
    const Record& record = ring.At(index);
    const uintptr_t tag = record.site_and_tag & kTagMask;
    if (tag == kTagComplete) {
      visitor.Complete(reinterpret_cast<const Site*>(record.site_and_tag & ~kTagMask), record.a,
                       record.b);
      ++events;
      ++index;
      continue;
    }
    const size_t before_open = open_.size();
    index += DecodeOther(ring, index, tag, visitor);
    const bool produced_event = tag == kTagInstant || tag == kTagCounterInt ||
                                tag == kTagCounterDouble || (tag == kTagClose && before_open > 0);
    events += produced_event ? 1 : 0;
  }
  ring.ReleaseTail(index);
  return events;
}

template <typename Visitor>
uint64_t RingDecoder::DecodeOther(const ThreadRing& ring, uint64_t index, uintptr_t tag,
                                  Visitor& visitor) {
  const Record& record = ring.At(index);
  const uint64_t payload_slots = (record.b + sizeof(Record) - 1) / sizeof(Record);
  switch (tag) {
    case kTagOpen: {
      HostEvent& event = open_.emplace_back(MakeEvent(HostEvent::Kind::kSlice, record));
      DecodePayload(ring, index, record.b, event);
      return 1 + payload_slots;
    }
    case kTagClose:
      if (!open_.empty()) {
        HostEvent event = std::move(open_.back());
        open_.pop_back();
        event.end = record.a;
        visitor.Event(event);
      }
      return 1;
    case kTagInstant: {
      HostEvent event = MakeEvent(HostEvent::Kind::kInstant, record);
      if (record.b == 0) {
        visitor.Event(event);
        return 1;
      }
      DecodePayload(ring, index, record.b, event);
      visitor.Event(event);
      return 1 + payload_slots;
    }
    case kTagCounterInt:
    case kTagCounterDouble: {
      HostEvent event = MakeEvent(HostEvent::Kind::kCounter, record);
      if (tag == kTagCounterInt) {
        event.value = static_cast<double>(static_cast<int64_t>(record.b));
      } else {
        std::memcpy(&event.value, &record.b, sizeof(double));
      }
      visitor.Event(event);
      return 1;
    }
    default:
      return 1;
  }
}

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_HOST_EVENT_H_
