// Internal: PerfettoDecoder's per-event pairing, inline so that the decoders that call it
// once per event (perfetto_decoder.cc, perfetto_decoder_fast.cc) compile it into their own
// loop, with what they know of the event (an END without args: a few stores) folded in.
//
// BEGIN/END events become slices the way trace_processor pairs them (perfetto-format.md
// A.4): per track in time order (stable on file order), an END closes the innermost open
// slice, an END with nothing open is ignored, and what an END carries (args, flows,
// correlation id) belongs to the slice it closes. Slices go straight into the model's
// vector with their guessed model track (see perfetto_decoder.h); instants and counter
// samples carry their TrackDesc index until Finish maps it.

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_DECODER_PAIRING_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_DECODER_PAIRING_H_

#include <cstdint>
#include <vector>

#include "exporters/perfetto_decoder.h"
#include "exporters/perfetto_fields.h"

namespace scopetrace::exporters {

// end - begin for timestamps from the file, which may be hostile: computed without signed
// overflow, and 0 when the end precedes the begin.
inline int64_t NonNegativeSpan(int64_t begin, int64_t end) {
  if (end <= begin) return 0;
  const uint64_t span = static_cast<uint64_t>(end) - static_cast<uint64_t>(begin);
  return span > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(span);
}

inline void PerfettoDecoder::AddEvent(uint32_t track, const RawEvent& e) {
  TrackDesc& desc = tracks_[track];
  ++desc.event_count;
  if (pairing_ == Pairing::kBuffered) {
    desc.events.push_back(e);
    return;
  }
  // Only BEGIN and END need time order to pair; instants and counter samples are sorted at
  // Finish. scopetrace's writer puts a thread's instants after its slices: checking them
  // too would read every such file twice.
  if (e.type == pf::kTypeSliceBegin || e.type == pf::kTypeSliceEnd) {
    if (e.ts < desc.last_ts) {
      out_of_order_ = true;
      return;
    }
    desc.last_ts = e.ts;
  }
  PairEvent(track, e);
  args_.clear();  // streaming: args_ only ever holds the current event's
}

inline DeviceOpKind PerfettoDecoder::OpKindOf(StringId category) {
  if (category < op_kinds_.size() && op_kinds_[category] >= 0) [[likely]] {
    return static_cast<DeviceOpKind>(op_kinds_[category]);
  }
  return NewOpKind(category);
}

inline Slice& PerfettoDecoder::BeginSlice(uint32_t track, int64_t ts, StringId name,
                                          StringId category, uint64_t correlation_id,
                                          uint64_t flow_out, uint64_t flow_in) {
  TrackDesc& desc = tracks_[track];
  std::vector<Slice>& slices = trace_.mutable_slices();
  if (desc.guess == kUnguessed) [[unlikely]]
    GuessModelTrack(track);
  const auto index = static_cast<uint32_t>(slices.size());
  if (track != run_track_) [[unlikely]] {
    slice_runs_.push_back(SliceRun{index, track});
    run_track_ = track;
  }
  // Begun at the same time as the previous slice, which has already ended (so lasts 0):
  // this one may last longer and then comes first in the model's order.
  if (ts == desc.last_begin_ts && (desc.open.empty() || desc.open.back() != desc.last_begin)) {
    desc.ties = true;
  }
  desc.last_begin_ts = ts;
  desc.last_begin = index;
  desc.open.push_back(index);
  if (index >= populate_at_) [[unlikely]]
    PopulateSlicesAhead();
  // Every member given: plain stores, not a zero-fill of the slice and then the stores.
  // (Not emplace_back with the members: clang 14 has no parenthesized aggregate init.)
  slices.push_back(Slice{.track = desc.guess,
                         .name = name,
                         .category = category,
                         .op_kind = desc.guess_device ? OpKindOf(category) : DeviceOpKind::kNone,
                         .start_ns = ts,
                         .dur_ns = 0,
                         .correlation_id = correlation_id,
                         .flow_out = flow_out,
                         .flow_in = flow_in,
                         .args = {}});
  return slices.back();
}

inline Slice* PerfettoDecoder::EndSlice(uint32_t track, int64_t ts, uint64_t correlation_id,
                                        uint64_t flow_out, uint64_t flow_in) {
  TrackDesc& desc = tracks_[track];
  if (desc.open.empty()) return nullptr;
  Slice& s = trace_.mutable_slices()[desc.open.back()];
  desc.open.pop_back();
  s.dur_ns = NonNegativeSpan(s.start_ns, ts);
  if (s.flow_out == 0) s.flow_out = flow_out;
  if (s.flow_in == 0) s.flow_in = flow_in;
  if (s.correlation_id == 0) s.correlation_id = correlation_id;
  return &s;
}

inline void PerfettoDecoder::PairEvent(uint32_t track, const RawEvent& e) {
  switch (e.type) {
    case pf::kTypeSliceBegin: {
      Slice& s =
          BeginSlice(track, e.ts, e.name, e.category, e.correlation_id, e.flow_out, e.flow_in);
      if (e.args_count > 0) s.args = TakeArgs(e);
      break;
    }
    case pf::kTypeSliceEnd: {
      Slice* s = EndSlice(track, e.ts, e.correlation_id, e.flow_out, e.flow_in);
      if (s != nullptr && e.args_count > 0) {
        for (Arg& a : TakeArgs(e)) s->args.push_back(std::move(a));
      }
      break;
    }
    case pf::kTypeInstant: {
      Instant& i = trace_.mutable_instants().emplace_back();
      i.track = track;
      i.name = e.name;
      i.category = e.category;
      i.ts_ns = e.ts;
      if (e.args_count > 0) i.args = TakeArgs(e);
      break;
    }
    case pf::kTypeCounter:
      trace_.mutable_counters().push_back(CounterSample{track, e.ts, e.value});
      break;
    default:
      break;  // legacy or state events: not part of the model
  }
}

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_DECODER_PAIRING_H_
