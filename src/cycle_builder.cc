#include "src/cycle_builder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "fmt/format.h"

namespace scopetrace::internal {

CycleBuilder::CycleBuilder(const SessionInfo& session, int64_t cycle_index, int64_t start_ns)
    : session_(session),
      trace_(std::make_unique<Trace>()),
      host_slices_(session.storage_pool),
      start_ns_(start_ns) {
  TraceMetadata& metadata = trace_->mutable_metadata();
  metadata.cycle = cycle_index;
  if (session.storage_pool != nullptr) session.storage_pool->Reuse(*trace_);
  trace_->add_process(Process{.pid = session.pid, .name = session.process_name});
}

TrackId CycleBuilder::ThreadTrack(int64_t tid) {
  auto [it, inserted] = thread_tracks_.try_emplace(tid, 0);
  if (inserted) {
    it->second = trace_->add_track(
        Track{.kind = TrackKind::kThread,
              .pid = session_.pid,
              .tid = tid,
              .name = tid == session_.pid ? std::string("main") : absl::StrCat("thread ", tid)});
  }
  return it->second;
}

void CycleBuilder::NameThreads(const std::function<std::string(int64_t)>& lookup) {
  for (const auto& [tid, track] : thread_tracks_) {
    std::string name = lookup(tid);
    if (!name.empty()) trace_->mutable_tracks()[track].name = std::move(name);
  }
}

CycleBuilder::SiteIds& CycleBuilder::IdsFor(const Site* site) {
  auto [it, inserted] = site_ids_.try_emplace(site, SiteIds{});
  if (inserted) {
    it->second.name = site->name != nullptr ? trace_->intern(site->name) : 0;
    it->second.category = trace_->intern(site->category);
    it->second.counter_track =
        site->kind == SiteKind::kCounter
            ? trace_->find_or_add_track(TrackKind::kCounter, session_.pid, 0, site->name)
            : 0;
  }
  return it->second;
}

std::vector<Arg> CycleBuilder::ConvertArgs(HostEvent& event) {
  std::vector<Arg> args;
  args.reserve(event.args.size());
  for (auto& [key, value] : event.args) {
    auto [it, inserted] = arg_keys_.try_emplace(key, 0);
    if (inserted) it->second = trace_->intern(key);
    args.push_back(Arg{.key = it->second, .value = std::move(value)});
  }
  return args;
}

void CycleBuilder::AddHostEvent(HostEvent& event, int64_t begin_ns, int64_t end_ns) {
  SiteIds& ids = CachedIds(event.site);
  ++ids.events;
  ThreadCounts& counts = CachedCounts(event.tid);
  StringId name = ids.name;
  if (event.site->name == nullptr) {
    name = trace_->intern(event.dynamic_name);
    if (event.kind != HostEvent::Kind::kCounter) ++dynamic_name_events_[name];
  }
  switch (event.kind) {
    case HostEvent::Kind::kSlice: {
      const bool payload =
          event.site->name == nullptr || !event.args.empty() || event.correlation_id != 0;
      ++(payload ? counts.payload_scopes : counts.scopes);
      if (payload) ++ids.payload_events;
      if (event.correlation_id == 0 && event.args.empty()) {
        host_slices_.Add(cached_track_, name, ids.category, begin_ns, end_ns);
        break;
      }
      HostSlicePayload& slice =
          host_slices_.AddWithPayload(cached_track_, name, ids.category, begin_ns, end_ns);
      if (event.correlation_id != 0) {
        slice.correlation_id = event.correlation_id;
        slice.flow_out = event.correlation_id;
        launched_.insert(event.correlation_id);
      }
      slice.args = ConvertArgs(event);
      break;
    }
    case HostEvent::Kind::kInstant: {
      ++counts.instants;
      Instant& instant = trace_->mutable_instants().emplace_back();
      instant.track = cached_track_;
      instant.name = name;
      instant.category = ids.category;
      instant.ts_ns = begin_ns;
      instant.args = ConvertArgs(event);
      break;
    }
    case HostEvent::Kind::kCounter:
      ++counts.counters;
      trace_->mutable_counters().push_back(
          CounterSample{.track = ids.counter_track, .ts_ns = begin_ns, .value = event.value});
      break;
  }
}

void CycleBuilder::AddStep(int64_t step, int64_t tid, int64_t begin_ns, int64_t end_ns) {
  if (first_step_ < 0) first_step_ = step;
  last_step_ = step;
  host_slices_.Add(ThreadTrack(tid), trace_->intern(absl::StrCat("ProfilerStep#", step)),
                   trace_->intern("step"), begin_ns, end_ns);
}

void CycleBuilder::FillOverhead(TraceMetadata& metadata, int64_t wall_ns) const {
  const OverheadCosts& costs = session_.costs;
  OverheadReport& report = metadata.overhead;
  report.scope_cost_ns = costs.scope_ns;
  report.instant_cost_ns = costs.instant_ns;
  report.counter_cost_ns = costs.counter_ns;
  report.budget_percent = session_.overhead_budget_percent;
  const double wall = static_cast<double>(std::max<int64_t>(1, wall_ns));
  for (const auto& [tid, counts] : counts_) {
    ThreadOverhead thread;
    thread.tid = tid;
    auto track = thread_tracks_.find(tid);
    if (track != thread_tracks_.end()) thread.thread_name = trace_->tracks()[track->second].name;
    thread.events = counts.scopes + counts.payload_scopes + counts.instants + counts.counters;
    thread.overhead_ns = static_cast<double>(counts.scopes) * costs.scope_ns +
                         static_cast<double>(counts.payload_scopes) * costs.payload_scope_ns +
                         static_cast<double>(counts.instants) * costs.instant_ns +
                         static_cast<double>(counts.counters) * costs.counter_ns;
    thread.percent = 100.0 * thread.overhead_ns / wall;
    report.total_ns += thread.overhead_ns;
    report.threads.push_back(std::move(thread));
  }
  std::sort(report.threads.begin(), report.threads.end(),
            [](const ThreadOverhead& a, const ThreadOverhead& b) { return a.tid < b.tid; });
  report.percent = 100.0 * report.total_ns / wall;
  report.over_budget = report.percent > report.budget_percent;
  if (report.over_budget) {
    // Counted as the events arrived (so streamed-out chunks count too): static names per
    // call site, dynamic names per name. The profiler's own step slices are not sites.
    absl::flat_hash_map<StringId, uint64_t> events_by_name = dynamic_name_events_;
    for (const auto& [site, ids] : site_ids_) {
      if (site->name != nullptr && site->kind != SiteKind::kCounter) {
        events_by_name[ids.name] += ids.events;
      }
    }
    std::vector<std::pair<uint64_t, std::string_view>> hottest;
    for (const auto& [name, count] : events_by_name) {
      if (count > 0) hottest.emplace_back(count, trace_->str(name));
    }
    std::sort(hottest.rbegin(), hottest.rend());
    for (size_t i = 0; i < hottest.size() && i < 5; ++i) {
      report.top_scopes.push_back(
          fmt::format("{} ({} events)", hottest[i].second, hottest[i].first));
    }
  }
}

void CycleBuilder::FlushToSink(size_t min_events) {
  if (!pipeline_) return;
  if (trace_->event_count() + host_slices_.size() < min_events) return;
  if (absl::Status status = pipeline_->Submit(*trace_, host_slices_); !status.ok()) {
    stream_status_ = status;
    streamed_events_ = pipeline_->events_submitted();
    pipeline_.reset();  // abandons the outputs; later events stay in memory
  }
}

FinishedCycle CycleBuilder::Finish(int64_t end_ns) {
  if (pipeline_) {
    absl::StatusOr<std::unique_ptr<StreamingSink>> sink = pipeline_->Close();
    streamed_events_ = pipeline_->events_submitted();
    if (sink.ok()) {
      sink_ = std::move(*sink);
    } else {
      stream_status_ = sink.status();
    }
    pipeline_.reset();
  }
  TraceMetadata& metadata = trace_->mutable_metadata();
  metadata.producer = "scopetrace 0.1.0";
  metadata.worker = session_.worker;
  metadata.pid = session_.pid;
  metadata.first_step = first_step_;
  metadata.last_step = last_step_;
  metadata.has_schedule = session_.has_schedule;
  metadata.schedule = session_.schedule;
  metadata.start_ns = start_ns_;
  metadata.end_ns = end_ns;
  metadata.wall_clock_ns = start_ns_ + session_.wall_minus_monotonic_ns;
  metadata.host_events_late = late_host_events_;
  for (const auto& [tid, dropped] : drops_) {
    if (dropped == 0) continue;
    ThreadDrops drops{.tid = tid, .thread_name = {}, .dropped_events = dropped};
    auto track = thread_tracks_.find(tid);
    if (track != thread_tracks_.end()) drops.thread_name = trace_->tracks()[track->second].name;
    metadata.dropped.push_back(std::move(drops));
    metadata.dropped_events += dropped;
  }
  std::sort(metadata.dropped.begin(), metadata.dropped.end(),
            [](const ThreadDrops& a, const ThreadDrops& b) { return a.tid < b.tid; });
  FillOverhead(metadata, end_ns - start_ns_);
  if (!stream_status_.ok()) {
    metadata.truncated = true;
    metadata.truncation_reason = absl::StrCat(
        "streaming failed after ", streamed_events_,
        " events, which are not in this trace: ", std::string(stream_status_.message()));
  }
  // Sorting is left to the export thread: the collector must keep draining.
  return FinishedCycle{.trace = std::move(trace_),
                       .sink = std::move(sink_),
                       .stream_status = stream_status_,
                       .host_slices = std::move(host_slices_)};
}

}  // namespace scopetrace::internal
