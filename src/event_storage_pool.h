// Internal: gives the memory of an exported cycle's event vectors back to the collector
// for the next cycle.
//
// A busy cycle holds millions of slices: building each in freshly allocated vectors
// costs page faults on every first touch (and glibc returns such large blocks to the
// kernel on free, so every cycle faults them in again) plus the copies of vector growth.
// The export thread clears the vectors it is done with and parks one set here; the
// collector's next cycles start with their capacity. At most two spare sets are kept
// (one cycle is usually being exported while the next is captured, and the one after
// starts), so the memory held is at most that of the two largest cycles captured.
//
// Thread safety: Recycle (export thread) and Reuse (collector thread) may run at once.

#ifndef SCOPETRACE_SRC_EVENT_STORAGE_POOL_H_
#define SCOPETRACE_SRC_EVENT_STORAGE_POOL_H_

#include <mutex>
#include <vector>

#include "scopetrace/trace.h"
#include "src/host_slice_record.h"

namespace scopetrace::internal {

class EventStoragePool {
 public:
  // Takes `trace`'s events (destroying them) and keeps their vectors' capacity unless two
  // spares are held already. `trace` is left without events.
  void Recycle(Trace& trace);
  // Gives `trace` (which holds no events yet) the spare vectors, if any.
  void Reuse(Trace& trace);
  // The same for the collector's per-thread runs of slices (see CycleBuilder): an empty
  // vector, with capacity when one was recycled; at most kMaxRuns are kept.
  std::vector<HostSliceRecord> TakeRun();
  void RecycleRun(std::vector<HostSliceRecord> run);

 private:
  struct Vectors {
    std::vector<Slice> slices;
    std::vector<Instant> instants;
    std::vector<CounterSample> counters;
  };
  // std::mutex: visible to ThreadSanitizer (Debian's abseil is not instrumented).
  std::mutex mu_;
  static constexpr size_t kMaxSpares = 2;
  std::vector<Vectors> spares_;  // guarded by mu_
  static constexpr size_t kMaxRuns = 16;
  std::vector<std::vector<HostSliceRecord>> runs_;  // guarded by mu_
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_EVENT_STORAGE_POOL_H_
