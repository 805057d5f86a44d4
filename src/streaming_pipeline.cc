#include "src/streaming_pipeline.h"

#include <utility>

#include "src/background_thread.h"

namespace scopetrace::internal {

StreamingPipeline::StreamingPipeline(std::unique_ptr<StreamingSink> sink,
                                     std::atomic<int64_t>* cpu_ns, EventStoragePool* pool)
    : sink_(std::move(sink)), cpu_ns_(cpu_ns), runs_(pool) {
  // The compression threads' share of the encoding counts with this thread's.
  if (cpu_ns_ != nullptr) sink_->CountBackgroundCpuInto(cpu_ns_);
}

absl::StatusOr<std::unique_ptr<StreamingPipeline>> StreamingPipeline::Start(
    std::unique_ptr<StreamingSink> sink, std::atomic<int64_t>* cpu_ns, EventStoragePool* pool) {
  std::unique_ptr<StreamingPipeline> pipeline(new StreamingPipeline(std::move(sink), cpu_ns, pool));
  if (absl::Status status = StartThread(pipeline->thread_, "scopetrace stream encoder",
                                        [p = pipeline.get()] { p->Run(); });
      !status.ok()) {
    return status;
  }
  return pipeline;
}

StreamingPipeline::~StreamingPipeline() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void StreamingPipeline::SyncMirror(const Trace& cycle) {
  for (size_t id = chunk_.strings().size(); id < cycle.strings().size(); ++id) {
    chunk_.intern(cycle.str(static_cast<StringId>(id)));
  }
  for (size_t i = chunk_.processes().size(); i < cycle.processes().size(); ++i) {
    chunk_.add_process(cycle.processes()[i]);
  }
  for (size_t i = chunk_.tracks().size(); i < cycle.tracks().size(); ++i) {
    chunk_.add_track(cycle.tracks()[i]);
  }
  // Renamed threads (a name learnt late) keep the name the cycle has now.
  for (size_t i = 0; i < chunk_.tracks().size(); ++i) {
    if (chunk_.tracks()[i].name != cycle.tracks()[i].name) {
      chunk_.mutable_tracks()[i].name = cycle.tracks()[i].name;
    }
  }
}

bool StreamingPipeline::SlicesOnRunTracks() const {
  for (const Slice& slice : chunk_.slices()) {
    if (slice.track < runs_.run_count() && !runs_.records(slice.track).empty()) return true;
  }
  return false;
}

absl::Status StreamingPipeline::Submit(Trace& cycle) {
  HostSliceRuns none;
  return Submit(cycle, none);
}

absl::Status StreamingPipeline::Submit(Trace& cycle, HostSliceRuns& runs) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !busy_; });
  if (!status_.ok()) return status_;
  // The encoder is idle: the mirror and its vectors are the collector's until busy_ is set.
  SyncMirror(cycle);
  submitted_ += cycle.event_count() + runs.size();
  runs_.swap(runs);
  chunk_.mutable_slices().swap(cycle.mutable_slices());
  chunk_.mutable_instants().swap(cycle.mutable_instants());
  chunk_.mutable_counters().swap(cycle.mutable_counters());
  busy_ = true;
  cv_.notify_all();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StreamingSink>> StreamingPipeline::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !busy_; });
  if (!status_.ok()) return status_;
  return std::move(sink_);
}

void StreamingPipeline::Run() {
  NameThisThread("scopetrace-strm");
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return busy_ || stopping_; });
    if (!busy_) {  // stopping, nothing in flight
      if (cpu_ns_ != nullptr) cpu_ns_->fetch_add(ThisThreadCpuNs(), std::memory_order_relaxed);
      return;
    }
    lock.unlock();
    // No SortEvents here: the writer's EventOrder::Group already checks, in the pass that
    // counts each track's events, whether the chunk is in (track, time) order (the merged
    // host runs are) and sorts only the tracks that are not. A sort here was a second
    // full pass over the chunk's 80-byte Slices (~5 % of this thread's time).
    // Host slices go from the collector's 32-byte records straight into packets when each
    // thread's run nests and no thread track also has slices in the chunk (a device op is
    // on a stream's track); otherwise they become Slices first.
    const bool direct =
        runs_.size() != 0 && runs_.SortRunsAndCheckNesting() && !SlicesOnRunTracks();
    if (!direct) runs_.MergeInto(chunk_);
    absl::Status status = sink_->Append(chunk_, direct ? &runs_ : nullptr);
    if (direct) runs_.Clear();
    chunk_.mutable_slices().clear();  // keeps the capacity for the chunk after next
    chunk_.mutable_instants().clear();
    chunk_.mutable_counters().clear();
    lock.lock();
    if (!status.ok() && status_.ok()) status_ = status;
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace scopetrace::internal
