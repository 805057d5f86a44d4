// Internal: assembles one cycle's Trace from the host events the collector assigns to it,
// the steps it recorded, and (at the end) its device activity and metadata.

#ifndef SCOPETRACE_SRC_CYCLE_BUILDER_H_
#define SCOPETRACE_SRC_CYCLE_BUILDER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "scopetrace/trace.h"
#include "src/event_storage_pool.h"
#include "src/host_event.h"
#include "src/host_slice_runs.h"
#include "src/overhead.h"
#include "src/streaming_pipeline.h"
#include "src/streaming_sink.h"

namespace scopetrace::internal {

class CycleBuilder;

// What is the same for every cycle of a session.
struct SessionInfo {
  std::string worker;
  int64_t pid = 0;
  std::string process_name;
  bool has_schedule = false;
  Schedule schedule;
  // Unix time minus monotonic time, taken at start(): turns monotonic ns into wall time.
  int64_t wall_minus_monotonic_ns = 0;
  OverheadCosts costs;
  double overhead_budget_percent = 1.0;
  // Called by the collector for each finished cycle before it is handed over, with the
  // step in progress (the overhead budget policy; may add to the trace's metadata).
  std::function<void(const CycleBuilder& cycle, Trace& trace, int64_t step)> on_cycle_finished;
  // Streaming capture: the Perfetto formats encoded while a cycle is captured, and where
  // each cycle's files go. Empty: cycles are built in memory and written when complete.
  std::vector<Format> streamed_formats;
  std::function<std::string(int64_t cycle, Format format)> path_for;
  // Where cycles get their event vectors from (see EventStoragePool); may be null.
  EventStoragePool* storage_pool = nullptr;
  // Accumulates the CPU time of streaming encoder threads (ProfilerStats); may be null.
  std::atomic<int64_t>* stream_encoder_cpu_ns = nullptr;
};

// A cycle handed from the collector to the export thread.
struct FinishedCycle {
  std::unique_ptr<Trace> trace;
  // Streaming: the open outputs holding the cycle's earlier events; `trace` holds the rest.
  std::unique_ptr<StreamingSink> sink;
  // A streaming failure during capture (the outputs were abandoned; `trace` then holds only
  // the events captured after it, and says so in its metadata).
  absl::Status stream_status;
  // The host slices, not yet in `trace`: Merge() puts them there (export thread).
  HostSliceRuns host_slices;
  void Merge() { host_slices.MergeInto(*trace); }
};

class CycleBuilder {
 public:
  CycleBuilder(const SessionInfo& session, int64_t cycle_index, int64_t start_ns);

  void AddHostEvent(HostEvent& event, int64_t begin_ns, int64_t end_ns);
  // The common case of AddHostEvent: a scope with a static name and no payload.
  void AddComplete(const Site* site, int64_t tid, int64_t begin_ns, int64_t end_ns) {
    SiteIds& ids = CachedIds(site);
    ++ids.events;
    ++CachedCounts(tid).scopes;
    host_slices_.Add(cached_track_, ids.name, ids.category, begin_ns, end_ns);
  }
  // A recorded step: the ProfilerStep#<step> slice on the thread that called step().
  void AddStep(int64_t step, int64_t tid, int64_t begin_ns, int64_t end_ns);
  void AddDrops(int64_t tid, uint64_t dropped) { drops_[tid] += dropped; }
  void AddLateHostEvents(uint64_t count) { late_host_events_ += count; }
  // Names each thread track with `lookup(tid)` where that returns a non-empty name.
  void NameThreads(const std::function<std::string(int64_t)>& lookup);

  // Correlation ids of the device launches recorded in this cycle.
  const absl::flat_hash_set<uint64_t>& launched() const { return launched_; }
  int64_t start_ns() const { return start_ns_; }
  Trace& trace() { return *trace_; }

  // Streaming: once at least `min_events` are held, hands them to the sink's encoding
  // thread (StreamingPipeline). A failure abandons the sink and is kept for the end. When
  // the encoding thread cannot start, the sink is abandoned at once and the error returned:
  // the cycle then stays in memory and is written whole at its end.
  absl::Status AttachSink(std::unique_ptr<StreamingSink> sink) {
    absl::StatusOr<std::unique_ptr<StreamingPipeline>> pipeline = StreamingPipeline::Start(
        std::move(sink), session_.stream_encoder_cpu_ns, session_.storage_pool);
    if (!pipeline.ok()) return pipeline.status();
    pipeline_ = *std::move(pipeline);
    return absl::OkStatus();
  }
  void FlushToSink(size_t min_events);

  // Fills the metadata (steps, drops, overhead) and hands the cycle over, unsorted.
  FinishedCycle Finish(int64_t end_ns);

  struct SiteIds {
    StringId name;
    StringId category;
    TrackId counter_track;
    uint64_t events = 0;  // this cycle's events of the site (for the budget policy)
    uint64_t payload_events = 0;
  };
  const absl::flat_hash_map<const Site*, SiteIds>& sites() const { return site_ids_; }

 private:
  struct ThreadCounts {
    uint64_t scopes = 0;
    uint64_t payload_scopes = 0;
    uint64_t instants = 0;
    uint64_t counters = 0;
  };
  TrackId ThreadTrack(int64_t tid);
  // One-entry caches in front of site_ids_ and counts_/thread_tracks_ (the latter also
  // sets cached_track_): consecutive events mostly share a call site and a thread.
  SiteIds& CachedIds(const Site* site) {
    if (site != cached_site_) {
      cached_ids_ = &IdsFor(site);
      cached_site_ = site;
    }
    return *cached_ids_;
  }
  ThreadCounts& CachedCounts(int64_t tid) {
    if (tid != cached_tid_) {
      cached_track_ = ThreadTrack(tid);
      cached_counts_ = &counts_[tid];
      cached_tid_ = tid;
    }
    return *cached_counts_;
  }
  SiteIds& IdsFor(const Site* site);
  std::vector<Arg> ConvertArgs(HostEvent& event);
  void FillOverhead(TraceMetadata& metadata, int64_t wall_ns) const;

  const SessionInfo& session_;
  std::unique_ptr<Trace> trace_;
  HostSliceRuns host_slices_;  // merged into trace_ by the export thread (FinishedCycle)
  int64_t start_ns_;
  int64_t first_step_ = -1;
  int64_t last_step_ = -1;
  absl::flat_hash_map<int64_t, TrackId> thread_tracks_;
  absl::flat_hash_map<const Site*, SiteIds> site_ids_;
  absl::flat_hash_map<const char*, StringId> arg_keys_;
  absl::flat_hash_map<int64_t, ThreadCounts> counts_;
  absl::flat_hash_map<int64_t, uint64_t> drops_;
  absl::flat_hash_set<uint64_t> launched_;
  // One-entry caches: consecutive events mostly share a thread and a call site. The
  // pointers stay valid because the maps only grow through the lookups that refresh them.
  int64_t cached_tid_ = -1;
  TrackId cached_track_ = 0;
  ThreadCounts* cached_counts_ = nullptr;
  const Site* cached_site_ = nullptr;
  SiteIds* cached_ids_ = nullptr;
  uint64_t late_host_events_ = 0;
  std::unique_ptr<StreamingPipeline> pipeline_;  // encodes chunks while capture goes on
  std::unique_ptr<StreamingSink> sink_;          // the outputs, once the pipeline is closed
  absl::Status stream_status_;
  uint64_t streamed_events_ = 0;
  // Events per dynamic name (static names are counted per site in site_ids_), for the
  // hottest-scope report.
  absl::flat_hash_map<StringId, uint64_t> dynamic_name_events_;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_CYCLE_BUILDER_H_
