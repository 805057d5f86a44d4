// Internal: one host event decoded from a thread's ring, still in ticks, before it is
// known which cycle (if any) it belongs to.

#ifndef SCOPETRACE_SRC_HOST_EVENT_H_
#define SCOPETRACE_SRC_HOST_EVENT_H_

#include <cstdint>
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
  // Consumes every published record of `ring`, appending finished events to `out`.
  // Returns the number of events appended.
  size_t Drain(ThreadRing& ring, std::vector<HostEvent>& out);
  size_t open_scopes() const { return open_.size(); }

 private:
  void DecodePayload(const ThreadRing& ring, uint64_t index, size_t bytes, HostEvent& event);

  int64_t tid_;
  std::vector<HostEvent> open_;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_HOST_EVENT_H_
