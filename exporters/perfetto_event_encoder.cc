#include "exporters/perfetto_event_encoder.h"

#include <cmath>
#include <cstring>

#include "exporters/perfetto_fields.h"
#include "src/host_slice_runs.h"

namespace scopetrace::exporters {
namespace {

using wire::kFixed64;
using wire::kLen;
using wire::kVarint;
using wire::Tag;

// Covers every fixed-size part of one event packet, nesting slack included.
constexpr size_t kPacketSlack = 160;
// Both clocks of a sequence's snapshot read this. The same value in every sequence:
// BOOTTIME is trace time and appears in every snapshot, and trace_processor rejects a
// snapshot in which the trace clock goes backwards (A.7). The first delta of a sequence
// is then its first absolute timestamp (minus 1): one long varint per sequence.
constexpr uint64_t kClockOrigin = 1;

constexpr uint32_t TableField(InternTable table) {
  switch (table) {
    case kNameTable:
      return pf::kIdEventNames;
    case kCategoryTable:
      return pf::kIdEventCategories;
    case kArgNameTable:
      return pf::kIdDebugAnnotationNames;
    default:
      return pf::kIdDebugAnnotationStrings;
  }
}

// Packet bodies are written through a local cursor (`uint8_t* p`) rather than Buffer's
// member: a byte store through a uint8_t* may alias the member, so every Buffer::Byte
// reloads and stores it again, which the hot path cannot afford.
template <uint32_t kTag>
inline uint8_t* PutTag(uint8_t* p) {
  static_assert(kTag < (1u << 14));
  if constexpr (kTag < 0x80) {
    *p = static_cast<uint8_t>(kTag);
    return p + 1;
  } else {
    p[0] = static_cast<uint8_t>(kTag | 0x80);
    p[1] = static_cast<uint8_t>(kTag >> 7);
    return p + 2;
  }
}

template <uint32_t kTag>
inline uint8_t* PutVarintField(uint8_t* p, uint64_t v) {
  return wire::PutVarint(PutTag<kTag>(p), v);
}

template <uint32_t kTag>
inline uint8_t* PutFixed64Field(uint8_t* p, uint64_t v) {
  p = PutTag<kTag>(p);
  std::memcpy(p, &v, 8);  // little-endian hosts only (as the rest of the writer)
  return p + 8;
}

// Patches a one-byte length placeholder at `len` for the body that runs up to `end`;
// moves the body when the length needs more bytes (rare). Returns the new end.
inline uint8_t* CloseNested(uint8_t* len, uint8_t* end) {
  const size_t n = static_cast<size_t>(end - (len + 1));
  if (n < 0x80) [[likely]] {
    *len = static_cast<uint8_t>(n);
    return end;
  }
  const size_t extra = wire::VarintSize(n) - 1;
  std::memmove(len + 1 + extra, len + 1, n);
  wire::PutVarint(len, n);
  return end + extra;
}

// Timestamp deltas from 128 ns to 2^21 ns (2.1 ms: nearly every gap between two edges of
// one track) are written as 3-byte varints, padded with continuation bits when the value is
// shorter. A non-minimal varint is valid protobuf (parsers accept up to 10 bytes: protoc,
// trace_processor's protozero, our reader). Why: with minimal varints a delta takes 1, 2
// or 3 bytes, so the packet length and the distance back to the previous packet of the
// same shape change from packet to packet and zstd's matches break around them; at a
// fixed width only the delta's own low bytes are new. Measured on the benchmark trace
// (zstd level 3 with this writer's parameters): 7.33 → 6.95 bytes/event, zstd CPU time
// unchanged (138 ms both, min of 7), 2 raw bytes more per event (40.0 → 42.1).
// Deltas below 128 ns stay one byte: a track whose edges come tens of ns apart (a hot loop
// of small scopes: the streamed 10 M events/s capture) has nearly all its deltas there, so
// one byte is as fixed a width as three, and 4 bytes less per slice is less for zstd to
// read (streamed benchmark: 32 → 28 raw bytes and 0.87 → 0.81 compressed bytes per
// event; the realistic trace: 42.06 → 41.39 raw, 6.949 → 6.935 compressed).
constexpr uint64_t kPaddedDeltaLimit = uint64_t{1} << 21;

inline size_t DeltaSize(uint64_t v) {
  return v < 0x80 ? 1 : v < kPaddedDeltaLimit ? 3 : wire::VarintSize(v);
}

inline uint8_t* PutDelta(uint8_t* p, uint64_t v) {
  if (v < 0x80) {
    *p = static_cast<uint8_t>(v);
    return p + 1;
  }
  if (v < kPaddedDeltaLimit) [[likely]] {
    p[0] = static_cast<uint8_t>(v | 0x80);
    p[1] = static_cast<uint8_t>((v >> 7) | 0x80);
    p[2] = static_cast<uint8_t>(v >> 14);
    return p + 3;
  }
  return wire::PutVarint(p, v);
}

// The first ten bytes of a fixed-layout event packet (one-byte sequence id and lengths):
// the packet tag and length (`packet_len`, the bytes after it), sequence id, flags, the
// TrackEvent tag and length (`te_len`) and its type. Returns where the TrackEvent's
// other fields go; the timestamp delta follows the TrackEvent.
inline uint8_t* PutFixedEventHeader(uint8_t* p, size_t packet_len, uint32_t seq_id, uint8_t te_len,
                                    uint8_t type) {
  p[0] = Tag(pf::kTracePacket, kLen);
  p[1] = static_cast<uint8_t>(packet_len);
  p[2] = Tag(pf::kSequenceId, kVarint);
  p[3] = static_cast<uint8_t>(seq_id);
  p[4] = Tag(pf::kSequenceFlags, kVarint);
  p[5] = pf::kSeqNeedsIncrementalState;
  p[6] = Tag(pf::kTrackEvent, kLen);
  p[7] = te_len;
  p[8] = Tag(pf::kTeType, kVarint);
  p[9] = type;
  return p + 10;
}

// String arg values are interned (their bytes are reserved with the interned data), so
// every annotation is bounded.
constexpr size_t kAnnotationBound = 32;

}  // namespace

void EventEncoder::BeginChunk(const Trace& chunk) {
  chunk_strings_.assign(chunk.strings().size(), 0);
}

uint32_t EventEncoder::GlobalString(std::string_view text) {
  auto [it, inserted] =
      string_index_.try_emplace(std::string(text), static_cast<uint32_t>(strings_.size()));
  if (inserted) strings_.push_back(&it->first);
  return it->second;
}

uint32_t EventEncoder::ResolveString(const Trace& chunk, StringId id) {
  const uint32_t global = GlobalString(chunk.str(id));
  chunk_strings_[id] = global + 1;
  return global;
}

uint32_t EventEncoder::NewIid(EventSequence& seq, InternTable table, uint32_t global) {
  std::vector<uint32_t>& iids = seq.iids[table];
  if (global >= iids.size()) iids.resize(std::max<size_t>(global + 1, 2 * iids.size()), 0);
  uint32_t& iid = iids[global];
  if (iid == 0) {
    iid = seq.next_iid[table]++;
    pending_.push_back(Pending{table, iid, global});
  }
  return iid;
}

EventSequence& EventEncoder::NewSequence(uint64_t track_uuid) {
  EventSequence& seq = sequences_.emplace_back();
  seq.id = next_sequence_id_++;
  seq.clock = static_cast<int64_t>(kClockOrigin);
  // CLEARED first (so our interned data and defaults count), then the defaults and the
  // snapshot that defines clock 64 on this sequence as BOOTTIME counted in 1 ns deltas.
  // trace_processor stops reading a packet at its clock snapshot: no event rides here.
  buf_.Reserve(kPacketSlack);
  const size_t p = buf_.BeginNested(Tag(pf::kTracePacket, kLen));
  buf_.VarintField(Tag(pf::kSequenceId, kVarint), seq.id);
  buf_.VarintField(Tag(pf::kSequenceFlags, kVarint),
                   pf::kSeqIncrementalStateCleared | pf::kSeqNeedsIncrementalState);
  buf_.VarintField(Tag(pf::kFirstPacketOnSequence, kVarint), 1);
  const size_t defaults = buf_.BeginNested(Tag(pf::kTracePacketDefaults, kLen));
  buf_.VarintField(Tag(pf::kDefaultsClockId, kVarint), pf::kIncrementalClock);
  const size_t ted = buf_.BeginNested(Tag(pf::kDefaultsTrackEvent, kLen));
  buf_.VarintField(Tag(pf::kDefaultsTrackUuid, kVarint), track_uuid);
  buf_.EndNested(ted);
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
  buf_.EndNested(p);
  return seq;
}

void EventEncoder::PutArgs(EventSequence& seq, const Trace& chunk, const std::vector<Arg>& args) {
  for (const Arg& arg : args) {
    const size_t da = buf_.BeginNested(Tag(pf::kTeDebugAnnotations, kLen));
    buf_.VarintField(Tag(pf::kDaNameIid, kVarint),
                     Iid(seq, kArgNameTable, GlobalString(chunk, arg.key)));
    if (const int64_t* i = std::get_if<int64_t>(&arg.value)) {
      buf_.VarintField(Tag(pf::kDaInt, kVarint), static_cast<uint64_t>(*i));
    } else if (const double* d = std::get_if<double>(&arg.value)) {
      buf_.DoubleField(Tag(pf::kDaDouble, kFixed64), *d);
    } else if (const bool* b = std::get_if<bool>(&arg.value)) {
      buf_.VarintField(Tag(pf::kDaBool, kVarint), *b);
    } else {
      // String values repeat (shapes, kernel configurations): interned like names.
      buf_.VarintField(Tag(pf::kDaStringIid, kVarint),
                       Iid(seq, kArgStringTable, GlobalString(std::get<std::string>(arg.value))));
    }
    buf_.EndNested(da);
  }
}

uint8_t* EventEncoder::PutSliceBegin(uint8_t* p, EventSequence& seq, const Trace& chunk,
                                     const Slice& slice) {
  p[0] = Tag(pf::kTeType, kVarint);
  p[1] = pf::kTypeSliceBegin;
  p = PutVarintField<Tag(pf::kTeNameIid, kVarint)>(
      p + 2, Iid(seq, kNameTable, GlobalString(chunk, slice.name)));
  if (slice.category != 0) {
    p = PutVarintField<Tag(pf::kTeCategoryIids, kVarint)>(
        p, Iid(seq, kCategoryTable, GlobalString(chunk, slice.category)));
  } else if (slice.op_kind != DeviceOpKind::kNone) {
    uint32_t& global = op_categories_[static_cast<size_t>(slice.op_kind) & 7];
    if (global == 0) global = GlobalString(DeviceOpKindCategory(slice.op_kind)) + 1;
    p = PutVarintField<Tag(pf::kTeCategoryIids, kVarint)>(p, Iid(seq, kCategoryTable, global - 1));
  }
  if (!slice.args.empty()) {
    buf_.Commit(p);
    PutArgs(seq, chunk, slice.args);
    p = buf_.cursor();
  }
  // The compact form: TrackEvent.correlation_id, a plain varint (no annotation wrapper).
  if (slice.correlation_id != 0) {
    p = PutVarintField<Tag(pf::kTeCorrelationId, kVarint)>(p, slice.correlation_id);
  }
  // fixed64, one tag per id, never packed (A.5).
  if (slice.flow_out != 0) p = PutFixed64Field<Tag(pf::kTeFlowIds, kFixed64)>(p, slice.flow_out);
  if (slice.flow_in != 0) {
    p = PutFixed64Field<Tag(pf::kTeTerminatingFlowIds, kFixed64)>(p, slice.flow_in);
  }
  return p;
}

void EventEncoder::PutCounterValue(double v) {
  // Integral values take a varint; trace_processor stores both kinds as double.
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0 && !std::signbit(v)) {
    buf_.VarintField(Tag(pf::kTeCounterValue, kVarint),
                     static_cast<uint64_t>(static_cast<int64_t>(v)));
  } else {
    buf_.DoubleField(Tag(pf::kTeDoubleCounterValue, kFixed64), v);
  }
}

void EventEncoder::PutPendingInterned() {
  size_t bound = 8;
  for (const Pending& e : pending_) bound += 24 + strings_[e.global]->size();
  buf_.Reserve(bound);
  const size_t id = buf_.BeginNested(Tag(pf::kInternedData, kLen));
  for (const Pending& e : pending_) {
    const size_t entry = buf_.BeginNested(Tag(TableField(e.table), kLen));
    buf_.VarintField(Tag(pf::kInternedIid, kVarint), e.iid);
    buf_.StringField(Tag(pf::kInternedName, kLen), *strings_[e.global]);
    buf_.EndNested(entry);
  }
  buf_.EndNested(id);
  pending_.clear();
}

[[gnu::always_inline]] inline void EventEncoder::PutEnd(EventSequence& seq, int64_t ts) {
  // Half of all packets: a fixed layout written in one go.
  const auto delta = static_cast<uint64_t>(ts - seq.clock);
  seq.clock = ts;
  buf_.Reserve(kPacketSlack);
  uint8_t* p = PutFixedEventHeader(buf_.cursor(), 9 + DeltaSize(delta), seq.id, /*te_len=*/2,
                                   pf::kTypeSliceEnd);
  *p = Tag(pf::kTimestamp, kVarint);
  buf_.Commit(PutDelta(p + 1, delta));
}

[[gnu::always_inline]] inline bool EventEncoder::PutPlainBegin(EventSequence& seq,
                                                               const Trace& chunk,
                                                               const Slice& slice, int64_t ts) {
  if (!slice.args.empty() || slice.correlation_id != 0 || slice.flow_out != 0 ||
      slice.flow_in != 0 || (slice.category == 0 && slice.op_kind != DeviceOpKind::kNone)) {
    return false;
  }
  return PutNamedBegin(seq, chunk, slice.name, slice.category, ts);
}

[[gnu::always_inline]] inline bool EventEncoder::PutNamedBegin(EventSequence& seq,
                                                               const Trace& chunk, StringId name_id,
                                                               StringId category_id, int64_t ts) {
  // A name new to the sequence queues its interned entry: the general path writes it
  // (Iid hands it the same iid again).
  const uint32_t name = Iid(seq, kNameTable, GlobalString(chunk, name_id));
  const uint32_t category =
      category_id != 0 ? Iid(seq, kCategoryTable, GlobalString(chunk, category_id)) : 0;
  if (!pending_.empty() || name >= 0x80 || category >= 0x80) return false;
  const auto delta = static_cast<uint64_t>(ts - seq.clock);
  seq.clock = ts;
  buf_.Reserve(kPacketSlack);
  // The general path's layout: packet { sequence id, flags, track_event { type, name_iid,
  // [category_iids] }, timestamp delta }, every length one byte.
  const uint8_t te_len = category != 0 ? 6 : 4;
  uint8_t* p = PutFixedEventHeader(buf_.cursor(), 7 + te_len + DeltaSize(delta), seq.id, te_len,
                                   pf::kTypeSliceBegin);
  p[0] = Tag(pf::kTeNameIid, kVarint);
  p[1] = static_cast<uint8_t>(name);
  p += 2;
  if (category != 0) {
    p[0] = Tag(pf::kTeCategoryIids, kVarint);
    p[1] = static_cast<uint8_t>(category);
    p += 2;
  }
  *p = Tag(pf::kTimestamp, kVarint);
  buf_.Commit(PutDelta(p + 1, delta));
  return true;
}

void EventEncoder::EncodeEnd(EventSequence& seq, int64_t ts) { PutEnd(seq, ts); }

bool EventEncoder::EncodePlainBegin(EventSequence& seq, const Trace& chunk, const Edge& e) {
  return PutPlainBegin(seq, chunk, chunk.slices()[e.index], e.ts);
}

void EventEncoder::EncodeGeneral(EventSequence& seq, const Trace& chunk, const Edge& e,
                                 const Slice* begin_slice) {
  const std::vector<Arg>* args = nullptr;
  if (e.kind == EdgeKind::kBegin) {
    if (begin_slice == nullptr) begin_slice = &chunk.slices()[e.index];
    args = &begin_slice->args;
  } else if (e.kind == EdgeKind::kInstant) {
    args = &chunk.instants()[e.index].args;
  }
  buf_.Reserve(kPacketSlack + (args == nullptr ? 0 : kAnnotationBound * args->size()));
  // Both lengths are one-byte placeholders (CloseNested / EndNested widen them if needed).
  uint8_t* p = buf_.cursor();
  *p++ = Tag(pf::kTracePacket, kLen);
  const size_t packet = buf_.size() + 2;  // the body's offset (interning may move memory)
  ++p;
  p = PutVarintField<Tag(pf::kSequenceId, kVarint)>(p, seq.id);
  p[0] = Tag(pf::kSequenceFlags, kVarint);
  p[1] = pf::kSeqNeedsIncrementalState;
  p[2] = Tag(pf::kTrackEvent, kLen);
  const size_t te = static_cast<size_t>(p + 3 - buf_.mutable_data());
  p += 4;
  switch (e.kind) {
    case EdgeKind::kBegin:
      p = PutSliceBegin(p, seq, chunk, *begin_slice);
      break;
    case EdgeKind::kEnd:
      p[0] = Tag(pf::kTeType, kVarint);
      p[1] = pf::kTypeSliceEnd;
      p += 2;
      break;
    case EdgeKind::kInstant: {
      const Instant& instant = chunk.instants()[e.index];
      p[0] = Tag(pf::kTeType, kVarint);
      p[1] = pf::kTypeInstant;
      p = PutVarintField<Tag(pf::kTeNameIid, kVarint)>(
          p + 2, Iid(seq, kNameTable, GlobalString(chunk, instant.name)));
      if (instant.category != 0) {
        p = PutVarintField<Tag(pf::kTeCategoryIids, kVarint)>(
            p, Iid(seq, kCategoryTable, GlobalString(chunk, instant.category)));
      }
      if (!instant.args.empty()) {
        buf_.Commit(p);
        PutArgs(seq, chunk, instant.args);
        p = buf_.cursor();
      }
      break;
    }
    case EdgeKind::kCounter:
      p[0] = Tag(pf::kTeType, kVarint);
      p[1] = pf::kTypeCounter;
      buf_.Commit(p + 2);
      PutCounterValue(chunk.counters()[e.index].value);
      p = buf_.cursor();
      break;
  }
  p = CloseNested(buf_.mutable_data() + te, p);
  if (!pending_.empty()) {
    buf_.Commit(p);
    PutPendingInterned();
    p = buf_.cursor();
  }
  // The timestamp goes last: the random bytes of one packet then sit next to each other
  // and the fixed bytes around them repeat from one step to the next.
  if (e.ts >= seq.clock) {
    p = PutDelta(PutTag<Tag(pf::kTimestamp, kVarint)>(p), static_cast<uint64_t>(e.ts - seq.clock));
    seq.clock = e.ts;
  } else {
    // Deltas cannot go backwards (a later chunk going back in time): an absolute
    // trace-clock timestamp, which leaves the incremental clock where it was.
    p = PutVarintField<Tag(pf::kTimestamp, kVarint)>(p, static_cast<uint64_t>(e.ts));
    p = PutVarintField<Tag(pf::kTimestampClockId, kVarint)>(p, pf::kBuiltinClockBoottime);
  }
  buf_.Commit(p);
  buf_.EndNested(packet);
}

template <typename StartAndEnd, typename Begin>
void EventEncoder::WalkNested(EventSequence& seq, const Trace& chunk, uint32_t n,
                              StartAndEnd start_and_end, Begin begin,
                              absl::FunctionRef<void()> flush) {
  open_ends_.clear();
  // Encode's inline part, for an END (whose slice index the general path does not read).
  auto end_edge = [&](int64_t ts) {
    if (ts >= seq.clock && seq.id < 0x80) [[likely]] {
      PutEnd(seq, ts);
    } else {
      EncodeGeneral(seq, chunk, Edge{ts, 0, EdgeKind::kEnd});
    }
  };
  constexpr uint32_t kFlushEvery = 256;  // slices; the writer's flush threshold is far above
  for (uint32_t i = 0; i < n; ++i) {
    const auto [start, end] = start_and_end(i);
    while (!open_ends_.empty() && open_ends_.back() <= start) {
      end_edge(open_ends_.back());
      open_ends_.pop_back();
    }
    open_ends_.push_back(end);
    begin(i, start);
    if (i % kFlushEvery == kFlushEvery - 1) flush();
  }
  while (!open_ends_.empty()) {
    end_edge(open_ends_.back());
    open_ends_.pop_back();
  }
  flush();
}

void EventEncoder::EncodeNestedSlices(EventSequence& seq, const Trace& chunk,
                                      const EventOrder::SliceRun& run,
                                      absl::FunctionRef<void()> flush) {
  const std::vector<Slice>& slices = chunk.slices();
  auto walk = [&](auto index_of) {
    WalkNested(
        seq, chunk, run.size(),
        [&](uint32_t i) {
          __builtin_prefetch(slices.data() + index_of(std::min(i + 8, run.size() - 1)));
          const Slice& s = slices[index_of(i)];
          return std::pair<int64_t, int64_t>{s.start_ns,
                                             s.start_ns + std::max<int64_t>(s.dur_ns, 0)};
        },
        [&](uint32_t i, int64_t start) {
          const uint32_t s = index_of(i);
          const Edge edge{start, s, EdgeKind::kBegin};
          if (start < seq.clock || seq.id >= 0x80 || !PutPlainBegin(seq, chunk, slices[s], start)) {
            EncodeGeneral(seq, chunk, edge);
          }
        },
        flush);
  };
  // The chunk in order (a streamed capture's): indices count up, no index array to read.
  if (run.order == nullptr) {
    walk([&](uint32_t i) { return run.begin + i; });
  } else {
    walk([&](uint32_t i) { return run.order[run.begin + i]; });
  }
}

void EventEncoder::EncodeNestedRecords(EventSequence& seq, const Trace& chunk, TrackId track,
                                       const internal::HostSliceRuns& runs,
                                       absl::FunctionRef<void()> flush) {
  const std::vector<internal::HostSliceRecord>& records = runs.records(track);
  WalkNested(
      seq, chunk, static_cast<uint32_t>(records.size()),
      [&](uint32_t i) {
        const internal::HostSliceRecord& r = records[i];
        return std::pair<int64_t, int64_t>{r.start_ns, r.start_ns + r.dur_ns};
      },
      [&](uint32_t i, int64_t start) {
        const internal::HostSliceRecord& r = records[i];
        if (r.payload == 0 && start >= seq.clock && seq.id < 0x80 &&
            PutNamedBegin(seq, chunk, r.name, r.category, start)) [[likely]] {
          return;
        }
        // The Slice HostSliceRuns::MergeInto would have made of it.
        record_slice_ = Slice{.track = track,
                              .name = r.name,
                              .category = r.category,
                              .start_ns = r.start_ns,
                              .dur_ns = r.dur_ns};
        if (r.payload != 0) {
          const internal::HostSlicePayload& payload = runs.payload(r);
          record_slice_.correlation_id = payload.correlation_id;
          record_slice_.flow_out = payload.flow_out;
          record_slice_.args = payload.args;
        }
        EncodeGeneral(seq, chunk, Edge{start, 0, EdgeKind::kBegin}, &record_slice_);
      },
      flush);
}

}  // namespace scopetrace::exporters
