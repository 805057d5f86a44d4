#include "exporters/perfetto_stream_writer.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "exporters/perfetto_event_order.h"
#include "exporters/perfetto_fields.h"
#include "exporters/perfetto_metadata.h"
#include "exporters/perfetto_output.h"
#include "exporters/proto_wire.h"

namespace scopetrace::exporters {
namespace {

using wire::kFixed64;
using wire::kLen;
using wire::kVarint;
using wire::Tag;

// Any non-zero id works for a file we write ourselves; one sequence for the whole file.
constexpr uint32_t kSequence = 1;
// The encode buffer goes to the file (or zstd) once it holds this much.
constexpr size_t kFlushBytes = 1 << 20;
// Covers every fixed-size part of one event packet, nesting slack included.
constexpr size_t kPacketSlack = 256;
// Both clocks read this at the sequence start; timestamps then are deltas from it. Not 0:
// a zero clock reading is the one value we would rather not rely on trace_processor for.
constexpr int64_t kClockOrigin = 1;

// Interning tables (bits of `emitted_`): iids are shared between tables, each table gets
// its own entry the first time a string is used through it.
enum Table : uint8_t { kNames = 1, kCategories = 2, kArgNames = 4 };

constexpr uint32_t TableField(uint8_t table) {
  return table == kNames        ? pf::kIdEventNames
         : table == kCategories ? pf::kIdEventCategories
                                : pf::kIdDebugAnnotationNames;
}

size_t ArgsBound(const Trace& chunk, const std::vector<Arg>& args) {
  size_t n = 0;
  for (const Arg& a : args) {
    n += 48 + chunk.str(a.key).size();
    if (const std::string* s = std::get_if<std::string>(&a.value)) n += s->size();
  }
  return n;
}

}  // namespace

class PerfettoStreamWriter::Impl {
 public:
  explicit Impl(std::unique_ptr<PerfettoOutput> out) : out_(std::move(out)) {}

  absl::Status Start();
  absl::Status Append(const Trace& chunk);
  absl::Status Finish(const TraceMetadata& metadata);
  uint64_t bytes_written() const { return out_->bytes_written(); }
  uint64_t events_written() const { return events_; }

 private:
  struct TrackState {
    std::vector<uint64_t> lane_uuids;  // [0]: the track itself
    uint64_t parent_uuid = 0;
    // Device streams: per lane, the latest slice end written so far (see EventOrder).
    std::vector<int64_t> lane_floors;
    bool is_stream = false;
  };

  size_t BeginPacket() {
    buf_.Byte(Tag(pf::kTracePacket, kLen));
    const size_t body = buf_.size() + 1;
    buf_.Byte(0);
    buf_.VarintField(Tag(pf::kSequenceId, kVarint), kSequence);
    return body;
  }
  void EndPacket(size_t body) { buf_.EndNested(body); }

  uint64_t ProcessUuid(const Trace& chunk, int64_t pid);
  void ResolveTrack(const Trace& chunk, TrackId id);
  uint64_t LaneUuid(const Trace& chunk, TrackId id, uint32_t lane);
  void EmitTrackDescriptor(const Track& track, uint64_t uuid, uint64_t parent, uint32_t lane);
  uint64_t Intern(std::string_view text, Table table);
  uint64_t ChunkIid(const Trace& chunk, StringId id, Table table) {
    uint64_t& cached = chunk_iids_[table >> 1][id];
    if (cached == 0) cached = Intern(chunk.str(id), table);
    return cached;
  }
  void PutTimestamp(int64_t ts);
  void PutArgs(const Trace& chunk, const std::vector<Arg>& args);
  void PutPendingInterned();
  void EncodeEdge(const Trace& chunk, uint64_t uuid, const Edge& edge);
  absl::Status MaybeFlush() {
    if (buf_.size() < kFlushBytes) return absl::OkStatus();
    return Flush();
  }
  absl::Status Flush() {
    absl::Status s = out_->Write(buf_.data(), buf_.size());
    buf_.clear();
    return s;
  }

  std::unique_ptr<PerfettoOutput> out_;
  wire::Buffer buf_;
  EventOrder order_;
  uint64_t next_uuid_ = 1;
  int64_t clock_ = kClockOrigin;  // running value of the incremental clock
  std::unordered_map<int64_t, uint64_t> process_uuids_;
  absl::flat_hash_map<std::tuple<uint8_t, int64_t, int64_t, std::string>, size_t> track_index_;
  std::vector<TrackState> tracks_;
  std::unordered_map<std::string, uint64_t> iids_;
  std::vector<uint8_t> emitted_{0};  // per iid: the tables that already hold it
  struct Pending {
    uint8_t table;
    uint64_t iid;
    std::string_view text;
  };
  std::vector<Pending> pending_;
  // Per chunk: the iid of each StringId per table (0 = unresolved) and each track's state.
  std::vector<uint64_t> chunk_iids_[3];
  std::vector<size_t> chunk_tracks_;
  uint64_t op_category_iids_[8] = {};
  uint64_t correlation_iid_ = 0;
  uint64_t events_ = 0;
  bool finished_ = false;
};

absl::Status PerfettoStreamWriter::Impl::Start() {
  // First packet: clears the incremental state (so interned data counts), declares the
  // incremental clock 64 and makes it the sequence's default clock. Trace time is
  // BOOTTIME (the snapshot contains it); our CLOCK_MONOTONIC nanoseconds are written as
  // trace-time values unchanged, which is perfetto-format.md's "convert everything to one
  // clock yourself" choice: the UI shows times from the trace start either way.
  buf_.Reserve(kPacketSlack);
  const size_t p = BeginPacket();
  buf_.VarintField(Tag(pf::kSequenceFlags, kVarint),
                   pf::kSeqIncrementalStateCleared | pf::kSeqNeedsIncrementalState);
  buf_.VarintField(Tag(pf::kFirstPacketOnSequence, kVarint), 1);
  const size_t defaults = buf_.BeginNested(Tag(pf::kTracePacketDefaults, kLen));
  buf_.VarintField(Tag(pf::kDefaultsClockId, kVarint), pf::kIncrementalClock);
  buf_.EndNested(defaults);
  const size_t snapshot = buf_.BeginNested(Tag(pf::kClockSnapshot, kLen));
  size_t clock = buf_.BeginNested(Tag(pf::kSnapshotClocks, kLen));
  buf_.VarintField(Tag(pf::kClockId, kVarint), pf::kBuiltinClockBoottime);
  buf_.VarintField(Tag(pf::kClockTimestamp, kVarint), kClockOrigin);
  buf_.EndNested(clock);
  clock = buf_.BeginNested(Tag(pf::kSnapshotClocks, kLen));
  buf_.VarintField(Tag(pf::kClockId, kVarint), pf::kIncrementalClock);
  buf_.VarintField(Tag(pf::kClockTimestamp, kVarint), kClockOrigin);
  buf_.VarintField(Tag(pf::kClockIsIncremental, kVarint), 1);
  buf_.VarintField(Tag(pf::kClockUnitMultiplier, kVarint), 1);
  buf_.EndNested(clock);
  buf_.EndNested(snapshot);
  // The producer marker, in the same packet so that even a cut right after it is
  // recognized: a scopetrace file without the complete metadata packet at its end was cut
  // short, and the reader says so. trace_processor skips the field (unknown to it).
  TraceMetadata marker;
  marker.producer = "scopetrace";
  const std::string bytes = EncodeMetadata(marker, /*complete=*/false);
  buf_.Reserve(kPacketSlack + bytes.size());
  buf_.StringField(Tag(pf::kScopetraceMetadata, kLen), bytes);
  EndPacket(p);
  return Flush();
}

uint64_t PerfettoStreamWriter::Impl::Intern(std::string_view text, Table table) {
  auto [it, inserted] = iids_.try_emplace(std::string(text), emitted_.size());
  if (inserted) emitted_.push_back(0);
  const uint64_t iid = it->second;
  if ((emitted_[iid] & table) == 0) {
    emitted_[iid] |= table;
    pending_.push_back(Pending{table, iid, it->first});
  }
  return iid;
}

uint64_t PerfettoStreamWriter::Impl::ProcessUuid(const Trace& chunk, int64_t pid) {
  auto it = process_uuids_.find(pid);
  if (it != process_uuids_.end()) return it->second;
  Process process;
  process.pid = pid;
  process.is_device = pid >= kDevicePidBase;
  for (const Process& p : chunk.processes()) {
    if (p.pid == pid) process = p;
  }
  const uint64_t uuid = next_uuid_++;
  process_uuids_.emplace(pid, uuid);
  buf_.Reserve(kPacketSlack + 2 * process.name.size());
  const size_t p = BeginPacket();
  const size_t td = buf_.BeginNested(Tag(pf::kTrackDescriptor, kLen));
  buf_.VarintField(Tag(pf::kTdUuid, kVarint), uuid);
  const size_t pd = buf_.BeginNested(Tag(pf::kTdProcess, kLen));
  buf_.VarintField(Tag(pf::kPdPid, kVarint), static_cast<uint64_t>(pid));
  if (!process.name.empty()) buf_.StringField(Tag(pf::kPdProcessName, kLen), process.name);
  buf_.EndNested(pd);
  const size_t st = buf_.BeginNested(Tag(pf::kTdScopetraceTrack, kLen));
  buf_.VarintField(Tag(pf::kStKind, kVarint), pf::kStKindProcess);
  buf_.VarintField(Tag(pf::kStPid, kVarint), static_cast<uint64_t>(pid));
  buf_.StringField(Tag(pf::kStName, kLen), process.name);
  buf_.VarintField(Tag(pf::kStSortIndex, kVarint), static_cast<uint64_t>(process.sort_index));
  buf_.VarintField(Tag(pf::kStIsDevice, kVarint), process.is_device);
  buf_.EndNested(st);
  buf_.EndNested(td);
  EndPacket(p);
  return uuid;
}

void PerfettoStreamWriter::Impl::EmitTrackDescriptor(const Track& track, uint64_t uuid,
                                                     uint64_t parent, uint32_t lane) {
  buf_.Reserve(kPacketSlack + 3 * track.name.size());
  const size_t p = BeginPacket();
  const size_t td = buf_.BeginNested(Tag(pf::kTrackDescriptor, kLen));
  buf_.VarintField(Tag(pf::kTdUuid, kVarint), uuid);
  uint32_t kind = pf::kStKindThread;
  if (track.kind == TrackKind::kThread && lane == 0) {
    // A thread track: pid and tid are both required; its name is thread_name.
    const size_t thd = buf_.BeginNested(Tag(pf::kTdThread, kLen));
    buf_.VarintField(Tag(pf::kThdPid, kVarint), static_cast<uint64_t>(track.pid));
    buf_.VarintField(Tag(pf::kThdTid, kVarint), static_cast<uint64_t>(track.tid));
    if (!track.name.empty()) buf_.StringField(Tag(pf::kThdThreadName, kLen), track.name);
    buf_.EndNested(thd);
  } else {
    // Device streams, counters and overflow lanes: named children of their process (or
    // thread). Same-named siblings merge into one row in the UI, which is what overflow
    // lanes want; streams and counters have distinct names.
    buf_.VarintField(Tag(pf::kTdParentUuid, kVarint), parent);
    buf_.StringField(Tag(pf::kTdName, kLen), track.name);
    if (track.kind == TrackKind::kCounter) {
      buf_.VarintField(Tag(pf::kTdCounter, kLen), 0);  // `counter {}`: 42 00, presence matters
      kind = pf::kStKindCounter;
    } else if (track.kind == TrackKind::kDeviceStream) {
      kind = pf::kStKindDeviceStream;
    }
  }
  const size_t st = buf_.BeginNested(Tag(pf::kTdScopetraceTrack, kLen));
  buf_.VarintField(Tag(pf::kStKind, kVarint), kind);
  buf_.VarintField(Tag(pf::kStPid, kVarint), static_cast<uint64_t>(track.pid));
  buf_.VarintField(Tag(pf::kStTid, kVarint), static_cast<uint64_t>(track.tid));
  buf_.StringField(Tag(pf::kStName, kLen), track.name);
  buf_.VarintField(Tag(pf::kStSortIndex, kVarint), static_cast<uint64_t>(track.sort_index));
  if (lane > 0) buf_.VarintField(Tag(pf::kStLane, kVarint), lane);
  buf_.EndNested(st);
  buf_.EndNested(td);
  EndPacket(p);
}

void PerfettoStreamWriter::Impl::ResolveTrack(const Trace& chunk, TrackId id) {
  const Track& track = chunk.tracks()[id];
  auto key = std::make_tuple(static_cast<uint8_t>(track.kind), track.pid, track.tid, track.name);
  auto [it, inserted] = track_index_.try_emplace(std::move(key), tracks_.size());
  if (inserted) {
    TrackState state;
    state.parent_uuid = ProcessUuid(chunk, track.pid);
    state.is_stream = track.kind == TrackKind::kDeviceStream;
    state.lane_uuids.push_back(next_uuid_++);
    EmitTrackDescriptor(track, state.lane_uuids[0], state.parent_uuid, 0);
    tracks_.push_back(std::move(state));
  }
  chunk_tracks_[id] = it->second;
}

uint64_t PerfettoStreamWriter::Impl::LaneUuid(const Trace& chunk, TrackId id, uint32_t lane) {
  TrackState& state = tracks_[chunk_tracks_[id]];
  while (state.lane_uuids.size() <= lane) {
    const uint32_t new_lane = static_cast<uint32_t>(state.lane_uuids.size());
    const uint64_t uuid = next_uuid_++;
    const Track& track = chunk.tracks()[id];
    // A thread's lane hangs off the thread track; a stream's lane is its sibling.
    const uint64_t parent =
        track.kind == TrackKind::kThread ? state.lane_uuids[0] : state.parent_uuid;
    EmitTrackDescriptor(track, uuid, parent, new_lane);
    state.lane_uuids.push_back(uuid);
  }
  return state.lane_uuids[lane];
}

void PerfettoStreamWriter::Impl::PutTimestamp(int64_t ts) {
  if (ts >= clock_) {
    buf_.VarintField(Tag(pf::kTimestamp, kVarint), static_cast<uint64_t>(ts - clock_));
    clock_ = ts;
  } else {
    // Deltas cannot go backwards: an earlier event gets an absolute trace-clock timestamp,
    // which leaves the incremental clock where it was.
    buf_.VarintField(Tag(pf::kTimestamp, kVarint), static_cast<uint64_t>(ts));
    buf_.VarintField(Tag(pf::kTimestampClockId, kVarint), pf::kBuiltinClockBoottime);
  }
}

void PerfettoStreamWriter::Impl::PutArgs(const Trace& chunk, const std::vector<Arg>& args) {
  for (const Arg& arg : args) {
    const size_t da = buf_.BeginNested(Tag(pf::kTeDebugAnnotations, kLen));
    buf_.VarintField(Tag(pf::kDaNameIid, kVarint), ChunkIid(chunk, arg.key, kArgNames));
    if (const int64_t* i = std::get_if<int64_t>(&arg.value)) {
      buf_.VarintField(Tag(pf::kDaInt, kVarint), static_cast<uint64_t>(*i));
    } else if (const double* d = std::get_if<double>(&arg.value)) {
      buf_.DoubleField(Tag(pf::kDaDouble, kFixed64), *d);
    } else if (const bool* b = std::get_if<bool>(&arg.value)) {
      buf_.VarintField(Tag(pf::kDaBool, kVarint), *b);
    } else {
      buf_.StringField(Tag(pf::kDaString, kLen), std::get<std::string>(arg.value));
    }
    buf_.EndNested(da);
  }
}

void PerfettoStreamWriter::Impl::PutPendingInterned() {
  if (pending_.empty()) return;
  const size_t id = buf_.BeginNested(Tag(pf::kInternedData, kLen));
  for (const Pending& e : pending_) {
    const size_t entry = buf_.BeginNested(Tag(TableField(e.table), kLen));
    buf_.VarintField(Tag(pf::kInternedIid, kVarint), e.iid);
    buf_.StringField(Tag(pf::kInternedName, kLen), e.text);
    buf_.EndNested(entry);
  }
  buf_.EndNested(id);
  pending_.clear();
}

void PerfettoStreamWriter::Impl::EncodeEdge(const Trace& chunk, uint64_t uuid, const Edge& e) {
  const Slice* slice = nullptr;
  const Instant* instant = nullptr;
  size_t bound = kPacketSlack;
  if (e.kind == EdgeKind::kBegin) {
    slice = &chunk.slices()[e.index];
    bound += 2 * (chunk.str(slice->name).size() + chunk.str(slice->category).size()) +
             (slice->args.empty() ? 0 : ArgsBound(chunk, slice->args));
  } else if (e.kind == EdgeKind::kInstant) {
    instant = &chunk.instants()[e.index];
    bound += 2 * (chunk.str(instant->name).size() + chunk.str(instant->category).size()) +
             (instant->args.empty() ? 0 : ArgsBound(chunk, instant->args));
  }
  buf_.Reserve(bound);
  const size_t p = BeginPacket();
  PutTimestamp(e.ts);
  buf_.VarintField(Tag(pf::kSequenceFlags, kVarint), pf::kSeqNeedsIncrementalState);
  const size_t te = buf_.BeginNested(Tag(pf::kTrackEvent, kLen));
  buf_.VarintField(Tag(pf::kTeTrackUuid, kVarint), uuid);
  switch (e.kind) {
    case EdgeKind::kBegin: {
      buf_.VarintField(Tag(pf::kTeType, kVarint), pf::kTypeSliceBegin);
      buf_.VarintField(Tag(pf::kTeNameIid, kVarint), ChunkIid(chunk, slice->name, kNames));
      if (slice->category != 0) {
        buf_.VarintField(Tag(pf::kTeCategoryIids, kVarint),
                         ChunkIid(chunk, slice->category, kCategories));
      } else if (slice->op_kind != DeviceOpKind::kNone) {
        uint64_t& iid = op_category_iids_[static_cast<size_t>(slice->op_kind) & 7];
        if (iid == 0) iid = Intern(DeviceOpKindCategory(slice->op_kind), kCategories);
        buf_.VarintField(Tag(pf::kTeCategoryIids, kVarint), iid);
      }
      PutArgs(chunk, slice->args);
      if (slice->correlation_id != 0) {
        if (correlation_iid_ == 0) correlation_iid_ = Intern(pf::kCorrelationIdArg, kArgNames);
        const size_t da = buf_.BeginNested(Tag(pf::kTeDebugAnnotations, kLen));
        buf_.VarintField(Tag(pf::kDaNameIid, kVarint), correlation_iid_);
        buf_.VarintField(Tag(pf::kDaUint, kVarint), slice->correlation_id);
        buf_.EndNested(da);
      }
      if (slice->flow_out != 0) buf_.Fixed64Field(Tag(pf::kTeFlowIds, kFixed64), slice->flow_out);
      if (slice->flow_in != 0) {
        buf_.Fixed64Field(Tag(pf::kTeTerminatingFlowIds, kFixed64), slice->flow_in);
      }
      break;
    }
    case EdgeKind::kEnd:
      buf_.VarintField(Tag(pf::kTeType, kVarint), pf::kTypeSliceEnd);
      break;
    case EdgeKind::kInstant:
      buf_.VarintField(Tag(pf::kTeType, kVarint), pf::kTypeInstant);
      buf_.VarintField(Tag(pf::kTeNameIid, kVarint), ChunkIid(chunk, instant->name, kNames));
      if (instant->category != 0) {
        buf_.VarintField(Tag(pf::kTeCategoryIids, kVarint),
                         ChunkIid(chunk, instant->category, kCategories));
      }
      PutArgs(chunk, instant->args);
      break;
    case EdgeKind::kCounter: {
      buf_.VarintField(Tag(pf::kTeType, kVarint), pf::kTypeCounter);
      const double v = chunk.counters()[e.index].value;
      // Integral values take a varint; trace_processor stores both kinds as double.
      if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0 && !std::signbit(v)) {
        buf_.VarintField(Tag(pf::kTeCounterValue, kVarint),
                         static_cast<uint64_t>(static_cast<int64_t>(v)));
      } else {
        buf_.DoubleField(Tag(pf::kTeDoubleCounterValue, kFixed64), v);
      }
      break;
    }
  }
  buf_.EndNested(te);
  PutPendingInterned();
  EndPacket(p);
}

absl::Status PerfettoStreamWriter::Impl::Append(const Trace& chunk) {
  if (finished_) return absl::FailedPreconditionError("PerfettoStreamWriter: already finished");
  for (auto& ids : chunk_iids_) ids.assign(chunk.strings().size(), 0);
  chunk_tracks_.assign(chunk.tracks().size(), 0);
  for (const Process& p : chunk.processes()) ProcessUuid(chunk, p.pid);
  for (TrackId t = 0; t < chunk.tracks().size(); ++t) ResolveTrack(chunk, t);

  // Host threads nest by construction (scopes), across chunks too; device streams do not,
  // so a late device op that overlaps written ones takes another lane.
  order_.Build(chunk, [&](TrackId t) -> const std::vector<int64_t>* {
    const TrackState& state = tracks_[chunk_tracks_[t]];
    return state.is_stream ? &state.lane_floors : nullptr;
  });
  // Lane descriptors before any event that uses them.
  std::vector<uint64_t> source_uuids;
  source_uuids.reserve(order_.sources().size());
  for (const EdgeSource& s : order_.sources()) {
    source_uuids.push_back(LaneUuid(chunk, s.track, s.lane));
    TrackState& state = tracks_[chunk_tracks_[s.track]];
    if (!state.is_stream || !s.slices || s.begin == s.end) continue;
    if (state.lane_floors.size() <= s.lane) state.lane_floors.resize(s.lane + 1, INT64_MIN);
    state.lane_floors[s.lane] = std::max(state.lane_floors[s.lane], order_.last_ts(s));
  }

  absl::Status status;
  const EdgeSource* first = order_.sources().data();
  order_.ForEachInTimeOrder([&](const EdgeSource& source, const Edge& edge) {
    if (!status.ok()) return;
    EncodeEdge(chunk, source_uuids[&source - first], edge);
    status = MaybeFlush();
  });
  events_ += chunk.event_count();
  return status;
}

absl::Status PerfettoStreamWriter::Impl::Finish(const TraceMetadata& metadata) {
  if (finished_) return absl::FailedPreconditionError("PerfettoStreamWriter: already finished");
  finished_ = true;
  const std::string bytes = EncodeMetadata(metadata, /*complete=*/true);
  buf_.Reserve(kPacketSlack + bytes.size());
  const size_t p = BeginPacket();
  buf_.StringField(Tag(pf::kScopetraceMetadata, kLen), bytes);
  EndPacket(p);
  if (absl::Status s = Flush(); !s.ok()) return s;
  return out_->Close();
}

absl::StatusOr<std::unique_ptr<PerfettoStreamWriter>> PerfettoStreamWriter::Open(
    const std::string& path, bool zstd, int zstd_level) {
  absl::StatusOr<std::unique_ptr<PerfettoOutput>> out =
      PerfettoOutput::Open(path, zstd, zstd_level);
  if (!out.ok()) return out.status();
  auto impl = std::make_unique<Impl>(*std::move(out));
  if (absl::Status s = impl->Start(); !s.ok()) return s;
  return std::unique_ptr<PerfettoStreamWriter>(new PerfettoStreamWriter(std::move(impl)));
}

PerfettoStreamWriter::PerfettoStreamWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PerfettoStreamWriter::~PerfettoStreamWriter() = default;
absl::Status PerfettoStreamWriter::Append(const Trace& chunk) { return impl_->Append(chunk); }
absl::Status PerfettoStreamWriter::Finish(const TraceMetadata& metadata) {
  return impl_->Finish(metadata);
}
uint64_t PerfettoStreamWriter::bytes_written() const { return impl_->bytes_written(); }
uint64_t PerfettoStreamWriter::events_written() const { return impl_->events_written(); }

}  // namespace scopetrace::exporters
