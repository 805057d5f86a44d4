#include "src/host_slice_runs.h"

#include <iterator>
#include <utility>

#include "src/event_sort.h"

namespace scopetrace::internal {
namespace {

void SortSlices(std::vector<Slice>& slices) {
  SortByTrackAndTime(
      slices, [](const Slice& s) { return s.track; },
      [](const Slice& s) {
        return TimeKey{s.start_ns, -s.dur_ns};
      });
}

}  // namespace

HostSliceRuns::~HostSliceRuns() {
  if (pool_ == nullptr) return;
  for (Run& run : runs_) pool_->RecycleRun(std::move(run.slices));
}

void HostSliceRuns::Grow(TrackId track) {
  while (runs_.size() <= track) {
    Run& run = runs_.emplace_back();
    if (pool_ != nullptr) run.slices = pool_->TakeRun();
  }
}

void HostSliceRuns::MergeInto(Trace& trace) {
  if (size_ == 0) return;
  std::vector<Slice>& out = trace.mutable_slices();
  std::vector<Slice> others(std::make_move_iterator(out.begin()),
                            std::make_move_iterator(out.end()));
  SortSlices(others);
  out.clear();  // keeps the capacity it may have from the storage pool
  out.reserve(size_ + others.size());
  for (Run& run : runs_) {
    if (!run.sorted) SortSlices(run.slices);
    std::move(run.slices.begin(), run.slices.end(), std::back_inserter(out));
    run.slices.clear();
    run = Run{.slices = std::move(run.slices)};
  }
  std::move(others.begin(), others.end(), std::back_inserter(out));
  size_ = 0;
}

}  // namespace scopetrace::internal
