// PerfettoDecoder's event pairing: BEGIN/END events become slices, the way trace_processor
// pairs them (perfetto-format.md A.4): per track in time order (stable on file order), an
// END closes the innermost open slice, an END with nothing open is ignored, and what an
// END carries (args, flows, correlation id) belongs to the slice it closes.

#include <algorithm>

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

}  // namespace

void PerfettoDecoder::AddEvent(uint32_t track, const RawEvent& e) {
  TrackDesc& desc = tracks_[track];
  ++desc.event_count;
  if (pairing_ == Pairing::kBuffered) {
    desc.events.push_back(e);
    return;
  }
  if (e.ts < desc.last_ts) {
    out_of_order_ = true;
    return;
  }
  desc.last_ts = e.ts;
  PairEvent(track, e);
  args_.clear();  // streaming: args_ only ever holds the current event's
}

std::vector<Arg> PerfettoDecoder::TakeArgs(const RawEvent& e) {
  auto first = args_.begin() + e.args_begin;
  return std::vector<Arg>(std::make_move_iterator(first),
                          std::make_move_iterator(first + e.args_count));
}

void PerfettoDecoder::PairEvent(uint32_t track, const RawEvent& e) {
  TrackDesc& desc = tracks_[track];
  std::vector<Slice>& slices = trace_.mutable_slices();
  switch (e.type) {
    case pf::kTypeSliceBegin: {
      desc.open.push_back(static_cast<uint32_t>(slices.size()));
      // Every member given: plain stores, not a zero-fill of the slice and then the stores.
      slices.push_back(Slice{.track = track,
                             .name = e.name,
                             .category = e.category,
                             .op_kind = DeviceOpKind::kNone,
                             .start_ns = e.ts,
                             .dur_ns = 0,
                             .correlation_id = e.correlation_id,
                             .flow_out = e.flow_out,
                             .flow_in = e.flow_in,
                             .args = e.args_count > 0 ? TakeArgs(e) : std::vector<Arg>()});
      break;
    }
    case pf::kTypeSliceEnd: {
      if (desc.open.empty()) break;
      Slice& s = slices[desc.open.back()];
      desc.open.pop_back();
      s.dur_ns = NonNegativeSpan(s.start_ns, e.ts);
      if (e.args_count > 0) {
        for (Arg& a : TakeArgs(e)) s.args.push_back(std::move(a));
      }
      if (s.flow_out == 0) s.flow_out = e.flow_out;
      if (s.flow_in == 0) s.flow_in = e.flow_in;
      if (s.correlation_id == 0) s.correlation_id = e.correlation_id;
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

void PerfettoDecoder::PairBufferedEvents() {
  auto by_ts = [](const RawEvent& a, const RawEvent& b) { return a.ts < b.ts; };
  for (uint32_t t = 0; t < tracks_.size(); ++t) {
    std::vector<RawEvent>& events = tracks_[t].events;
    if (!std::is_sorted(events.begin(), events.end(), by_ts)) {
      std::stable_sort(events.begin(), events.end(), by_ts);
    }
    for (const RawEvent& e : events) PairEvent(t, e);
    std::vector<RawEvent>().swap(events);
  }
  args_.clear();
}

void PerfettoDecoder::CloseOpenSlices() {
  // Never ended (the file was cut): they last until the last timestamp in the file.
  std::vector<Slice>& slices = trace_.mutable_slices();
  for (TrackDesc& desc : tracks_) {
    for (uint32_t i : desc.open) slices[i].dur_ns = NonNegativeSpan(slices[i].start_ns, max_ts_);
    std::vector<uint32_t>().swap(desc.open);
  }
}

void PerfettoDecoder::ReserveForWholeFile(double fraction) {
  if (!(fraction > 0) || fraction >= 1) return;
  // A margin for later parts of the file being denser; a bound on the extrapolation and on
  // the size of one reservation, so a small sample (or a hostile file) cannot reserve
  // absurd amounts: past the bound the vectors simply grow.
  constexpr double kMaxScale = 64;
  constexpr size_t kMaxBytes = size_t{1} << 30;
  const double scale = std::min(1.25 / fraction, kMaxScale);
  auto estimate = [&](size_t now, size_t bytes_each) {
    return std::min(static_cast<size_t>(static_cast<double>(now) * scale), kMaxBytes / bytes_each);
  };
  trace_.ReserveEvents(estimate(trace_.slices().size(), sizeof(Slice)),
                       estimate(trace_.instants().size(), sizeof(Instant)),
                       estimate(trace_.counters().size(), sizeof(CounterSample)));
}

}  // namespace scopetrace::exporters
