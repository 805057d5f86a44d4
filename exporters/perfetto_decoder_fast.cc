// PerfettoDecoder's fast path: the event packets scopetrace's writer emits, which are
// nine in ten packets of its files and the reader's hot loop.
//
// Such a packet holds only trusted_packet_sequence_id, sequence_flags, a TrackEvent and a
// timestamp on the sequence's default clock; its TrackEvent only iids, ids, counter values
// and debug annotations, each field once (categories) or first-wins (flows). Every tag is
// checked against the few this path knows (one or two bytes, compared whole) before any
// value is used, and nothing is changed until the whole packet has been looked at, so any
// other packet, a malformed one included, is handed to DecodeGeneral untouched and gets
// exactly its result. Field order is free: the writer may reorder without losing the path.

#include <cstring>

#include "exporters/perfetto_decoder.h"
#include "exporters/perfetto_decoder_pairing.h"
#include "exporters/perfetto_decoder_state.h"
#include "exporters/perfetto_fields.h"
#include "exporters/proto_wire.h"

namespace scopetrace::exporters {
namespace {

using wire::kFixed64;
using wire::kLen;
using wire::kVarint;
using wire::Tag;

// Keys as they appear on the wire: one byte below 16 fields, two bytes (the low 7 bits with
// the continuation bit, then the rest) up to 2047.
constexpr uint32_t Key(uint32_t field, wire::WireType type) {
  const uint32_t tag = Tag(field, type);
  return tag < 0x80 ? tag : ((tag & 0x7F) | 0x80) | ((tag >> 7) << 8);
}

// TracePacket
constexpr uint32_t kTimestampKey = Key(pf::kTimestamp, kVarint);
constexpr uint32_t kSequenceIdKey = Key(pf::kSequenceId, kVarint);
constexpr uint32_t kSequenceFlagsKey = Key(pf::kSequenceFlags, kVarint);
constexpr uint32_t kTrackEventKey = Key(pf::kTrackEvent, kLen);
// TrackEvent
constexpr uint32_t kTypeKey = Key(pf::kTeType, kVarint);
constexpr uint32_t kNameIidKey = Key(pf::kTeNameIid, kVarint);
constexpr uint32_t kCategoryIidKey = Key(pf::kTeCategoryIids, kVarint);
constexpr uint32_t kTrackUuidKey = Key(pf::kTeTrackUuid, kVarint);
constexpr uint32_t kAnnotationKey = Key(pf::kTeDebugAnnotations, kLen);
constexpr uint32_t kCounterValueKey = Key(pf::kTeCounterValue, kVarint);
constexpr uint32_t kDoubleCounterValueKey = Key(pf::kTeDoubleCounterValue, kFixed64);
constexpr uint32_t kFlowIdKey = Key(pf::kTeFlowIds, kFixed64);
constexpr uint32_t kTerminatingFlowIdKey = Key(pf::kTeTerminatingFlowIds, kFixed64);
constexpr uint32_t kCorrelationIdKey = Key(pf::kTeCorrelationId, kVarint);

// More annotations than this on one event: the general path (no fixed array to overflow).
constexpr int kMaxFastAnnotations = 8;

// Reads the varint at p (p < end checked here); null if it is cut or longer than 10
// bytes, the cases wire::Decoder rejects. Bits past 64 are dropped as wire::Decoder does.
inline const uint8_t* ReadVarint(const uint8_t* p, const uint8_t* end, uint64_t& v) {
  if (p < end && *p < 0x80) [[likely]] {
    v = *p;
    return p + 1;
  }
  uint64_t r = 0;
  for (int shift = 0; shift < 70 && p < end; shift += 7) {
    const uint8_t b = *p++;
    r |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) {
      v = r;
      return p;
    }
  }
  return nullptr;
}

// The key at p as Key() spells it, and the position after it; null for a key this path
// does not know how to read (longer than two bytes, or cut).
inline const uint8_t* ReadKey(const uint8_t* p, const uint8_t* end, uint32_t& key) {
  if (*p < 0x80) [[likely]] {
    key = *p;
    return p + 1;
  }
  if (end - p < 2 || p[1] >= 0x80) return nullptr;
  key = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8;
  return p + 2;
}

inline uint64_t LoadFixed64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

PerfettoDecoder::FastResult PerfettoDecoder::DecodeFast(std::string_view packet) {
  const auto* p = reinterpret_cast<const uint8_t*>(packet.data());
  const uint8_t* const end = p + packet.size();
  uint64_t ts = 0, seq_id = 0, flags = 0;
  bool has_ts = false;
  const uint8_t* te = nullptr;
  const uint8_t* te_end = nullptr;
  // The writer's layout first, byte by byte: 50 <seq> 68 02 5A <n> <TrackEvent> 40 <time>.
  // Anything else (or a packet that goes on after the time) takes the loop below.
  if (end - p >= 9 && p[0] == kSequenceIdKey && p[1] < 0x80 && p[2] == kSequenceFlagsKey &&
      p[3] == pf::kSeqNeedsIncrementalState && p[4] == kTrackEventKey && p[5] < 0x80 &&
      end - (p + 6) >= p[5] + 2 && p[6 + p[5]] == kTimestampKey) [[likely]] {
    const uint8_t* after = ReadVarint(p + 7 + p[5], end, ts);
    if (after == end) {
      seq_id = p[1];
      flags = pf::kSeqNeedsIncrementalState;
      has_ts = true;
      te = p + 6;
      te_end = te + p[5];
      p = end;
    }
  }
  while (p < end) {
    const uint8_t key = *p++;
    uint64_t v;
    if (key == kTrackEventKey) {
      p = ReadVarint(p, end, v);
      if (p == nullptr || v > static_cast<uint64_t>(end - p)) return FastResult::kNotHandled;
      te = p;
      te_end = p + v;
      p = te_end;
      continue;
    }
    if (key != kSequenceIdKey && key != kSequenceFlagsKey && key != kTimestampKey) {
      return FastResult::kNotHandled;
    }
    p = ReadVarint(p, end, v);
    if (p == nullptr) return FastResult::kNotHandled;
    if (key == kSequenceIdKey) {
      seq_id = v;
    } else if (key == kSequenceFlagsKey) {
      flags = v;
    } else {
      ts = v;
      has_ts = true;
    }
  }
  // Clearing the state, and packets without a time, are rare: the general path.
  if (!has_ts || (flags & pf::kSeqIncrementalStateCleared) != 0) return FastResult::kNotHandled;

  // The TrackEvent, read whole before anything is changed.
  uint32_t type = 0;
  uint64_t name_iid = 0, category_iid = 0, track = 0, correlation = 0, flow_out = 0, flow_in = 0;
  bool has_name_iid = false, has_category = false, has_track = false;
  double value = 0;
  // Left uninitialized on purpose: zeroing them costs more than the rest of a packet.
  const uint8_t* annotation_data[kMaxFastAnnotations];
  size_t annotation_size[kMaxFastAnnotations];
  int annotation_count = 0;
  const uint8_t* q = te;
  // The writer's order first: type, then name and category iids (one byte each mostly).
  // The loop below takes over wherever the event differs, with what was read so far.
  if (te_end - q >= 2 && q[0] == kTypeKey && q[1] < 0x80) [[likely]] {
    type = q[1];
    q += 2;
    if (te_end - q >= 2 && q[0] == kNameIidKey && q[1] < 0x80) {
      name_iid = q[1];
      has_name_iid = true;
      q += 2;
      if (te_end - q >= 2 && q[0] == kCategoryIidKey && q[1] < 0x80) {
        category_iid = q[1];
        has_category = true;
        q += 2;
      }
    }
  }
  while (q < te_end) {
    uint32_t key;
    q = ReadKey(q, te_end, key);
    if (q == nullptr) return FastResult::kNotHandled;
    uint64_t v;
    if (key == kFlowIdKey || key == kTerminatingFlowIdKey || key == kDoubleCounterValueKey) {
      if (te_end - q < 8) return FastResult::kNotHandled;
      v = LoadFixed64(q);
      q += 8;
      if (key == kFlowIdKey) {
        if (flow_out == 0) flow_out = v;
      } else if (key == kTerminatingFlowIdKey) {
        if (flow_in == 0) flow_in = v;
      } else {
        std::memcpy(&value, &v, 8);
      }
      continue;
    }
    q = ReadVarint(q, te_end, v);
    if (q == nullptr) return FastResult::kNotHandled;
    switch (key) {
      case kTypeKey:
        type = static_cast<uint32_t>(v);
        break;
      case kNameIidKey:
        name_iid = v;
        has_name_iid = true;
        break;
      case kCategoryIidKey:
        // Several categories are joined (an interned string made): the general path.
        if (has_category) return FastResult::kNotHandled;
        category_iid = v;
        has_category = true;
        break;
      case kTrackUuidKey:
        track = v;
        has_track = true;
        break;
      case kCorrelationIdKey:
        correlation = v;
        break;
      case kCounterValueKey:
        value = static_cast<double>(static_cast<int64_t>(v));
        break;
      case kAnnotationKey:
        if (v > static_cast<uint64_t>(te_end - q) || annotation_count == kMaxFastAnnotations) {
          return FastResult::kNotHandled;
        }
        annotation_data[annotation_count] = q;
        annotation_size[annotation_count++] = static_cast<size_t>(v);
        q += v;
        break;
      default:
        return FastResult::kNotHandled;
    }
  }

  // From here on, what DecodeGeneral would do with this packet.
  Sequence& seq = GetSequence(static_cast<uint32_t>(seq_id));
  // trace_processor skips such packets until the state is valid again (A.2).
  if ((flags & pf::kSeqNeedsIncrementalState) != 0 && !seq.valid) return FastResult::kDone;
  int64_t t;
  const uint32_t clock_id = seq.default_clock;
  if (clock_id != 0 && clock_id == seq.last_clock_id && clock_id != trace_clock_) {
    // The sequence's incremental clock, as ToTraceTime computes it (wrapping arithmetic).
    ClockState& clock = *seq.last_clock;
    const uint64_t ns = ts * clock.multiplier;
    const auto offset = static_cast<uint64_t>(clock.offset_ns);
    if (clock.incremental) {
      clock.running_ns = static_cast<int64_t>(static_cast<uint64_t>(clock.running_ns) + ns);
      t = static_cast<int64_t>(static_cast<uint64_t>(clock.running_ns) + offset);
    } else {
      t = static_cast<int64_t>(ns + offset);
    }
  } else {
    t = ToTraceTime(seq, clock_id, ts);
  }
  if (te == te_end) return FastResult::kDone;  // no (or an empty) TrackEvent

  const uint64_t uuid = has_track ? track : seq.default_track;
  if (annotation_count == 0 && pairing_ == Pairing::kStreaming &&
      (type == pf::kTypeSliceBegin || type == pf::kTypeSliceEnd)) [[likely]] {
    // AddEvent and PairEvent for an event without args, with nothing to carry over.
    if (t > max_ts_) max_ts_ = t;
    const uint32_t index = TrackIndex(uuid);
    TrackDesc& desc = tracks_[index];
    ++desc.event_count;
    if (t < desc.last_ts) [[unlikely]] {
      out_of_order_ = true;
      return FastResult::kDone;
    }
    desc.last_ts = t;
    if (type == pf::kTypeSliceEnd) {
      EndSlice(index, t, correlation, flow_out, flow_in);
      return FastResult::kDone;
    }
    StringId name = has_name_iid ? seq.names.Get(name_iid) : kMissingString;
    if (name == kMissingString) name = 0;
    StringId category = 0;
    if (has_category) {
      const StringId c = seq.categories.Get(category_iid);
      if (c != kMissingString) category = c;
    }
    BeginSlice(index, t, name, category, correlation, flow_out, flow_in);
    return FastResult::kDone;
  }
  RawEvent e{t, type,     kMissingString, 0, static_cast<uint32_t>(args_.size()),
             0, flow_out, flow_in,        0, value};
  if (has_name_iid) e.name = seq.names.Get(name_iid);
  if (has_category) {
    const StringId c = seq.categories.Get(category_iid);
    if (c != kMissingString) e.category = c;
  }
  for (int i = 0; i < annotation_count; ++i) {
    const std::string_view bytes(reinterpret_cast<const char*>(annotation_data[i]),
                                 annotation_size[i]);
    if (!DecodeAnnotation(seq, bytes, nullptr, 0, e)) return FastResult::kMalformed;
  }
  if (e.name == kMissingString) e.name = 0;
  if (e.correlation_id == 0) e.correlation_id = correlation;
  if (t > max_ts_) max_ts_ = t;
  AddEvent(TrackIndex(uuid), e);
  return FastResult::kDone;
}

}  // namespace scopetrace::exporters
