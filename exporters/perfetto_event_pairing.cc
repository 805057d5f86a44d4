// PerfettoDecoder's event pairing: BEGIN/END events become slices, the way trace_processor
// pairs them (perfetto-format.md A.4): per track in time order (stable on file order), an
// END closes the innermost open slice, an END with nothing open is ignored, and what an
// END carries (args, flows, correlation id) belongs to the slice it closes.
//
// The per-event part is inline (perfetto_decoder_pairing.h); here the rest.

#include <algorithm>
#include <cstdint>

#include "exporters/perfetto_decoder_pairing.h"
#include "src/populate_pages.h"

namespace scopetrace::exporters {

std::vector<Arg> PerfettoDecoder::TakeArgs(const RawEvent& e) {
  auto first = args_.begin() + e.args_begin;
  return std::vector<Arg>(std::make_move_iterator(first),
                          std::make_move_iterator(first + e.args_count));
}

DeviceOpKind PerfettoDecoder::NewOpKind(StringId category) {
  // Few distinct categories: each is compared with the device op names once.
  if (category >= op_kinds_.size()) op_kinds_.resize(trace_.strings().size(), -1);
  int8_t& kind = op_kinds_[category];
  if (kind < 0) kind = static_cast<int8_t>(DeviceOpKindFromCategory(trace_.str(category)));
  return static_cast<DeviceOpKind>(kind);
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
  // Plain reservations, no huge-page advice (Trace::ReserveEvents dropped it too): on the
  // VMs we measure on a fresh 2 MiB page is often memory the host has taken back; zeroing them
  // took half the CPU time of reading a 10 M-event file (the JSON reader measured 3.7 s per
  // 700 MB against 0.45 s in 4 KiB pages). Unused capacity is address space only.
  std::vector<Slice>& slices = trace_.mutable_slices();
  populator_.Stop();  // the buffer it maps pages of is about to go
  slices.reserve(estimate(slices.size(), sizeof(Slice)));
  populate_at_ = slices.size();  // the new buffer's pages past the copied slices are fresh
  populated_to_ = 0;
  trace_.mutable_instants().reserve(estimate(trace_.instants().size(), sizeof(Instant)));
  trace_.mutable_counters().reserve(estimate(trace_.counters().size(), sizeof(CounterSample)));
}

void PerfettoDecoder::PopulateSlicesAhead() {
  // Slices are most of a trace's memory (80 bytes each, 800 MB for 10 M): their pages are
  // mapped ahead of the decoder by madvise, not one fault per 4 KiB page, and on the
  // populator's thread (about 40 % of a read's CPU on our VMs otherwise). Called at each
  // window boundary: the next windows are queued there, and the first window of a buffer
  // is mapped here, since the decoder is about to write it.
  std::vector<Slice>& slices = trace_.mutable_slices();
  const size_t size = slices.size();
  const size_t capacity = slices.capacity();
  if (size == capacity) {
    // This slice reallocates the vector: nothing may populate the old buffer any more.
    populator_.Stop();
    populated_to_ = 0;
    populate_at_ = size + 1;  // back here on the new buffer
    return;
  }
  constexpr size_t kWindowBytes = size_t{8} << 20;
  constexpr size_t kWindow = kWindowBytes / sizeof(Slice);
  constexpr size_t kWindowsAhead = 2;
  if (populated_to_ <= size) populated_to_ = internal::PopulateAhead(slices, kWindowBytes);
  const size_t ahead = std::min(capacity, size + kWindowsAhead * kWindow);
  if (ahead > populated_to_) {
    populator_.Request(slices.data() + populated_to_, (ahead - populated_to_) * sizeof(Slice));
    populated_to_ = ahead;
  }
  populate_at_ = std::min(capacity, size + kWindow);
}

}  // namespace scopetrace::exporters
