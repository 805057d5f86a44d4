#include "src/host_slice_runs.h"

#include <iterator>
#include <utility>

#include "src/event_sort.h"

namespace scopetrace::internal {
namespace {

void SortRecords(std::vector<HostSliceRecord>& records) {
  SortByTrackAndTime(
      records, [](const HostSliceRecord&) { return 0u; },
      [](const HostSliceRecord& r) {
        return TimeKey{r.start_ns, -r.dur_ns};
      });
}

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
  for (Run& run : runs_) pool_->RecycleRun(std::move(run.records));
}

void HostSliceRuns::Grow(TrackId track) {
  while (runs_.size() <= track) {
    Run& run = runs_.emplace_back();
    if (pool_ != nullptr) run.records = pool_->TakeRun();
  }
}

bool HostSliceRuns::SortRunsAndCheckNesting() {
  std::vector<int64_t> open_ends;
  bool nest = true;
  for (Run& run : runs_) {
    if (!run.sorted) {
      SortRecords(run.records);
      run.sorted = true;
      // Appending after the sorted records must not look in order when it is not.
      if (!run.records.empty()) {
        run.last_start_ns = run.records.back().start_ns;
        run.last_dur_ns = run.records.back().dur_ns;
      }
    }
    open_ends.clear();
    for (const HostSliceRecord& r : run.records) {
      // Durations are >= 0 (Append).
      if (!OpenNested(open_ends, r.start_ns, r.start_ns + r.dur_ns)) {
        nest = false;
        break;
      }
    }
  }
  return nest;
}

void HostSliceRuns::Clear() {
  for (Run& run : runs_) {
    run.records.clear();
    run = Run{.records = std::move(run.records)};
  }
  payloads_.clear();
  size_ = 0;
}

void HostSliceRuns::MergeInto(Trace& trace) {
  if (size_ == 0) return;
  std::vector<Slice>& out = trace.mutable_slices();
  std::vector<Slice> others(std::make_move_iterator(out.begin()),
                            std::make_move_iterator(out.end()));
  SortSlices(others);
  out.clear();  // keeps the capacity it may have from the storage pool
  out.reserve(size_ + others.size());
  for (TrackId track = 0; track < runs_.size(); ++track) {
    Run& run = runs_[track];
    if (!run.sorted) SortRecords(run.records);
    for (const HostSliceRecord& r : run.records) {
      if (r.payload == 0) {
        out.push_back(Slice{.track = track,
                            .name = r.name,
                            .category = r.category,
                            .op_kind = DeviceOpKind::kNone,
                            .start_ns = r.start_ns,
                            .dur_ns = r.dur_ns,
                            .correlation_id = 0,
                            .flow_out = 0,
                            .flow_in = 0,
                            .args = {}});
      } else {
        HostSlicePayload& p = payloads_[r.payload - 1];
        out.push_back(Slice{.track = track,
                            .name = r.name,
                            .category = r.category,
                            .op_kind = DeviceOpKind::kNone,
                            .start_ns = r.start_ns,
                            .dur_ns = r.dur_ns,
                            .correlation_id = p.correlation_id,
                            .flow_out = p.flow_out,
                            .flow_in = 0,
                            .args = std::move(p.args)});
      }
    }
    run.records.clear();
    run = Run{.records = std::move(run.records)};
  }
  payloads_.clear();
  std::move(others.begin(), others.end(), std::back_inserter(out));
  size_ = 0;
}

}  // namespace scopetrace::internal
