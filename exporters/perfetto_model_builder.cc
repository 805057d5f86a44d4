// PerfettoDecoder::Finish: from Perfetto tracks (uuids, descriptors, parent chains) to
// scopetrace's processes and tracks, and the events into the model's order.

#include <algorithm>
#include <charconv>

#include "exporters/perfetto_decoder.h"
#include "exporters/perfetto_decoder_pairing.h"
#include "exporters/perfetto_fields.h"
#include "src/event_sort.h"

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

void PerfettoDecoder::ResolveTracks(Trace& into, std::vector<TrackId>& model_track) const {
  auto add_process = [&](int64_t pid, std::string_view name, int32_t sort_index, bool device) {
    Process p;
    p.pid = pid;
    p.name = std::string(name);
    p.sort_index = sort_index;
    p.is_device = device;
    into.add_process(std::move(p));
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
      t = into.find_or_add_track(kind, d.ext_pid, d.ext_tid, d.ext_name);
      into.mutable_tracks()[t].sort_index = d.ext_sort_index;
    } else if (!d.has_ext && d.has_thread) {
      add_process(d.pid, "", 0, d.pid >= kDevicePidBase);
      t = into.find_or_add_track(TrackKind::kThread, d.pid, d.tid, d.thread_name);
    } else if (d.has_process || (d.has_ext && d.ext_kind == pf::kStKindProcess)) {
      if (d.event_count == 0) continue;
      const int64_t pid = d.has_ext ? d.ext_pid : d.pid;
      const std::string& name = d.has_ext ? d.ext_name : d.process_name;
      t = into.find_or_add_track(TrackKind::kThread, pid, synthetic_tid, name);
    } else if (!d.described) {
      add_process(0, "", 0, false);
      t = into.find_or_add_track(TrackKind::kThread, 0, d.uuid == 0 ? 0 : synthetic_tid,
                                 d.uuid == 0 ? "global" : "");
    } else {
      bool device = false;
      const int64_t pid = AncestorPid(d, &device);
      add_process(pid, "", 0, device);
      if (d.is_counter) {
        t = into.find_or_add_track(TrackKind::kCounter, pid, 0, d.name);
      } else if (device) {
        t = into.find_or_add_track(TrackKind::kDeviceStream, pid,
                                   StreamIndex(d.name, synthetic_tid), d.name);
      } else {
        t = into.find_or_add_track(TrackKind::kThread, pid, synthetic_tid, d.name);
      }
    }
    model_track[i] = t;
  }
}

void PerfettoDecoder::GuessModelTrack(uint32_t track) {
  TrackDesc& desc = tracks_[track];
  desc.guess = kNoTrack;  // Finish rewrites its slices
  desc.guess_device = false;
  if (tracks_.size() > kMaxGuessTracks) return;
  // What Finish would make of the tracks known now. Descriptors and uuids that come later
  // can change it (Finish checks), but files put descriptors before their events.
  Trace scratch;
  std::vector<TrackId> model_track(tracks_.size(), kNoTrack);
  ResolveTracks(scratch, model_track);
  desc.guess = model_track[track];
  desc.guess_device =
      desc.guess != kNoTrack && scratch.tracks()[desc.guess].kind == TrackKind::kDeviceStream;
}

void PerfettoDecoder::PlaceSlices(const std::vector<TrackId>& model_track) {
  std::vector<Slice>& slices = trace_.mutable_slices();
  const std::vector<Track>& tracks = trace_.tracks();
  auto is_device = [&](TrackId t) {
    return t != kNoTrack && tracks[t].kind == TrackKind::kDeviceStream;
  };
  // Runs whose uuid was guessed wrong: the right track, and the op kind that goes with it.
  bool unmapped = false;
  for (size_t r = 0; r < slice_runs_.size(); ++r) {
    const TrackDesc& desc = tracks_[slice_runs_[r].track];
    const TrackId t = model_track[slice_runs_[r].track];
    unmapped = unmapped || t == kNoTrack;
    const bool device = is_device(t);
    if (t == desc.guess && device == desc.guess_device) continue;
    const size_t end = r + 1 < slice_runs_.size() ? slice_runs_[r + 1].begin : slices.size();
    for (size_t i = slice_runs_[r].begin; i < end; ++i) {
      slices[i].track = t;
      slices[i].op_kind = device ? OpKindOf(slices[i].category) : DeviceOpKind::kNone;
    }
  }
  // Each run is in the model's order unless its uuid had ties; the whole vector is if the
  // runs also follow each other in track order and, where two runs share a track, the
  // first slice of the second does not go before the last of the first. Checked on the
  // runs alone: no pass over the slices.
  auto key = [](const Slice& s) { return internal::TimeKey{s.start_ns, ~s.dur_ns}; };
  bool sorted = !unmapped;
  for (size_t r = 0; sorted && r < slice_runs_.size(); ++r) {
    sorted = !tracks_[slice_runs_[r].track].ties;
    if (!sorted || r == 0) continue;
    const TrackId before = model_track[slice_runs_[r - 1].track];
    const TrackId now = model_track[slice_runs_[r].track];
    const uint32_t first = slice_runs_[r].begin;
    sorted = before < now || (before == now && !(key(slices[first]) < key(slices[first - 1])));
  }
  std::vector<SliceRun>().swap(slice_runs_);
  if (sorted) return;
  // ResolveTracks maps every uuid that has events; this only guards that promise.
  if (unmapped) std::erase_if(slices, [](const Slice& s) { return s.track == kNoTrack; });
  internal::SortByTrackAndTime(
      slices, [](const Slice& s) { return s.track; }, key);
}

void PerfettoDecoder::MapPointsToModelTracks(const std::vector<TrackId>& model_track) {
  bool unmapped = false;
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
    std::erase_if(trace_.mutable_instants(), [](const Instant& i) { return i.track == kNoTrack; });
    std::erase_if(trace_.mutable_counters(),
                  [](const CounterSample& c) { return c.track == kNoTrack; });
  }
  internal::SortByTrackAndTime(
      trace_.mutable_instants(), [](const Instant& i) { return i.track; },
      [](const Instant& i) {
        return internal::TimeKey{i.ts_ns, 0};
      });
  internal::SortByTrackAndTime(
      trace_.mutable_counters(), [](const CounterSample& c) { return c.track; },
      [](const CounterSample& c) {
        return internal::TimeKey{c.ts_ns, 0};
      });
}

Trace PerfettoDecoder::Finish() {
  if (pairing_ == Pairing::kBuffered) PairBufferedEvents();
  CloseOpenSlices();
  // The slices are all there (the populator may still be mapping ahead of them): from here
  // on they are moved and reordered, not appended to.
  populator_.Stop();
  std::vector<TrackId> model_track(tracks_.size(), kNoTrack);
  ResolveTracks(trace_, model_track);
  // The orders Trace::SortEvents gives (the same sorts), without a pass over slices that
  // are in order already. Each uuid's events are in time order, uuids interleaved as the
  // file had them: the sort groups them by model track in one linear pass and sorts only
  // the tracks that need it (several uuids on one model track, or equal starts, longer
  // slice second).
  PlaceSlices(model_track);
  MapPointsToModelTracks(model_track);
  if (saw_metadata_) {
    trace_.mutable_metadata() = std::move(file_metadata_);
  } else if (saw_marker_) {
    trace_.mutable_metadata().producer = "scopetrace";
  }
  args_.clear();
  return std::move(trace_);
}

}  // namespace scopetrace::exporters
