// Internal: a cycle's host slices, kept per thread track as the collector receives them,
// as compact records (host_slice_record.h) that become the trace's Slices at the merge.
//
// Each track's run is then in order or nearly so (a parent arrives after its children:
// see event_sort.h), which an append notices at no cost. The export thread merges the
// runs into the trace in (track, time) order, which is then the documented order without
// a sort; merging there keeps that pass off the collector, which must keep draining. A
// streamed cycle's runs go to the encoding thread chunk by chunk instead, which writes
// packets straight from the records (StreamingPipeline).

#ifndef SCOPETRACE_SRC_HOST_SLICE_RUNS_H_
#define SCOPETRACE_SRC_HOST_SLICE_RUNS_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "scopetrace/trace.h"
#include "src/event_storage_pool.h"
#include "src/host_slice_record.h"

namespace scopetrace::internal {

class HostSliceRuns {
 public:
  // Run vectors come from (and go back to) `pool`, which may be null.
  explicit HostSliceRuns(EventStoragePool* pool = nullptr) : pool_(pool) {}
  HostSliceRuns(HostSliceRuns&&) = default;
  HostSliceRuns& operator=(HostSliceRuns&&) = default;
  ~HostSliceRuns();

  // A new plain slice on `track` (negative durations become 0).
  void Add(TrackId track, StringId name, StringId category, int64_t begin_ns, int64_t end_ns) {
    Append(track, name, category, begin_ns, end_ns, 0);
  }

  // A new slice with a payload (args, a launch's correlation id), which the caller fills.
  HostSlicePayload& AddWithPayload(TrackId track, StringId name, StringId category,
                                   int64_t begin_ns, int64_t end_ns) {
    HostSlicePayload& payload = payloads_.emplace_back();
    Append(track, name, category, begin_ns, end_ns, static_cast<uint32_t>(payloads_.size()));
    return payload;
  }

  size_t size() const { return size_; }

  // Exchanges the runs (records, payloads) with `other`'s; each keeps its pool.
  void swap(HostSliceRuns& other) noexcept {
    runs_.swap(other.runs_);
    payloads_.swap(other.payloads_);
    std::swap(size_, other.size_);
  }

  // Moves every run, in (track, time) order, to the front of `trace`'s slices; the slices
  // already there (device operations, on tracks created after every thread's) follow,
  // sorted among themselves. The runs are left empty, keeping their capacity.
  void MergeInto(Trace& trace);

  // For a writer that encodes the records themselves (a streamed chunk, see
  // StreamingPipeline), without the 80-byte Slices MergeInto makes: sorts each run into
  // walk order (by start, longer first: parents before their children) and returns
  // whether every run nests, each slice within the one open before it, as scopes do (a
  // writer then walks a run with one stack). Then track t's run is records(t), in order.
  bool SortRunsAndCheckNesting();
  size_t run_count() const { return runs_.size(); }
  const std::vector<HostSliceRecord>& records(TrackId track) const { return runs_[track].records; }
  // The payload of a record whose `payload` is not 0.
  const HostSlicePayload& payload(const HostSliceRecord& record) const {
    return payloads_[record.payload - 1];
  }
  // Empties the runs, keeping their capacity (after the records were encoded).
  void Clear();

 private:
  struct Run {
    std::vector<HostSliceRecord> records;
    int64_t last_start_ns = INT64_MIN;
    int64_t last_dur_ns = 0;
    bool sorted = true;
  };

  void Append(TrackId track, StringId name, StringId category, int64_t begin_ns, int64_t end_ns,
              uint32_t payload) {
    if (track >= runs_.size()) Grow(track);
    Run& run = runs_[track];
    const int64_t dur_ns = end_ns > begin_ns ? end_ns - begin_ns : 0;
    // In order after the previous slice: a later start, or the same start and not longer.
    run.sorted = run.sorted && (begin_ns > run.last_start_ns ||
                                (begin_ns == run.last_start_ns && dur_ns <= run.last_dur_ns));
    run.last_start_ns = begin_ns;
    run.last_dur_ns = dur_ns;
    ++size_;
    run.records.push_back(HostSliceRecord{.start_ns = begin_ns,
                                          .dur_ns = dur_ns,
                                          .name = name,
                                          .category = category,
                                          .payload = payload});
  }
  void Grow(TrackId track);

  EventStoragePool* pool_;
  std::vector<Run> runs_;  // indexed by TrackId
  std::vector<HostSlicePayload> payloads_;
  size_t size_ = 0;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_HOST_SLICE_RUNS_H_
