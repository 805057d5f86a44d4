// PerfettoDecoder::Finish: from Perfetto tracks (uuids, descriptors, parent chains) to
// scopetrace's processes and tracks, and the events into the model's order.

#include <algorithm>
#include <charconv>

#include "exporters/perfetto_decoder.h"
#include "exporters/perfetto_fields.h"

namespace scopetrace::exporters {
namespace {

constexpr TrackId kNoTrack = UINT32_MAX;
constexpr int kMaxTrackDepth = 100;  // trace_processor's limit on parent chains

// "stream 3" → 3; otherwise `fallback`.
int64_t StreamIndex(std::string_view name, int64_t fallback) {
  const size_t space = name.rfind(' ');
  if (space == std::string_view::npos) return fallback;
  int64_t index = 0;
  const char* end = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(name.data() + space + 1, end, index);
  return ec == std::errc() && ptr == end ? index : fallback;
}

}  // namespace

int64_t PerfettoDecoder::AncestorPid(const TrackDesc& desc, bool* is_device) const {
  const TrackDesc* d = &desc;
  for (int depth = 0; depth < kMaxTrackDepth; ++depth) {
    if (d->has_ext) {
      *is_device = d->ext_is_device || d->ext_pid >= kDevicePidBase;
      return d->ext_pid;
    }
    if (d->has_process || d->has_thread) {
      *is_device = d->pid >= kDevicePidBase;
      return d->pid;
    }
    if (d->parent == 0) break;
    auto it = track_index_.find(d->parent);
    if (it == track_index_.end()) break;
    d = &tracks_[it->second];
  }
  *is_device = false;
  return 0;
}

void PerfettoDecoder::ResolveTracks(std::vector<TrackId>& model_track) {
  auto add_process = [&](int64_t pid, std::string_view name, int32_t sort_index, bool device) {
    Process p;
    p.pid = pid;
    p.name = std::string(name);
    p.sort_index = sort_index;
    p.is_device = device;
    trace_.add_process(std::move(p));
  };
  // Processes first, so their names win over the unnamed ones threads would create.
  for (uint32_t i : descriptor_order_) {
    const TrackDesc& d = tracks_[i];
    if (d.has_ext && d.ext_kind == pf::kStKindProcess) {
      add_process(d.ext_pid, d.ext_name, d.ext_sort_index, d.ext_is_device);
    } else if (!d.has_ext && d.has_process) {
      add_process(d.pid, d.process_name, 0, d.pid >= kDevicePidBase);
    }
  }
  std::vector<uint32_t> order = descriptor_order_;
  for (uint32_t i = 0; i < tracks_.size(); ++i) {
    if (!tracks_[i].described && tracks_[i].event_count != 0) order.push_back(i);
  }
  for (uint32_t i : order) {
    const TrackDesc& d = tracks_[i];
    // Tracks a scopetrace model has no kind for (process-scoped or global events) become
    // thread tracks with a negative tid no real thread has.
    const int64_t synthetic_tid = -static_cast<int64_t>(i) - 1;
    TrackId t = kNoTrack;
    if (d.has_ext && d.ext_kind != pf::kStKindProcess) {
      const TrackKind kind = d.ext_kind == pf::kStKindCounter        ? TrackKind::kCounter
                             : d.ext_kind == pf::kStKindDeviceStream ? TrackKind::kDeviceStream
                                                                     : TrackKind::kThread;
      add_process(d.ext_pid, "", 0, d.ext_pid >= kDevicePidBase);
      t = trace_.find_or_add_track(kind, d.ext_pid, d.ext_tid, d.ext_name);
      trace_.mutable_tracks()[t].sort_index = d.ext_sort_index;
    } else if (!d.has_ext && d.has_thread) {
      add_process(d.pid, "", 0, d.pid >= kDevicePidBase);
      t = trace_.find_or_add_track(TrackKind::kThread, d.pid, d.tid, d.thread_name);
    } else if (d.has_process || (d.has_ext && d.ext_kind == pf::kStKindProcess)) {
      if (d.event_count == 0) continue;
      const int64_t pid = d.has_ext ? d.ext_pid : d.pid;
      const std::string& name = d.has_ext ? d.ext_name : d.process_name;
      t = trace_.find_or_add_track(TrackKind::kThread, pid, synthetic_tid, name);
    } else if (!d.described) {
      add_process(0, "", 0, false);
      t = trace_.find_or_add_track(TrackKind::kThread, 0, d.uuid == 0 ? 0 : synthetic_tid,
                                   d.uuid == 0 ? "global" : "");
    } else {
      bool device = false;
      const int64_t pid = AncestorPid(d, &device);
      add_process(pid, "", 0, device);
      if (d.is_counter) {
        t = trace_.find_or_add_track(TrackKind::kCounter, pid, 0, d.name);
      } else if (device) {
        t = trace_.find_or_add_track(TrackKind::kDeviceStream, pid,
                                     StreamIndex(d.name, synthetic_tid), d.name);
      } else {
        t = trace_.find_or_add_track(TrackKind::kThread, pid, synthetic_tid, d.name);
      }
    }
    model_track[i] = t;
  }
}

void PerfettoDecoder::MapEventsToModelTracks(const std::vector<TrackId>& model_track) {
  std::vector<bool> device(trace_.tracks().size());
  for (size_t t = 0; t < device.size(); ++t) {
    device[t] = trace_.tracks()[t].kind == TrackKind::kDeviceStream;
  }
  // A device op's kind comes from its category; few distinct categories, so cache them.
  std::vector<int8_t> op_kind(trace_.strings().size(), -1);
  bool unmapped = false;
  for (Slice& s : trace_.mutable_slices()) {
    s.track = model_track[s.track];
    if (s.track == kNoTrack) {
      unmapped = true;
    } else if (device[s.track]) {
      int8_t& kind = op_kind[s.category];
      if (kind < 0) kind = static_cast<int8_t>(DeviceOpKindFromCategory(trace_.str(s.category)));
      s.op_kind = static_cast<DeviceOpKind>(kind);
    }
  }
  for (Instant& i : trace_.mutable_instants()) {
    i.track = model_track[i.track];
    unmapped = unmapped || i.track == kNoTrack;
  }
  for (CounterSample& c : trace_.mutable_counters()) {
    c.track = model_track[c.track];
    unmapped = unmapped || c.track == kNoTrack;
  }
  // ResolveTracks maps every uuid that has events; this only guards that promise.
  if (unmapped) {
    std::erase_if(trace_.mutable_slices(), [](const Slice& s) { return s.track == kNoTrack; });
    std::erase_if(trace_.mutable_instants(), [](const Instant& i) { return i.track == kNoTrack; });
    std::erase_if(trace_.mutable_counters(),
                  [](const CounterSample& c) { return c.track == kNoTrack; });
  }
}

Trace PerfettoDecoder::Finish() {
  if (pairing_ == Pairing::kBuffered) PairBufferedEvents();
  CloseOpenSlices();
  std::vector<TrackId> model_track(tracks_.size(), kNoTrack);
  ResolveTracks(model_track);
  MapEventsToModelTracks(model_track);
  // Each uuid's events are in time order, uuids interleaved as the file had them:
  // SortEvents groups them by model track in one linear pass and sorts only the tracks
  // that need it (several uuids on one model track, or equal starts, longer slice second).
  trace_.SortEvents();
  if (saw_metadata_) {
    trace_.mutable_metadata() = std::move(file_metadata_);
  } else if (saw_marker_) {
    trace_.mutable_metadata().producer = "scopetrace";
  }
  args_.clear();
  return std::move(trace_);
}

}  // namespace scopetrace::exporters
