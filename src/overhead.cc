#include "src/overhead.h"

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "scopetrace/instrument.h"

namespace scopetrace::internal {
namespace {

constexpr int kIterations = 4096;
constexpr int kRounds = 7;
// A private ring: large enough that calibration never hits the full-ring path, which
// costs less than a real push and would flatter the estimate.
constexpr uint64_t kRingRecords = 1 << 16;

constexpr Site kScopeSite{"calibration", "host", SiteKind::kScope};
constexpr Site kCounterSite{"calibration", "counter", SiteKind::kCounter};

template <typename Body>
double MedianNsPerIteration(ThreadRing*& ring, std::unique_ptr<Record[]>& storage, Body body) {
  std::array<double, kRounds> rounds{};
  for (double& round : rounds) {
    // A fresh ring each round: the producer's view of the consumer never moves.
    ring = new (ring) ThreadRing(storage.get(), kRingRecords);
    const uint64_t begin = MonotonicNs();
    for (int i = 0; i < kIterations; ++i) body(ring, i);
    round = static_cast<double>(MonotonicNs() - begin) / kIterations;
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[kRounds / 2];
}

}  // namespace

OverheadCosts CalibrateOverhead() {
  auto storage = std::make_unique<Record[]>(kRingRecords);
  alignas(ThreadRing) unsigned char ring_memory[sizeof(ThreadRing)];
  ThreadRing* ring = new (ring_memory) ThreadRing(storage.get(), kRingRecords);
  OverheadCosts costs;
  // Each body mirrors what the macro does once capture is on: clock reads and the push.
  costs.scope_ns = MedianNsPerIteration(ring, storage, [](ThreadRing* r, int) {
    const uint64_t begin = Ticks();
    r->PushComplete(begin, Ticks(), &kScopeSite);
  });
  costs.payload_scope_ns = MedianNsPerIteration(ring, storage, [](ThreadRing* r, int i) {
    const uint64_t begin = Ticks();
    const size_t bytes = 2 * (1 + sizeof(const char*) + 8);
    if (r->BeginWithPayload(kTagOpen, begin, &kScopeSite, bytes)) {
      WriteArg(r, "a", i);
      WriteArg(r, "b", 2.0);
      r->FinishWithPayload();
      r->PushClose(Ticks());
    }
  });
  costs.instant_ns = MedianNsPerIteration(ring, storage, [](ThreadRing* r, int) {
    r->PushValue(kTagInstant, Ticks(), 0, &kScopeSite);
  });
  costs.counter_ns = MedianNsPerIteration(ring, storage, [](ThreadRing* r, int i) {
    r->PushValue(kTagCounterInt, Ticks(), static_cast<uint64_t>(i), &kCounterSite);
  });
  ring->~ThreadRing();
  return costs;
}

}  // namespace scopetrace::internal
