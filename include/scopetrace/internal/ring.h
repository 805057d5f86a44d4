// scopetrace/internal/ring.h: not part of the API; included by instrument.h so the hot
// path inlines. Users never name anything here.
//
// One `ThreadRing` per instrumented thread: a single-producer (the thread) single-consumer
// (the collector) ring of 24-byte records. The producer never blocks, never allocates and
// makes no system call: when the ring is full it counts a drop and returns.
//
// Record kinds (tag in the low 3 bits of `site_and_tag`; sites are 8-byte aligned):
//   kComplete  a scope without payload:   a = begin ticks, b = end ticks
//   kOpen      a scope with payload:      a = begin ticks, b = payload bytes; the payload
//              (args, dynamic name) follows in ceil(b / 24) slots
//   kClose     closes the innermost kOpen: a = end ticks
//   kInstant   a point event:             a = ticks, b = payload bytes (payload follows)
//   kCounterI  a = ticks, b = int64 value
//   kCounterD  a = ticks, b = double bits
// A kOpen reserves one slot for its kClose, so a close is never dropped and the
// collector can always pair them.

#ifndef SCOPETRACE_INTERNAL_RING_H_
#define SCOPETRACE_INTERNAL_RING_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace scopetrace::internal {

enum class SiteKind : uint8_t { kScope, kInstant, kCounter, kDynamicScope, kDynamicInstant };

// One per macro call site, in static storage; its address is the event's identity and
// its strings are interned by the collector, off the hot path.
struct alignas(8) Site {
  const char* name;  // nullptr for dynamic names (carried in the payload)
  const char* category;
  SiteKind kind;
  // 0 or 1: every event is kept. N > 1: each thread keeps 1 in N of this site's events
  // (set by the overhead budget policy, OverheadPolicy::kSampleHottest). Mutable so a site
  // can stay a `constexpr` object; the compiler then keeps it in writable memory.
  mutable std::atomic<uint32_t> sample_every{0};
};
static_assert(sizeof(Site) == 24, "the sampling switch fits in the site's padding");

enum RecordTag : uintptr_t {
  kTagComplete = 0,
  kTagOpen = 1,
  kTagClose = 2,
  kTagInstant = 3,
  kTagCounterInt = 4,
  kTagCounterDouble = 5,
};
constexpr uintptr_t kTagMask = 7;

struct Record {
  uint64_t a;
  uint64_t b;
  uintptr_t site_and_tag;
};
static_assert(sizeof(Record) == 24);

// Payload encoding, a byte stream over whole slots following kOpen / kInstant:
//   [u8 kPayloadName][u32 length][bytes]                  dynamic name (first, if any)
//   [u8 type][const char* key][8-byte value]              int64 / double / bool arg
//   [u8 kPayloadString][const char* key][u32 length][bytes]  string arg
enum PayloadType : uint8_t {
  kPayloadName = 1,
  kPayloadInt = 2,
  kPayloadDouble = 3,
  kPayloadBool = 4,
  kPayloadString = 5,
  kPayloadUint = 6,
};

class ThreadRing {
 public:
  // `capacity` must be a power of two.
  ThreadRing(Record* slots, uint64_t capacity) : slots_(slots), capacity_(capacity) {}

  // --- Producer (the owning thread) ---
  bool PushComplete(uint64_t begin, uint64_t end, const Site* site) {
    if (!HasRoom(1)) return Drop();
    Record& r = slots_[head_ & (capacity_ - 1)];
    r.a = begin;
    r.b = end;
    r.site_and_tag = reinterpret_cast<uintptr_t>(site) | kTagComplete;
    Publish(1);
    return true;
  }

  bool PushValue(uintptr_t tag, uint64_t ts, uint64_t value, const Site* site) {
    if (!HasRoom(1)) return Drop();
    Record& r = slots_[head_ & (capacity_ - 1)];
    r.a = ts;
    r.b = value;
    r.site_and_tag = reinterpret_cast<uintptr_t>(site) | tag;
    Publish(1);
    return true;
  }

  // Begins a record with `payload_bytes` of payload written by WritePayload before
  // FinishWithPayload. For kTagOpen, one further slot is reserved for the close.
  bool BeginWithPayload(uintptr_t tag, uint64_t ts, const Site* site, size_t payload_bytes) {
    const uint64_t slots = 1 + (payload_bytes + sizeof(Record) - 1) / sizeof(Record);
    const uint64_t extra = tag == kTagOpen ? 1 : 0;
    if (!HasRoom(slots + extra)) return Drop();
    Record& r = slots_[head_ & (capacity_ - 1)];
    r.a = ts;
    r.b = payload_bytes;
    r.site_and_tag = reinterpret_cast<uintptr_t>(site) | tag;
    pending_slots_ = slots;
    write_offset_ = 0;
    reserved_ += extra;
    return true;
  }
  void WritePayload(const void* data, size_t size) {
    const size_t ring_bytes = capacity_ * sizeof(Record);
    size_t pos = ((head_ + 1) * sizeof(Record) + write_offset_) % ring_bytes;
    auto* base = reinterpret_cast<unsigned char*>(slots_);
    const size_t first = size < ring_bytes - pos ? size : ring_bytes - pos;
    std::memcpy(base + pos, data, first);
    if (first < size)
      std::memcpy(base, static_cast<const unsigned char*>(data) + first, size - first);
    write_offset_ += size;
  }
  void FinishWithPayload() { Publish(pending_slots_); }

  // Closes the innermost open scope; its slot was reserved by BeginWithPayload.
  void PushClose(uint64_t end) {
    --reserved_;
    Record& r = slots_[head_ & (capacity_ - 1)];
    r.a = end;
    r.b = 0;
    r.site_and_tag = kTagClose;
    Publish(1);
  }

  // --- Consumer (the collector) ---
  uint64_t AcquireHead() const { return published_head_.load(std::memory_order_acquire); }
  uint64_t tail() const { return tail_.load(std::memory_order_relaxed); }
  void ReleaseTail(uint64_t tail) { tail_.store(tail, std::memory_order_release); }
  const Record& At(uint64_t index) const { return slots_[index & (capacity_ - 1)]; }
  // Copies `size` payload bytes starting `offset` bytes after record `index`.
  void ReadPayload(uint64_t index, size_t offset, void* out, size_t size) const {
    const size_t ring_bytes = capacity_ * sizeof(Record);
    size_t pos = (((index + 1) & (capacity_ - 1)) * sizeof(Record) + offset) % ring_bytes;
    const auto* base = reinterpret_cast<const unsigned char*>(slots_);
    const size_t first = size < ring_bytes - pos ? size : ring_bytes - pos;
    std::memcpy(out, base + pos, first);
    if (first < size) std::memcpy(static_cast<unsigned char*>(out) + first, base, size - first);
  }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t capacity() const { return capacity_; }

 private:
  bool HasRoom(uint64_t slots) {
    const uint64_t limit = capacity_ - reserved_;
    if (head_ + slots - cached_tail_ <= limit) return true;
    cached_tail_ = tail_.load(std::memory_order_acquire);
    return head_ + slots - cached_tail_ <= limit;
  }
  bool Drop() {
    // Only the producer writes the count: a plain load + store, no read-modify-write.
    dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return false;
  }
  void Publish(uint64_t slots) {
    head_ += slots;
    published_head_.store(head_, std::memory_order_release);
  }

  Record* const slots_;
  const uint64_t capacity_;
  // Producer-only state.
  uint64_t head_ = 0;
  uint64_t cached_tail_ = 0;
  uint64_t reserved_ = 0;
  uint64_t pending_slots_ = 0;
  size_t write_offset_ = 0;
  std::atomic<uint64_t> published_head_{0};
  std::atomic<uint64_t> dropped_{0};
  // Consumer-written; on its own cache line so the producer's stores do not bounce it.
  alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_INTERNAL_RING_H_
