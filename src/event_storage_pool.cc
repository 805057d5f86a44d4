#include "src/event_storage_pool.h"

#include <utility>

namespace scopetrace::internal {

void EventStoragePool::Recycle(Trace& trace) {
  Vectors vectors;
  vectors.slices.swap(trace.mutable_slices());
  vectors.instants.swap(trace.mutable_instants());
  vectors.counters.swap(trace.mutable_counters());
  // Destroy the events outside the lock; clear() keeps the capacity.
  vectors.slices.clear();
  vectors.instants.clear();
  vectors.counters.clear();
  std::lock_guard<std::mutex> lock(mu_);
  if (spares_.size() < kMaxSpares) spares_.push_back(std::move(vectors));
}

void EventStoragePool::Reuse(Trace& trace) {
  Vectors spare;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spares_.empty()) return;
    spare = std::move(spares_.back());
    spares_.pop_back();
  }
  trace.mutable_slices().swap(spare.slices);
  trace.mutable_instants().swap(spare.instants);
  trace.mutable_counters().swap(spare.counters);
}

std::vector<HostSliceRecord> EventStoragePool::TakeRun() {
  std::lock_guard<std::mutex> lock(mu_);
  if (runs_.empty()) return {};
  std::vector<HostSliceRecord> run = std::move(runs_.back());
  runs_.pop_back();
  return run;
}

void EventStoragePool::RecycleRun(std::vector<HostSliceRecord> run) {
  run.clear();
  if (run.capacity() == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (runs_.size() < kMaxRuns) runs_.push_back(std::move(run));
}

}  // namespace scopetrace::internal
