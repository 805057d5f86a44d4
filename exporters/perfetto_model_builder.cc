// PerfettoDecoder::Finish: from Perfetto tracks (uuids, descriptors, parent chains) to
// scopetrace's processes and tracks, and from BEGIN/END events to slices.

#include <algorithm>
#include <charconv>

#include "exporters/perfetto_decoder.h"
#include "exporters/perfetto_fields.h"

namespace scopetrace::exporters {
namespace {

// end - begin for timestamps from the file, which may be hostile: computed without signed
// overflow, and 0 when the end precedes the begin.
int64_t NonNegativeSpan(int64_t begin, int64_t end) {
  if (end <= begin) return 0;
  const uint64_t span = static_cast<uint64_t>(end) - static_cast<uint64_t>(begin);
  return span > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(span);
}

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
    if (!tracks_[i].described && !tracks_[i].events.empty()) order.push_back(i);
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
      if (d.events.empty()) continue;
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

void PerfettoDecoder::PairEvents(TrackDesc& desc, TrackId track) {
  std::vector<RawEvent>& events = desc.events;
  auto by_ts = [](const RawEvent& a, const RawEvent& b) { return a.ts < b.ts; };
  // Our files are in time order per track; other writers' need not be (TP sorts too,
  // stable on file order).
  if (!std::is_sorted(events.begin(), events.end(), by_ts)) {
    std::stable_sort(events.begin(), events.end(), by_ts);
  }
  const bool device = trace_.tracks()[track].kind == TrackKind::kDeviceStream;
  std::vector<Slice>& slices = trace_.mutable_slices();
  auto take_args = [&](const RawEvent& e) {
    auto first = args_.begin() + e.args_begin;
    return std::vector<Arg>(std::make_move_iterator(first),
                            std::make_move_iterator(first + e.args_count));
  };
  std::vector<size_t> open;
  for (const RawEvent& e : events) {
    switch (e.type) {
      case pf::kTypeSliceBegin: {
        Slice s;
        s.track = track;
        s.name = e.name;
        s.category = e.category;
        s.start_ns = e.ts;
        s.correlation_id = e.correlation_id;
        s.flow_out = e.flow_out;
        s.flow_in = e.flow_in;
        if (e.args_count > 0) s.args = take_args(e);
        if (device) s.op_kind = DeviceOpKindFromCategory(trace_.str(e.category));
        open.push_back(slices.size());
        slices.push_back(std::move(s));
        break;
      }
      case pf::kTypeSliceEnd: {
        if (open.empty()) break;  // an END without an open slice is ignored, as in TP
        Slice& s = slices[open.back()];
        open.pop_back();
        s.dur_ns = NonNegativeSpan(s.start_ns, e.ts);
        // What an END carries belongs to the slice it closes.
        if (e.args_count > 0) {
          for (Arg& a : take_args(e)) s.args.push_back(std::move(a));
        }
        if (s.flow_out == 0) s.flow_out = e.flow_out;
        if (s.flow_in == 0) s.flow_in = e.flow_in;
        if (s.correlation_id == 0) s.correlation_id = e.correlation_id;
        break;
      }
      case pf::kTypeInstant: {
        Instant i;
        i.track = track;
        i.name = e.name;
        i.category = e.category;
        i.ts_ns = e.ts;
        if (e.args_count > 0) i.args = take_args(e);
        trace_.mutable_instants().push_back(std::move(i));
        break;
      }
      case pf::kTypeCounter:
        trace_.mutable_counters().push_back(CounterSample{track, e.ts, e.value});
        break;
      default:
        break;  // legacy or state events: not part of the model
    }
  }
  // Never ended (the file was cut): they last until the last timestamp in the file.
  for (size_t i : open) slices[i].dur_ns = NonNegativeSpan(slices[i].start_ns, max_ts_);
  std::vector<RawEvent>().swap(events);
}

Trace PerfettoDecoder::Finish() {
  std::vector<TrackId> model_track(tracks_.size(), kNoTrack);
  ResolveTracks(model_track);
  size_t begins = 0, points = 0;
  for (const TrackDesc& d : tracks_) {
    for (const RawEvent& e : d.events) {
      begins += e.type == pf::kTypeSliceBegin;
      points += e.type == pf::kTypeInstant || e.type == pf::kTypeCounter;
    }
  }
  trace_.mutable_slices().reserve(begins);  // no regrowth moving slices and their args
  trace_.mutable_counters().reserve(points);
  // Events go out grouped by model track in TrackId order, each group sorted the way
  // Trace::SortEvents wants it, so its is_sorted fast path applies instead of a full
  // sort of every slice. Several uuids (overflow lanes) may map to one model track: only
  // such a group needs a sort of its own (ties keep uuid order, as SortEvents would).
  std::vector<uint32_t> by_track;
  by_track.reserve(tracks_.size());
  for (uint32_t i = 0; i < tracks_.size(); ++i) {
    if (!tracks_[i].events.empty() && model_track[i] != kNoTrack) by_track.push_back(i);
  }
  std::stable_sort(by_track.begin(), by_track.end(),
                   [&](uint32_t a, uint32_t b) { return model_track[a] < model_track[b]; });
  std::vector<Slice>& slices = trace_.mutable_slices();
  std::vector<CounterSample>& counters = trace_.mutable_counters();
  std::vector<Instant>& instants = trace_.mutable_instants();
  for (size_t g = 0; g < by_track.size();) {
    const TrackId track = model_track[by_track[g]];
    const size_t s0 = slices.size(), c0 = counters.size(), i0 = instants.size();
    size_t members = 0;
    for (; g < by_track.size() && model_track[by_track[g]] == track; ++g, ++members) {
      PairEvents(tracks_[by_track[g]], track);
    }
    if (members < 2) continue;
    std::stable_sort(slices.begin() + s0, slices.end(), [](const Slice& a, const Slice& b) {
      return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.dur_ns > b.dur_ns;
    });
    std::stable_sort(
        counters.begin() + c0, counters.end(),
        [](const CounterSample& a, const CounterSample& b) { return a.ts_ns < b.ts_ns; });
    std::stable_sort(instants.begin() + i0, instants.end(),
                     [](const Instant& a, const Instant& b) { return a.ts_ns < b.ts_ns; });
  }
  trace_.SortEvents();  // a no-op pass unless the input had unusual ties
  if (saw_metadata_) {
    trace_.mutable_metadata() = std::move(file_metadata_);
  } else if (saw_marker_) {
    trace_.mutable_metadata().producer = "scopetrace";
  }
  args_.clear();
  return std::move(trace_);
}

}  // namespace scopetrace::exporters
