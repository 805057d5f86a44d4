// TraceBuilder's last step: the processes and tracks of the finished trace, from the file's
// "scopetrace" object when it has one, else from what the events named.

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "exporters/json_trace_builder.h"
#include "fmt/format.h"

namespace scopetrace::exporters::json {

void TraceBuilder::BuildLayout() {
  std::vector<Process> processes;
  std::vector<Track> tracks;
  if (layout_.has_value()) {
    processes = layout_->processes;
    tracks = layout_->tracks;
  }
  absl::flat_hash_map<int64_t, size_t> process_pos;
  for (size_t i = 0; i < processes.size(); ++i) process_pos.try_emplace(processes[i].pid, i);
  // Without our layout, a process that ran device ops is a device.
  absl::flat_hash_set<int64_t> device_pids;
  for (const Slice& slice : trace_.slices()) {
    if (DeviceOpKindFromCategory(trace_.str(slice.category)) != DeviceOpKind::kNone) {
      device_pids.insert(tracks_[slice.track].pid);
    }
  }
  for (const PendingProcess& p : processes_) {
    if (process_pos.contains(p.pid)) continue;
    process_pos.emplace(p.pid, processes.size());
    processes.push_back(Process{.pid = p.pid,
                                .name = p.name,
                                .sort_index = p.sort_index,
                                .is_device = p.device || device_pids.contains(p.pid)});
  }
  absl::flat_hash_map<std::pair<int64_t, int64_t>, TrackId> thread_pos;
  absl::flat_hash_map<std::pair<int64_t, std::string>, TrackId> counter_pos;
  for (size_t i = 0; i < tracks.size(); ++i) {
    const auto id = static_cast<TrackId>(i);
    if (tracks[i].kind == TrackKind::kCounter) {
      counter_pos.try_emplace(std::pair(tracks[i].pid, tracks[i].name), id);
    } else {
      thread_pos.try_emplace(std::pair(tracks[i].pid, tracks[i].tid), id);
    }
  }
  std::vector<TrackId> remap(tracks_.size());
  for (size_t i = 0; i < tracks_.size(); ++i) {
    const PendingTrack& t = tracks_[i];
    if (t.counter) {
      auto [it, inserted] =
          counter_pos.try_emplace(std::pair(t.pid, t.name), static_cast<TrackId>(tracks.size()));
      if (inserted) {
        tracks.push_back(Track{.kind = TrackKind::kCounter, .pid = t.pid, .name = t.name});
      }
      remap[i] = it->second;
      continue;
    }
    auto [it, inserted] =
        thread_pos.try_emplace(std::pair(t.pid, t.tid), static_cast<TrackId>(tracks.size()));
    if (inserted) {
      const bool device = t.device_stream || processes[process_pos.at(t.pid)].is_device;
      std::string name = t.name;
      if (!t.has_name && device) name = fmt::format("stream {}", t.tid);
      tracks.push_back(Track{.kind = device ? TrackKind::kDeviceStream : TrackKind::kThread,
                             .pid = t.pid,
                             .tid = t.tid,
                             .name = std::move(name),
                             .sort_index = t.sort_index});
    }
    remap[i] = it->second;
  }
  for (Slice& slice : trace_.mutable_slices()) {
    slice.track = remap[slice.track];
    if (tracks[slice.track].kind == TrackKind::kDeviceStream) {
      slice.op_kind = DeviceOpKindFromCategory(trace_.str(slice.category));
    }
  }
  for (Instant& instant : trace_.mutable_instants()) instant.track = remap[instant.track];
  for (CounterSample& sample : trace_.mutable_counters()) sample.track = remap[sample.track];
  trace_.mutable_processes() = std::move(processes);
  trace_.mutable_tracks() = std::move(tracks);
}

}  // namespace scopetrace::exporters::json
