#include "exporters/perfetto_stream_writer.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "exporters/perfetto_event_encoder.h"
#include "exporters/perfetto_event_order.h"
#include "exporters/perfetto_fields.h"
#include "exporters/perfetto_metadata.h"
#include "exporters/perfetto_output.h"
#include "exporters/proto_wire.h"
#include "src/host_slice_runs.h"

namespace scopetrace::exporters {
namespace {

using wire::kFixed64;
using wire::kLen;
using wire::kVarint;
using wire::Tag;

// Sequence 1 carries the file's own packets (clock setup, track descriptors, metadata);
// each Perfetto track's events get a sequence of their own from 2 on (EventEncoder).
constexpr uint32_t kFileSequence = 1;
constexpr uint32_t kFirstEventSequence = 2;
// The encode buffer goes to the file (or zstd) once it holds this much: big enough that
// zstd works on large inputs (whole 128 KiB blocks), small enough to stay in L2 between
// being written and being compressed.
constexpr size_t kFlushBytes = 256 << 10;
// Covers every fixed-size part of one descriptor packet, nesting slack included.
constexpr size_t kPacketSlack = 256;
// The clocks' reading in the file's first snapshot (see EventEncoder).
constexpr int64_t kClockOrigin = 1;

}  // namespace

class PerfettoStreamWriter::Impl {
 public:
  explicit Impl(std::unique_ptr<PerfettoOutput> out)
      : out_(std::move(out)), encoder_(buf_, kFirstEventSequence) {}

  absl::Status Start();
  absl::Status Append(const Trace& chunk, const internal::HostSliceRuns* runs);
  absl::Status Finish(const TraceMetadata& metadata);
  uint64_t bytes_written() const { return out_->bytes_written(); }
  uint64_t events_written() const { return events_; }
  void CountBackgroundCpuInto(std::atomic<int64_t>* counter) {
    out_->CountBackgroundCpuInto(counter);
  }

 private:
  struct TrackState {
    std::vector<uint64_t> lane_uuids;  // [0]: the track itself
    uint64_t parent_uuid = 0;
    // Device streams: per lane, the latest slice end written so far (see EventOrder).
    std::vector<int64_t> lane_floors;
    bool is_stream = false;
    // The event sequences (EventEncoder) of each lane's slices, of the instants and of
    // the counter samples; null until first used.
    std::vector<EventSequence*> lane_sequences;
    EventSequence* instant_sequence = nullptr;
    EventSequence* counter_sequence = nullptr;
  };

  size_t BeginPacket() {
    const size_t body = buf_.BeginNested(Tag(pf::kTracePacket, kLen));
    buf_.VarintField(Tag(pf::kSequenceId, kVarint), kFileSequence);
    return body;
  }
  void EndPacket(size_t body) { buf_.EndNested(body); }

  uint64_t ProcessUuid(const Trace& chunk, int64_t pid);
  void ResolveTrack(const Trace& chunk, TrackId id);
  uint64_t LaneUuid(const Trace& chunk, TrackId id, uint32_t lane);
  void EmitTrackDescriptor(const Track& track, uint64_t uuid, uint64_t parent, uint32_t lane);
  EventSequence& LaneSequence(const Trace& chunk, TrackId id, uint32_t lane);
  EventSequence& PointSequence(const Trace& chunk, TrackId id);
  // Track t's slices through EventOrder::WalkSlices: lanes for slices that do not nest,
  // and for device streams the floors that earlier chunks left.
  void WalkSlices(const Trace& chunk, TrackId t, TrackState& state, absl::Status& status);
  void MaybeFlush(absl::Status& status) {
    if (buf_.size() < kFlushBytes) [[likely]]
      return;
    absl::Status s = Flush();
    if (status.ok()) status = std::move(s);
  }
  absl::Status Flush() { return out_->Write(buf_); }  // leaves buf_ empty

  std::unique_ptr<PerfettoOutput> out_;
  wire::Buffer buf_;
  EventEncoder encoder_;
  EventOrder order_;
  uint64_t next_uuid_ = 1;
  std::unordered_map<int64_t, uint64_t> process_uuids_;
  absl::flat_hash_map<std::tuple<uint8_t, int64_t, int64_t, std::string>, size_t> track_index_;
  std::vector<TrackState> tracks_;
  // Per chunk: each track's index in tracks_.
  std::vector<size_t> chunk_tracks_;
  // Per track of a chunk walk: each lane's sequence and the latest edge written on it.
  std::vector<EventSequence*> lane_cache_;
  std::vector<int64_t> new_floors_;
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

EventSequence& PerfettoStreamWriter::Impl::LaneSequence(const Trace& chunk, TrackId id,
                                                        uint32_t lane) {
  TrackState& state = tracks_[chunk_tracks_[id]];
  if (state.lane_sequences.size() <= lane) state.lane_sequences.resize(lane + 1, nullptr);
  EventSequence*& seq = state.lane_sequences[lane];
  // The lane's descriptor goes before its first event.
  if (seq == nullptr) seq = &encoder_.NewSequence(LaneUuid(chunk, id, lane));
  return *seq;
}

EventSequence& PerfettoStreamWriter::Impl::PointSequence(const Trace& chunk, TrackId id) {
  TrackState& state = tracks_[chunk_tracks_[id]];
  const bool counters = chunk.tracks()[id].kind == TrackKind::kCounter;
  EventSequence*& seq = counters ? state.counter_sequence : state.instant_sequence;
  if (seq == nullptr) seq = &encoder_.NewSequence(state.lane_uuids[0]);
  return *seq;
}

void PerfettoStreamWriter::Impl::WalkSlices(const Trace& chunk, TrackId t, TrackState& state,
                                            absl::Status& status) {
  lane_cache_.clear();
  new_floors_.clear();
  order_.WalkSlices(chunk, t, state.is_stream ? &state.lane_floors : nullptr,
                    [&](uint32_t lane, const Edge& e) {
                      if (lane >= lane_cache_.size()) {
                        lane_cache_.resize(lane + 1, nullptr);
                        new_floors_.resize(lane + 1, INT64_MIN);
                      }
                      EventSequence*& seq = lane_cache_[lane];
                      if (seq == nullptr) seq = &LaneSequence(chunk, t, lane);
                      if (state.is_stream) new_floors_[lane] = std::max(new_floors_[lane], e.ts);
                      encoder_.Encode(*seq, chunk, e);
                      MaybeFlush(status);
                    });
  if (state.is_stream) {
    // The walk read the old floors; the new ones apply to the next chunk.
    if (state.lane_floors.size() < new_floors_.size()) {
      state.lane_floors.resize(new_floors_.size(), INT64_MIN);
    }
    for (size_t lane = 0; lane < new_floors_.size(); ++lane) {
      state.lane_floors[lane] = std::max(state.lane_floors[lane], new_floors_[lane]);
    }
  }
}

absl::Status PerfettoStreamWriter::Impl::Append(const Trace& chunk,
                                                const internal::HostSliceRuns* runs) {
  if (finished_) return absl::FailedPreconditionError("PerfettoStreamWriter: already finished");
  chunk_tracks_.assign(chunk.tracks().size(), 0);
  for (const Process& p : chunk.processes()) ProcessUuid(chunk, p.pid);
  for (TrackId t = 0; t < chunk.tracks().size(); ++t) ResolveTrack(chunk, t);

  // Track after track: each lane (and each track's instants, counter samples) is one
  // Perfetto track, in time order, on its own sequence; a track's rare overflow lanes
  // interleave with lane 0. trace_processor sorts the whole file by timestamp, so
  // interleaving tracks buys nothing, while one track's packets in a row repeat the same
  // bytes step after step.
  // Edges are encoded as the walk finds them; the buffer goes out whenever it is full
  // enough (the first failed write is kept and returned after the walk).
  order_.Group(chunk);
  encoder_.BeginChunk(chunk);
  absl::Status status;
  for (TrackId t = 0; t < chunk.tracks().size(); ++t) {
    TrackState& state = tracks_[chunk_tracks_[t]];
    // Host threads nest by construction (scopes), across chunks too; device streams do
    // not, so a late device op that overlaps written ones takes another lane.
    if (runs != nullptr && t < runs->run_count() && !runs->records(t).empty()) {
      // A streamed host thread's slices, straight from the collector's records.
      encoder_.EncodeNestedRecords(LaneSequence(chunk, t, 0), chunk, t, *runs,
                                   [&] { MaybeFlush(status); });
    } else if (!state.is_stream && order_.SlicesNest(chunk, t)) {
      // Nearly always a host thread's: one stack, one lane, no per-edge lane bookkeeping.
      const EventOrder::SliceRun run = order_.SortedSlices(chunk, t);
      if (run.size() != 0) {
        encoder_.EncodeNestedSlices(LaneSequence(chunk, t, 0), chunk, run,
                                    [&] { MaybeFlush(status); });
      }
    } else {
      WalkSlices(chunk, t, state, status);
    }
    for (EdgeKind kind : {EdgeKind::kInstant, EdgeKind::kCounter}) {
      EventSequence* seq = nullptr;
      order_.WalkPoints(chunk, t, kind, [&](const Edge& e) {
        if (seq == nullptr) seq = &PointSequence(chunk, t);
        encoder_.Encode(*seq, chunk, e);
        MaybeFlush(status);
      });
    }
    if (!status.ok()) return status;
  }
  events_ += chunk.event_count() + (runs != nullptr ? runs->size() : 0);
  return absl::OkStatus();
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
    const std::string& path, bool zstd, int zstd_level, bool background_compression) {
  absl::StatusOr<std::unique_ptr<PerfettoOutput>> out =
      PerfettoOutput::Open(path, zstd, zstd_level, background_compression);
  if (!out.ok()) return out.status();
  auto impl = std::make_unique<Impl>(*std::move(out));
  if (absl::Status s = impl->Start(); !s.ok()) return s;
  return std::unique_ptr<PerfettoStreamWriter>(new PerfettoStreamWriter(std::move(impl)));
}

PerfettoStreamWriter::PerfettoStreamWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PerfettoStreamWriter::~PerfettoStreamWriter() = default;
absl::Status PerfettoStreamWriter::Append(const Trace& chunk) {
  return impl_->Append(chunk, nullptr);
}
absl::Status PerfettoStreamWriter::Append(const Trace& chunk, const internal::HostSliceRuns* runs) {
  return impl_->Append(chunk, runs);
}
absl::Status PerfettoStreamWriter::Finish(const TraceMetadata& metadata) {
  return impl_->Finish(metadata);
}
uint64_t PerfettoStreamWriter::bytes_written() const { return impl_->bytes_written(); }
uint64_t PerfettoStreamWriter::events_written() const { return impl_->events_written(); }
void PerfettoStreamWriter::CountBackgroundCpuInto(std::atomic<int64_t>* counter) {
  impl_->CountBackgroundCpuInto(counter);
}

}  // namespace scopetrace::exporters
