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
// A private ring of 3 MiB (near the default 4 MiB per-thread ring), written round after
// round like a ring the collector keeps draining, so pushes land on lines written
// megabytes ago as in a long capture (a small ring reused every round stays in L1/L2).
// It must never fill: the full-ring path costs less than a real push.
constexpr uint64_t kRingRecords = 1 << 17;

constexpr Site kScopeSite{"calibration", "host", SiteKind::kScope};
constexpr Site kCounterSite{"calibration", "counter", SiteKind::kCounter};

template <typename Body>
double MedianNsPerIteration(ThreadRing* ring, Body body) {
  std::array<double, kRounds> rounds{};
  for (double& round : rounds) {
    // Consume everything written so far, as the collector would.
    ring->ReleaseTail(ring->AcquireHead());
    const uint64_t begin = MonotonicNs();
    for (int i = 0; i < kIterations; ++i) body(ring, i);
    round = static_cast<double>(MonotonicNs() - begin) / kIterations;
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[kRounds / 2];
}

}  // namespace

OverheadCosts CalibrateOverhead() {
  auto storage = std::make_unique<Record[]>(kRingRecords);  // zeroed: pages are mapped
  auto ring = std::make_unique<ThreadRing>(storage.get(), kRingRecords);
  OverheadCosts costs;
  // Each body mirrors what the macro does once capture is on: clock reads and the push.
  costs.scope_ns = MedianNsPerIteration(ring.get(), [](ThreadRing* r, int) {
    const uint64_t begin = Ticks();
    r->PushComplete(begin, Ticks(), &kScopeSite);
  });
  costs.payload_scope_ns = MedianNsPerIteration(ring.get(), [](ThreadRing* r, int i) {
    const uint64_t begin = Ticks();
    const size_t bytes = 2 * (1 + sizeof(const char*) + 8);
    if (r->BeginWithPayload(kTagOpen, begin, &kScopeSite, bytes)) {
      WriteArg(r, "a", i);
      WriteArg(r, "b", 2.0);
      r->FinishWithPayload();
      r->PushClose(Ticks());
    }
  });
  costs.instant_ns = MedianNsPerIteration(
      ring.get(), [](ThreadRing* r, int) { r->PushValue(kTagInstant, Ticks(), 0, &kScopeSite); });
  costs.counter_ns = MedianNsPerIteration(ring.get(), [](ThreadRing* r, int i) {
    r->PushValue(kTagCounterInt, Ticks(), static_cast<uint64_t>(i), &kCounterSite);
  });
  return costs;
}

}  // namespace scopetrace::internal
