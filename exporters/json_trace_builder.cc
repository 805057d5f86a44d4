#include "exporters/json_trace_builder.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "exporters/json_flow.h"
#include "exporters/json_number.h"
#include "fmt/format.h"

namespace scopetrace::exporters::json {
namespace {

// pids/tids given as non-numeric strings get ids from here on, far from real and device pids.
constexpr int64_t kStringIdBase = int64_t{1} << 48;
// Binding a flow to its enclosing slice looks back at most this many slices on the track.
constexpr int kMaxEnclosingScan = 4096;

std::string_view TextOf(const Value* value) {
  return value != nullptr && (value->is_string() || value->is_number()) ? value->text
                                                                        : std::string_view();
}

bool TimeOf(const Value* value, int64_t* ns) {
  const std::string_view text = TextOf(value);
  if (text.empty()) return false;
  if (ParseMicrosAsNs(text, ns)) return true;
  double us = 0;
  if (!ParseDouble(text, &us) || !std::isfinite(us) || std::fabs(us) > 9e15) return false;
  *ns = std::llround(us * 1000);
  return true;
}

// Flow ids: numbers as they are, strings as hex like Perfetto (others hashed, still stable).
bool FlowIdOf(const Value* value, uint64_t* id) {
  if (value == nullptr) return false;
  if (value->is_number()) {
    int64_t signed_id = 0;
    if (ParseUint64(value->text, id)) return true;
    if (ParseInt64(value->text, &signed_id)) {
      *id = static_cast<uint64_t>(signed_id);
      return true;
    }
    return false;
  }
  if (!value->is_string()) return false;
  if (!ParseHexUint64(value->text, id)) *id = std::hash<std::string_view>()(value->text) | 1;
  return true;
}

bool IsTrue(const Value* value) {
  return value != nullptr && value->type == Type::kBool && value->boolean;
}

int32_t ClampInt32(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

}  // namespace

TraceBuilder::TraceBuilder() { correlation_key_ = trace_.intern("correlation_id"); }

int64_t TraceBuilder::IdOf(const Value* value, bool is_pid) {
  if (value == nullptr) return 0;
  int64_t id = 0;
  if (ParseInt64(TextOf(value), &id)) return id;
  if (value->is_number()) {
    double d = 0;
    return ParseDouble(value->text, &d) && std::isfinite(d) && std::fabs(d) < 9e18
               ? static_cast<int64_t>(d)
               : 0;
  }
  if (!value->is_string()) return 0;
  auto [it, inserted] = string_ids_.try_emplace(
      std::string(value->text), kStringIdBase + static_cast<int64_t>(string_ids_.size()));
  if (inserted && is_pid) {
    // A process named only by its pid string shows that string until an M event names it.
    ProcessOf(it->second).name = it->first;
  }
  return it->second;
}

TraceBuilder::PendingProcess& TraceBuilder::ProcessOf(int64_t pid) {
  auto [it, inserted] = process_index_.try_emplace(pid, processes_.size());
  if (inserted) processes_.push_back(PendingProcess{.pid = pid});
  return processes_[it->second];
}

TrackId TraceBuilder::ThreadTrack(int64_t pid, int64_t tid) {
  // Events come in runs on one thread: skip the hash lookup for a repeat.
  if (last_thread_.has_value() && last_thread_->first == std::pair(pid, tid)) {
    return last_thread_->second;
  }
  auto [it, inserted] =
      thread_tracks_.try_emplace(std::pair(pid, tid), static_cast<TrackId>(tracks_.size()));
  if (inserted) {
    ProcessOf(pid);
    tracks_.push_back(PendingTrack{.counter = false, .pid = pid, .tid = tid});
  }
  last_thread_.emplace(std::pair(pid, tid), it->second);
  return it->second;
}

TrackId TraceBuilder::CounterTrack(int64_t pid, std::string_view name) {
  auto [it, inserted] = counter_tracks_.try_emplace(std::pair(pid, std::string(name)),
                                                    static_cast<TrackId>(tracks_.size()));
  if (inserted) {
    ProcessOf(pid);
    tracks_.push_back(PendingTrack{
        .counter = true, .pid = pid, .tid = 0, .name = std::string(name), .has_name = true});
  }
  return it->second;
}

std::vector<Arg> TraceBuilder::ConvertArgs(const Value* args, uint64_t* correlation_id) {
  std::vector<Arg> out;
  if (args == nullptr || args->type != Type::kObject) return out;
  // A lone member is often the correlation id, which has its own field: then no vector.
  if (args->members.size() > 1) out.reserve(args->members.size());
  for (const Member& member : args->members) {
    const Value& v = member.value;
    uint64_t correlation = 0;
    if (correlation_id != nullptr && member.key == "correlation_id" && v.is_number() &&
        ParseUint64(v.text, &correlation)) {
      *correlation_id = correlation;
      continue;
    }
    Arg arg{.key = trace_.intern(member.key)};
    switch (v.type) {
      case Type::kNumber: {
        int64_t i = 0;
        double d = 0;
        if (ParseInt64(v.text, &i)) {
          arg.value = i;
        } else if (ParseDouble(v.text, &d)) {
          arg.value = d;
        } else {
          arg.value = std::string(v.text);
        }
        break;
      }
      case Type::kBool:
        arg.value = v.boolean;
        break;
      case Type::kString:
        arg.value = std::string(v.text);
        break;
      case Type::kNull:  // the writer's spelling of NaN
        arg.value = std::numeric_limits<double>::quiet_NaN();
        break;
      case Type::kArray:
      case Type::kObject: {
        std::string text;
        AppendValueAsJson(v, &text);
        arg.value = std::move(text);
        break;
      }
    }
    out.push_back(std::move(arg));
  }
  return out;
}

void TraceBuilder::AddSlice(Slice slice) { last_slice_ = slices_.Add(std::move(slice)); }

void TraceBuilder::MoveSlicesIntoTrace() {
  slices_.MoveInto(&trace_.mutable_slices());
  last_slice_.reset();
}

void TraceBuilder::AddEvent(const Event& event) {
  if (!event.is_object) return;
  const std::string_view ph = TextOf(event.Get(EventKey::kPh));
  if (ph.empty()) return;
  const char phase = ph[0];
  const std::string_view name = TextOf(event.Get(EventKey::kName));
  const std::string_view cat = TextOf(event.Get(EventKey::kCat));
  const bool is_instant = phase == 'i' || phase == 'I' || phase == 'n' || phase == 'R';
  if (is_instant && cat == kFlowCategory && name == kFlowName) {
    // Our flow marker (a quarter of our files' events) adds nothing, but a string pid or
    // tid still gets its id here, in file order, as for any other event.
    for (const EventKey key : {EventKey::kPid, EventKey::kTid}) {
      const Value* id = event.Get(key);
      if (id != nullptr && id->is_string()) IdOf(id, /*is_pid=*/key == EventKey::kPid);
    }
    return;
  }
  const int64_t pid = IdOf(event.Get(EventKey::kPid), /*is_pid=*/true);
  const int64_t tid = IdOf(event.Get(EventKey::kTid), /*is_pid=*/false);
  int64_t ts_ns = 0;
  TimeOf(event.Get(EventKey::kTs), &ts_ns);
  if (phase == 's' || phase == 't' || phase == 'f') {
    AddFlowPhase(phase, event, ThreadTrack(pid, tid), ts_ns);
    return;
  }
  last_slice_.reset();
  switch (phase) {
    case 'X':
    case 'B': {
      Slice slice{.track = ThreadTrack(pid, tid),
                  .name = trace_.intern(name),
                  .category = trace_.intern(cat),
                  .start_ns = ts_ns};
      slice.args = ConvertArgs(event.Get(EventKey::kArgs), &slice.correlation_id);
      uint64_t bind_id = 0;
      if (FlowIdOf(event.Get(EventKey::kBindId), &bind_id)) {
        if (IsTrue(event.Get(EventKey::kFlowOut))) slice.flow_out = bind_id;
        if (IsTrue(event.Get(EventKey::kFlowIn))) slice.flow_in = bind_id;
      }
      if (phase == 'B') {
        open_slices_[slice.track].push_back(std::move(slice));
        break;
      }
      TimeOf(event.Get(EventKey::kDur), &slice.dur_ns);
      slice.dur_ns = std::max<int64_t>(slice.dur_ns, 0);
      AddSlice(std::move(slice));
      break;
    }
    case 'E': {
      auto it = open_slices_.find(ThreadTrack(pid, tid));
      if (it == open_slices_.end() || it->second.empty()) break;  // E without B: nothing to end
      Slice slice = std::move(it->second.back());
      it->second.pop_back();
      // Hostile files can hold any timestamps: overflow means "no duration", not UB.
      if (__builtin_sub_overflow(ts_ns, slice.start_ns, &slice.dur_ns)) slice.dur_ns = 0;
      slice.dur_ns = std::max<int64_t>(slice.dur_ns, 0);
      for (Arg& arg : ConvertArgs(event.Get(EventKey::kArgs), &slice.correlation_id)) {
        slice.args.push_back(std::move(arg));
      }
      AddSlice(std::move(slice));
      break;
    }
    case 'C':
      AddCounter(event, pid, ts_ns);
      break;
    case 'M':
      AddMetadataEvent(event, pid, tid);
      break;
    default:
      if (is_instant) {
        trace_.mutable_instants().push_back(
            Instant{.track = ThreadTrack(pid, tid),
                    .name = trace_.intern(name),
                    .category = trace_.intern(cat),
                    .ts_ns = ts_ns,
                    .args = ConvertArgs(event.Get(EventKey::kArgs), nullptr)});
      }
      // Async (b/e), object and sample events have no place in the model.
      break;
  }
}

void TraceBuilder::AddCounter(const Event& event, int64_t pid, int64_t ts_ns) {
  const Value* args = event.Get(EventKey::kArgs);
  if (args == nullptr || args->type != Type::kObject) return;
  const std::string_view name = TextOf(event.Get(EventKey::kName));
  const bool single_value = args->members.size() == 1 && args->members[0].key == "value";
  for (const Member& member : args->members) {
    double value = 0;
    if (member.value.type == Type::kBool) {
      value = member.value.boolean ? 1 : 0;
    } else if (member.value.type == Type::kNull) {
      value = std::numeric_limits<double>::quiet_NaN();  // the writer's NaN
    } else if (!ParseDouble(TextOf(&member.value), &value)) {
      continue;
    }
    const TrackId track = single_value ? CounterTrack(pid, name)
                                       : CounterTrack(pid, fmt::format("{}.{}", name, member.key));
    trace_.mutable_counters().push_back(
        CounterSample{.track = track, .ts_ns = ts_ns, .value = value});
  }
}

void TraceBuilder::AddMetadataEvent(const Event& event, int64_t pid, int64_t tid) {
  const std::string_view name = TextOf(event.Get(EventKey::kName));
  const Value* args = event.Get(EventKey::kArgs);
  if (args == nullptr) return;
  if (name == "process_name" || name == "thread_name") {
    const Value* value = args->Find("name");
    if (value == nullptr || !value->is_string()) return;
    if (name == "process_name") {
      PendingProcess& process = ProcessOf(pid);
      process.name = std::string(value->text);
      process.has_name = true;
      process.device = process.device || IsTrue(args->Find("device"));
    } else {
      PendingTrack& track = tracks_[ThreadTrack(pid, tid)];
      track.name = std::string(value->text);
      track.has_name = true;
      // Our writer shifts stream tids by one and names the real index here; events keep
      // finding the track by the tid in the file.
      int64_t stream = 0;
      if (ParseInt64(TextOf(args->Find("stream")), &stream)) {
        track.tid = stream;
        track.device_stream = true;
      }
    }
  } else if (name == "process_sort_index" || name == "thread_sort_index") {
    int64_t index = 0;
    if (!ParseInt64(TextOf(args->Find("sort_index")), &index)) return;
    if (name == "process_sort_index") {
      ProcessOf(pid).sort_index = ClampInt32(index);
    } else {
      tracks_[ThreadTrack(pid, tid)].sort_index = ClampInt32(index);
    }
  }
}

void TraceBuilder::BindFlow(Slice& slice, char phase, uint64_t id) {
  // A slice holds one flow each way; further flows through it are dropped.
  if ((phase == 'f' || phase == 't') && slice.flow_in == 0) slice.flow_in = id;
  if ((phase == 's' || phase == 't') && slice.flow_out == 0) slice.flow_out = id;
}

void TraceBuilder::AddFlowPhase(char phase, const Event& event, TrackId track, int64_t ts_ns) {
  uint64_t id = 0;
  if (!FlowIdOf(event.Get(EventKey::kId), &id) || id == 0) return;
  // Our writer puts each phase right after the slice it belongs to: bind exactly.
  if (last_slice_.has_value()) {
    Slice& slice = slices_.At(*last_slice_);
    if (slice.track == track && slice.start_ns == ts_ns) {
      BindFlow(slice, phase, id);
      return;
    }
  }
  const bool enclosing = phase != 'f' || TextOf(event.Get(EventKey::kBp)) == "e";
  pending_flows_.push_back(PendingFlow{
      .track = track, .ts_ns = ts_ns, .id = id, .phase = phase, .enclosing = enclosing});
}

void TraceBuilder::ResolvePendingFlows() {
  if (pending_flows_.empty()) return;
  std::vector<Slice>& slices = trace_.mutable_slices();
  absl::flat_hash_map<TrackId, std::vector<size_t>> by_track;
  for (size_t i = 0; i < slices.size(); ++i) by_track[slices[i].track].push_back(i);
  for (auto& [track, indices] : by_track) {
    std::sort(indices.begin(), indices.end(), [&](size_t a, size_t b) {
      if (slices[a].start_ns != slices[b].start_ns) return slices[a].start_ns < slices[b].start_ns;
      return slices[a].dur_ns > slices[b].dur_ns;
    });
  }
  for (const PendingFlow& flow : pending_flows_) {
    auto it = by_track.find(flow.track);
    if (it == by_track.end()) continue;
    const std::vector<size_t>& indices = it->second;
    auto starts_after =
        std::upper_bound(indices.begin(), indices.end(), flow.ts_ns,
                         [&](int64_t ts, size_t index) { return ts < slices[index].start_ns; });
    Slice* target = nullptr;
    if (!flow.enclosing) {
      // Chrome binds a plain flow end to the next slice that begins at or after it.
      auto next =
          std::lower_bound(indices.begin(), indices.end(), flow.ts_ns,
                           [&](size_t index, int64_t ts) { return slices[index].start_ns < ts; });
      if (next != indices.end()) target = &slices[*next];
    }
    // Otherwise the innermost slice containing ts: the latest start, then the shortest.
    int scanned = 0;
    for (auto k = starts_after;
         target == nullptr && k != indices.begin() && scanned < kMaxEnclosingScan; ++scanned) {
      --k;
      Slice& candidate = slices[*k];
      // ts - start in unsigned arithmetic: start <= ts, and end_ns() may overflow.
      const uint64_t offset =
          static_cast<uint64_t>(flow.ts_ns) - static_cast<uint64_t>(candidate.start_ns);
      if (offset < static_cast<uint64_t>(candidate.dur_ns) || offset == 0) target = &candidate;
    }
    if (target != nullptr) BindFlow(*target, flow.phase, flow.id);
  }
  pending_flows_.clear();
}

Trace TraceBuilder::Finish() {
  MoveSlicesIntoTrace();
  open_slices_.clear();  // a B never ended has no duration to report
  ResolvePendingFlows();
  BuildLayout();
  if (layout_.has_value()) trace_.mutable_metadata() = std::move(layout_->metadata);
  trace_.SortEvents();
  return std::move(trace_);
}

}  // namespace scopetrace::exporters::json
