// Internal: encodes TrackEvent packets for the Perfetto writer (perfetto_stream_writer.h),
// one packet sequence per Perfetto track.
//
// Why one sequence per track (perfetto-format.md A.2, A.7): a sequence's first packet
// sets `trace_packet_defaults { timestamp_clock_id: 64 track_event_defaults { track_uuid }}`
// and declares the sequence-scoped incremental clock 64, so an event packet needs neither
// a track uuid nor an absolute timestamp: its timestamp is the delta from the previous
// event of the same track, the small number a thread's own timeline produces (a fixed
// 3-byte varint below 2.1 ms, one byte below 128 ns, see PutDelta in the .cc). The bytes of one
// track then repeat step after step (same names, same layout), which is what zstd compresses best.
// Names, categories, arg names and string arg values are interned per sequence (iids are
// per sequence), so the common ones take one-byte iids.
//
// Every packet still carries its non-zero `trusted_packet_sequence_id` and
// SEQ_NEEDS_INCREMENTAL_STATE; only the sequence's first packet clears the state.
//
// Example (what the stream writer does per chunk):
//
//   encoder.BeginChunk(chunk);
//   EventSequence& seq = encoder.NewSequence(track_uuid);   // once per track, ever
//   for (const Edge& e : edges) encoder.Encode(seq, chunk, e);

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_EVENT_ENCODER_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_EVENT_ENCODER_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/functional/function_ref.h"
#include "exporters/perfetto_event_order.h"
#include "exporters/proto_wire.h"
#include "scopetrace/trace.h"

namespace scopetrace::internal {
class HostSliceRuns;
}  // namespace scopetrace::internal

namespace scopetrace::exporters {

// Interning tables of a sequence.
enum InternTable : uint8_t { kNameTable, kCategoryTable, kArgNameTable, kArgStringTable };
inline constexpr int kInternTables = 4;

struct EventSequence {
  uint32_t id = 0;
  int64_t clock = 0;  // running value of the sequence's incremental clock
  // Per table: global string index → this sequence's iid (0: not interned here yet).
  std::vector<uint32_t> iids[kInternTables];
  uint32_t next_iid[kInternTables] = {1, 1, 1, 1};
};

class EventEncoder {
 public:
  // Packets are appended to `buf`; sequence ids count up from `first_sequence_id`.
  EventEncoder(wire::Buffer& buf, uint32_t first_sequence_id)
      : buf_(buf), next_sequence_id_(first_sequence_id) {}

  // Call before encoding events of a new chunk: its strings are resolved lazily.
  void BeginChunk(const Trace& chunk);

  // Writes the first packet of a new sequence whose events go on `track_uuid`. The
  // returned reference stays valid for the encoder's lifetime.
  EventSequence& NewSequence(uint64_t track_uuid);

  // Appends the packet of one edge of the current chunk. The two packets of a plain slice
  // (no args, correlation or flows; names with one-byte iids: nearly every host scope of
  // a streamed capture) are written inline as fixed layouts, byte for byte what the
  // general path writes; everything else goes out of line.
  void Encode(EventSequence& seq, const Trace& chunk, const Edge& edge) {
    if (edge.ts >= seq.clock && seq.id < 0x80) [[likely]] {
      if (edge.kind == EdgeKind::kEnd) {
        EncodeEnd(seq, edge.ts);
        return;
      }
      if (edge.kind == EdgeKind::kBegin && EncodePlainBegin(seq, chunk, edge)) return;
    }
    EncodeGeneral(seq, chunk, edge);
  }

  // The BEGIN/END packets of one track's slices in the current chunk, `run` in walk order
  // and nesting (EventOrder::SlicesNest): the walk is one stack of ends, and every edge is
  // written as Encode writes it (the same bytes) without WalkSlices' per-edge lane
  // bookkeeping. `flush` is called every few hundred slices, between two packets.
  void EncodeNestedSlices(EventSequence& seq, const Trace& chunk, const EventOrder::SliceRun& run,
                          absl::FunctionRef<void()> flush);
  // The same for a host thread's slices still as the collector's records (a streamed
  // chunk's, see StreamingPipeline): `runs`' run of `track`, sorted and nesting
  // (HostSliceRuns::SortRunsAndCheckNesting). The same bytes as EncodeNestedSlices writes
  // for the Slices HostSliceRuns::MergeInto would make of them, without making them.
  void EncodeNestedRecords(EventSequence& seq, const Trace& chunk, TrackId track,
                           const internal::HostSliceRuns& runs, absl::FunctionRef<void()> flush);

 private:
  // Both need edge.ts >= seq.clock and a one-byte sequence id.
  void EncodeEnd(EventSequence& seq, int64_t ts);
  // False (nothing written) when the slice is not plain or a name is new to the sequence.
  bool EncodePlainBegin(EventSequence& seq, const Trace& chunk, const Edge& edge);
  // Their bodies, inlined into the nested walks too (defined and used in the .cc only);
  // PutNamedBegin is PutPlainBegin once the slice is known to be plain.
  inline void PutEnd(EventSequence& seq, int64_t ts);
  inline bool PutPlainBegin(EventSequence& seq, const Trace& chunk, const Slice& slice, int64_t ts);
  inline bool PutNamedBegin(EventSequence& seq, const Trace& chunk, StringId name,
                            StringId category, int64_t ts);
  // `begin_slice`: a BEGIN's slice when it is not chunk.slices()[edge.index].
  void EncodeGeneral(EventSequence& seq, const Trace& chunk, const Edge& edge,
                     const Slice* begin_slice = nullptr);
  // The stack walk of one track's nesting slices: n slices, the i-th's [start, end) from
  // start_and_end(i), its BEGIN written by begin(i, start), ENDs here.
  template <typename StartAndEnd, typename Begin>
  void WalkNested(EventSequence& seq, const Trace& chunk, uint32_t n, StartAndEnd start_and_end,
                  Begin begin, absl::FunctionRef<void()> flush);

  // The fast paths (a string seen before in this chunk, an iid this sequence already has)
  // are inline; the first sightings go out of line so that they stay small.
  uint32_t GlobalString(const Trace& chunk, StringId id) {
    const uint32_t cached = chunk_strings_[id];
    if (cached != 0) [[likely]]
      return cached - 1;
    return ResolveString(chunk, id);
  }
  uint32_t GlobalString(std::string_view text);
  uint32_t ResolveString(const Trace& chunk, StringId id);
  // This sequence's iid for a global string, queueing its interned entry on first use.
  uint32_t Iid(EventSequence& seq, InternTable table, uint32_t global) {
    const std::vector<uint32_t>& iids = seq.iids[table];
    if (global < iids.size() && iids[global] != 0) [[likely]]
      return iids[global];
    return NewIid(seq, table, global);
  }
  uint32_t NewIid(EventSequence& seq, InternTable table, uint32_t global);
  void PutArgs(EventSequence& seq, const Trace& chunk, const std::vector<Arg>& args);
  // Writes at `p` (within what Encode reserved); returns the new end.
  uint8_t* PutSliceBegin(uint8_t* p, EventSequence& seq, const Trace& chunk, const Slice& slice);
  void PutCounterValue(double v);
  void PutPendingInterned();

  wire::Buffer& buf_;
  uint32_t next_sequence_id_;
  std::deque<EventSequence> sequences_;
  // Every string any sequence interned, by global index.
  std::unordered_map<std::string, uint32_t> string_index_;
  std::vector<const std::string*> strings_;
  // Current chunk: StringId → global index + 1 (0: not resolved yet).
  std::vector<uint32_t> chunk_strings_;
  uint32_t op_categories_[8] = {};  // DeviceOpKind → global index + 1
  struct Pending {
    InternTable table;
    uint32_t iid;
    uint32_t global;
  };
  std::vector<Pending> pending_;
  std::vector<int64_t> open_ends_;  // WalkNested's stack
  Slice record_slice_;              // EncodeNestedRecords' slice for the general path
};

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_EVENT_ENCODER_H_
