// PerfettoDecoder's bookkeeping packets: sequences and their incremental state, packet
// defaults, interned data, clock snapshots and track descriptors.

#include "exporters/perfetto_decoder_state.h"

#include "exporters/perfetto_fields.h"
#include "exporters/proto_wire.h"

namespace scopetrace::exporters {

using wire::Decoder;
using wire::Field;

StringId IidMap::GetSparse(uint64_t iid) const {
  auto it = sparse.find(iid);
  return it == sparse.end() ? kMissingString : it->second;
}

PerfettoDecoder::Sequence& PerfettoDecoder::FindSequence(uint32_t id) {
  std::unique_ptr<Sequence>& seq = sequences_[id];
  if (seq == nullptr) seq = std::make_unique<Sequence>();
  last_sequence_id_ = id;
  last_sequence_ = seq.get();
  return *seq;
}

uint32_t PerfettoDecoder::FindTrack(uint64_t uuid) {
  // Small uuids (ours count up from 1) skip the hash map: events of interleaved tracks
  // would otherwise look it up on nearly every packet.
  if (uuid < kDenseUuids && uuid < dense_tracks_.size() && dense_tracks_[uuid] != 0) {
    last_uuid_ = uuid;
    last_track_ = dense_tracks_[uuid] - 1;
    return last_track_;
  }
  auto [it, inserted] = track_index_.try_emplace(uuid, static_cast<uint32_t>(tracks_.size()));
  if (inserted) {
    tracks_.emplace_back();
    tracks_.back().uuid = uuid;
  }
  last_uuid_ = uuid;
  last_track_ = it->second;
  if (uuid < kDenseUuids) {
    if (dense_tracks_.size() <= uuid) dense_tracks_.resize(uuid + 1, 0);
    dense_tracks_[uuid] = it->second + 1;
  }
  return last_track_;
}

int64_t PerfettoDecoder::ToTraceTime(Sequence& seq, uint32_t clock_id, uint64_t ts) {
  if (clock_id == 0 || clock_id == trace_clock_) return static_cast<int64_t>(ts);
  ClockState* clock = nullptr;
  const bool sequence_scoped = clock_id >= 64 && clock_id <= 127;
  if (sequence_scoped && clock_id == seq.last_clock_id) {
    clock = seq.last_clock;
  } else {
    auto& clocks = sequence_scoped ? seq.clocks : global_clocks_;
    auto it = clocks.find(clock_id);
    if (it != clocks.end()) clock = it->second.get();
    if (clock == nullptr) return static_cast<int64_t>(ts);  // unknown clock: taken as-is
    if (sequence_scoped) {
      seq.last_clock_id = clock_id;
      seq.last_clock = clock;
    }
  }
  // Unsigned (wrapping) arithmetic: hostile deltas and offsets must not overflow a
  // signed integer (undefined behaviour; found by perfetto_reader_fuzzer).
  const uint64_t ns = ts * clock->multiplier;
  const auto offset = static_cast<uint64_t>(clock->offset_ns);
  if (clock->incremental) {
    clock->running_ns = static_cast<int64_t>(static_cast<uint64_t>(clock->running_ns) + ns);
    return static_cast<int64_t>(static_cast<uint64_t>(clock->running_ns) + offset);
  }
  return static_cast<int64_t>(ns + offset);
}

void PerfettoDecoder::DecodeDefaults(Sequence& seq, std::string_view bytes) {
  Decoder d(bytes);
  Field f;
  while (d.Next(f)) {
    if (f.number == pf::kDefaultsClockId) {
      seq.default_clock = static_cast<uint32_t>(f.value);
    } else if (f.number == pf::kDefaultsTrackEvent) {
      Decoder te(f.bytes);
      Field g;
      while (te.Next(g)) {
        if (g.number == pf::kDefaultsTrackUuid) seq.default_track = g.value;
      }
    }
  }
}

void PerfettoDecoder::DecodeInterned(Sequence& seq, std::string_view bytes) {
  Decoder d(bytes);
  Field f;
  while (d.Next(f)) {
    IidMap* map = nullptr;
    switch (f.number) {
      case pf::kIdEventNames:
        map = &seq.names;
        break;
      case pf::kIdEventCategories:
        map = &seq.categories;
        break;
      case pf::kIdDebugAnnotationNames:
        map = &seq.arg_names;
        break;
      case pf::kIdDebugAnnotationStrings:
        map = &seq.arg_strings;
        break;
      default:
        continue;
    }
    Decoder entry(f.bytes);
    Field g;
    uint64_t iid = 0;
    std::string_view text;
    while (entry.Next(g)) {
      if (g.number == pf::kInternedIid) iid = g.value;
      if (g.number == pf::kInternedName) text = g.bytes;
    }
    if (iid != 0) map->Set(iid, trace_.intern(text));
  }
}

void PerfettoDecoder::DecodeSnapshot(Sequence& seq, std::string_view bytes) {
  struct Reading {
    uint32_t id = 0;
    uint64_t ts = 0;
    bool incremental = false;
    uint64_t multiplier = 1;
  };
  std::vector<Reading> readings;
  Decoder d(bytes);
  Field f;
  while (d.Next(f)) {
    if (f.number == pf::kSnapshotPrimaryClock && f.value != 0) {
      trace_clock_ = static_cast<uint32_t>(f.value);
    } else if (f.number == pf::kSnapshotClocks) {
      Reading r;
      Decoder c(f.bytes);
      Field g;
      while (c.Next(g)) {
        if (g.number == pf::kClockId) r.id = static_cast<uint32_t>(g.value);
        if (g.number == pf::kClockTimestamp) r.ts = g.value;
        if (g.number == pf::kClockIsIncremental) r.incremental = g.value != 0;
        if (g.number == pf::kClockUnitMultiplier && g.value != 0) r.multiplier = g.value;
      }
      readings.push_back(r);
    }
  }
  bool has_trace_time = false;
  int64_t trace_ns = 0;
  for (const Reading& r : readings) {
    if (r.id == trace_clock_) {
      has_trace_time = true;
      trace_ns = static_cast<int64_t>(r.ts * r.multiplier);
    }
  }
  for (const Reading& r : readings) {
    if (r.id == trace_clock_ || r.id == 0) continue;
    auto& clocks = r.id >= 64 && r.id <= 127 ? seq.clocks : global_clocks_;
    std::unique_ptr<ClockState>& clock = clocks[r.id];
    if (clock == nullptr) clock = std::make_unique<ClockState>();
    clock->multiplier = r.multiplier;
    clock->incremental = r.incremental;
    const int64_t ns = static_cast<int64_t>(r.ts * r.multiplier);
    clock->running_ns = ns;
    if (has_trace_time) clock->offset_ns = trace_ns - ns;
  }
}

bool PerfettoDecoder::DecodeTrackDescriptor(std::string_view bytes) {
  Decoder d(bytes);
  Field f;
  uint64_t uuid = 0;
  std::string_view process, thread, ext, name;
  bool has_parent = false, is_counter = false;
  uint64_t parent = 0;
  while (d.Next(f)) {
    switch (f.number) {
      case pf::kTdUuid:
        uuid = f.value;
        break;
      case pf::kTdParentUuid:
        parent = f.value;
        has_parent = true;
        break;
      case pf::kTdName:
      case pf::kTdStaticName:
      case pf::kTdAtraceName:
        name = f.bytes;
        break;
      case pf::kTdProcess:
        process = f.bytes;
        break;
      case pf::kTdThread:
        thread = f.bytes;
        break;
      case pf::kTdCounter:
        is_counter = true;
        break;
      case pf::kTdScopetraceTrack:
        ext = f.bytes;
        break;
      default:
        break;
    }
  }
  if (!d.ok()) return false;
  const uint32_t index = TrackIndex(uuid);
  TrackDesc& desc = tracks_[index];
  if (!desc.described) descriptor_order_.push_back(index);
  desc.described = true;
  if (has_parent) desc.parent = parent;
  desc.name = std::string(name);
  desc.is_counter = is_counter;
  if (!thread.empty()) {
    desc.has_thread = true;
    Decoder t(thread);
    while (t.Next(f)) {
      if (f.number == pf::kThdPid) desc.pid = static_cast<int32_t>(f.value);
      if (f.number == pf::kThdTid) desc.tid = static_cast<int64_t>(f.value);
      if (f.number == pf::kThdThreadName) desc.thread_name = std::string(f.bytes);
    }
  } else if (!process.empty()) {
    desc.has_process = true;
    Decoder p(process);
    while (p.Next(f)) {
      if (f.number == pf::kPdPid) desc.pid = static_cast<int32_t>(f.value);
      if (f.number == pf::kPdProcessName) desc.process_name = std::string(f.bytes);
    }
  }
  if (!ext.empty()) {
    desc.has_ext = true;
    Decoder e(ext);
    while (e.Next(f)) {
      switch (f.number) {
        case pf::kStKind:
          desc.ext_kind = static_cast<uint32_t>(f.value);
          break;
        case pf::kStPid:
          desc.ext_pid = f.as_int64();
          break;
        case pf::kStTid:
          desc.ext_tid = f.as_int64();
          break;
        case pf::kStName:
          desc.ext_name = std::string(f.bytes);
          break;
        case pf::kStSortIndex:
          desc.ext_sort_index = static_cast<int32_t>(f.value);
          break;
        case pf::kStIsDevice:
          desc.ext_is_device = f.value != 0;
          break;
        default:
          break;
      }
    }
  }
  return true;
}

}  // namespace scopetrace::exporters
