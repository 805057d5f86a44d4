// Internal: turns decoded TracePackets into scopetrace's Trace model.
//
// `Decode` is called once per packet in file order. It keeps Perfetto's per-sequence
// state (incremental state validity, interned strings, packet defaults, sequence-scoped
// clocks) the way trace_processor does (perfetto-format.md A.2, A.6, A.7), so files from
// other writers (the Perfetto SDK: several sequences, interning, incremental clocks,
// parent_uuid hierarchies) read too. `Finish` maps the track uuids to processes and
// tracks and puts the events in the model's order.
//
// BEGIN/END pairing follows trace_processor: per track, events sorted stably by time, an
// END closes the innermost open slice. Two ways to get there (`Pairing`):
// - kStreaming pairs each event as it is decoded, straight into the model's vectors. It
//   needs each track's events in time order in the file, which is what scopetrace and the
//   Perfetto SDK write; the first BEGIN or END that goes back in time on its track sets
//   `out_of_order()`, and the caller starts over with kBuffered. Instants and counter
//   samples are not paired: they may come in any order (Finish sorts them).
// - kBuffered keeps every track's events, sorts them at Finish, then pairs: any order.
//
// The packets scopetrace's own writer emits for events (only a sequence id, flags, a
// timestamp and a TrackEvent of iids, ids and annotations) take a fast path
// (perfetto_decoder_fast.cc) that checks the expected tags one by one; anything else, or
// anything it is unsure of, goes through the general field loop, which gives the same
// result. Slices are written once, straight into the model: each carries the model track
// its uuid is expected to get (`TrackDesc::guess`), and Finish only rewrites the stretches
// whose guess turned out wrong and sorts only if the stretches are not in model order.

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_DECODER_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_DECODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "scopetrace/trace.h"
#include "src/page_populator.h"

namespace scopetrace::exporters {

class PerfettoDecoder {
 public:
  enum class Pairing { kStreaming, kBuffered };

  explicit PerfettoDecoder(Pairing pairing);
  ~PerfettoDecoder();

  // False if the packet is malformed (its fields do not decode). After out_of_order()
  // the packets are not looked at any more.
  bool Decode(std::string_view packet) {
    if (out_of_order_) return true;  // the caller decodes again, buffered
    const FastResult fast = DecodeFast(packet);
    if (fast != FastResult::kNotHandled) return fast == FastResult::kDone;
    return DecodeGeneral(packet);
  }

  // kStreaming met a track whose events are not in time order: decode again, buffered.
  bool out_of_order() const { return out_of_order_; }

  // Called once some of the file is decoded: reserves the model's event vectors for the
  // whole file, extrapolating from what the decoded `fraction` of it held.
  void ReserveForWholeFile(double fraction);

  // The model of everything decoded so far. Call once.
  Trace Finish();

  // A scopetrace writer's start marker was seen, and its final metadata packet.
  bool saw_marker() const { return saw_marker_; }
  bool saw_metadata() const { return saw_metadata_; }

 private:
  struct Sequence;
  struct ClockState;

  struct RawEvent {
    int64_t ts;
    uint32_t type;
    StringId name;
    StringId category;
    uint32_t args_begin;  // range in args_
    uint32_t args_count;
    uint64_t flow_out;
    uint64_t flow_in;
    uint64_t correlation_id;
    double value;
  };

  struct TrackDesc {
    uint64_t uuid = 0;
    bool described = false;
    uint64_t parent = 0;
    std::string name;
    bool has_process = false;
    bool has_thread = false;
    bool is_counter = false;
    int64_t pid = 0;
    int64_t tid = 0;
    std::string process_name;
    std::string thread_name;
    // scopetrace's own track identity (TrackDescriptor field 61731), when present.
    bool has_ext = false;
    uint32_t ext_kind = 0;
    int64_t ext_pid = 0;
    int64_t ext_tid = 0;
    std::string ext_name;
    int32_t ext_sort_index = 0;
    bool ext_is_device = false;
    // Events: their number, the latest BEGIN/END time (kStreaming: pairing needs time order), the
    // slices begun and not ended yet (indices into the model's slices, innermost last),
    // and (kBuffered only) the events themselves, paired at Finish.
    uint64_t event_count = 0;
    int64_t last_ts = INT64_MIN;
    std::vector<uint32_t> open;
    std::vector<RawEvent> events;
    // The model track this uuid's slices are written with (what Finish would give it if
    // the file ended at its first slice; kUnguessed before that), and whether that track
    // is a device stream (slices then get their op_kind at once).
    uint32_t guess = kUnguessed;
    bool guess_device = false;
    // Set when two of its slices start at the same time and the second one cannot be
    // nested in the first: the model's order (longer first) may then differ from the
    // order they were begun in.
    bool ties = false;
    int64_t last_begin_ts = INT64_MIN;
    uint32_t last_begin = UINT32_MAX;  // index in the model's slices
  };

  // A stretch of the model's slices that all belong to one TrackDesc: the slices carry
  // only the guessed model track, the runs keep which uuid each came from.
  struct SliceRun {
    uint32_t begin;  // index of the first slice
    uint32_t track;  // index into tracks_
  };

  static constexpr uint32_t kUnguessed = UINT32_MAX - 1;
  // Past this many uuids no guesses are made (each costs a resolution of all tracks):
  // their slices are rewritten at Finish instead.
  static constexpr size_t kMaxGuessTracks = 256;

  enum class FastResult { kDone, kMalformed, kNotHandled };

  // Per packet and per event: the common case (same sequence / track as last time)
  // inline, the rest out of line.
  Sequence& GetSequence(uint32_t id) {
    if (last_sequence_ != nullptr && id == last_sequence_id_) return *last_sequence_;
    return FindSequence(id);
  }
  Sequence& FindSequence(uint32_t id);
  uint32_t TrackIndex(uint64_t uuid) {  // into tracks_, added if new
    return uuid == last_uuid_ ? last_track_ : FindTrack(uuid);
  }
  uint32_t FindTrack(uint64_t uuid);
  int64_t ToTraceTime(Sequence& seq, uint32_t clock_id, uint64_t ts);
  FastResult DecodeFast(std::string_view packet);  // perfetto_decoder_fast.cc
  bool DecodeGeneral(std::string_view packet);
  void DecodeDefaults(Sequence& seq, std::string_view bytes);
  void DecodeInterned(Sequence& seq, std::string_view bytes);
  void DecodeSnapshot(Sequence& seq, std::string_view bytes);
  bool DecodeTrackDescriptor(std::string_view bytes);
  bool DecodeTrackEvent(Sequence& seq, int64_t ts, std::string_view bytes);
  bool DecodeAnnotation(Sequence& seq, std::string_view bytes, const std::string* prefix, int depth,
                        RawEvent& event);

  // Event pairing (perfetto_event_pairing.cc). Slices carry their guessed model track,
  // instants and counter samples the index of their TrackDesc until Finish maps it.
  void AddEvent(uint32_t track, const RawEvent& e);
  void PairEvent(uint32_t track, const RawEvent& e);
  // The slice begun (without args: the caller moves them in).
  Slice& BeginSlice(uint32_t track, int64_t ts, StringId name, StringId category,
                    uint64_t correlation_id, uint64_t flow_out, uint64_t flow_in);
  // The slice closed, if one was open.
  Slice* EndSlice(uint32_t track, int64_t ts, uint64_t correlation_id, uint64_t flow_out,
                  uint64_t flow_in);
  void PairBufferedEvents();
  void CloseOpenSlices();
  std::vector<Arg> TakeArgs(const RawEvent& e);
  DeviceOpKind OpKindOf(StringId category);   // a device slice's kind, from its category
  DeviceOpKind NewOpKind(StringId category);  // OpKindOf's first time for a category
  void PopulateSlicesAhead();                 // maps the next slices' pages for writing

  // Finish() helpers (perfetto_model_builder.cc).
  int64_t AncestorPid(const TrackDesc& desc, bool* is_device) const;
  void ResolveTracks(Trace& into, std::vector<TrackId>& model_track) const;
  void GuessModelTrack(uint32_t track);
  void PlaceSlices(const std::vector<TrackId>& model_track);
  void MapPointsToModelTracks(const std::vector<TrackId>& model_track);

  const Pairing pairing_;
  bool out_of_order_ = false;
  Trace trace_;
  TraceMetadata file_metadata_;
  bool saw_marker_ = false;
  bool saw_metadata_ = false;
  absl::flat_hash_map<uint32_t, std::unique_ptr<Sequence>> sequences_;
  uint32_t last_sequence_id_ = UINT32_MAX;
  Sequence* last_sequence_ = nullptr;
  absl::flat_hash_map<uint32_t, std::unique_ptr<ClockState>> global_clocks_;
  uint32_t trace_clock_ = 6;  // BOOTTIME unless a snapshot names a primary clock
  absl::flat_hash_map<uint64_t, uint32_t> track_index_;
  std::vector<TrackDesc> tracks_;
  std::vector<uint32_t> descriptor_order_;  // indices into tracks_, as described
  static constexpr uint64_t kDenseUuids = 1 << 16;
  std::vector<uint32_t> dense_tracks_;  // uuid < kDenseUuids → index into tracks_ + 1 (0: none)
  uint64_t last_uuid_ = UINT64_MAX;
  uint32_t last_track_ = 0;
  std::vector<Arg> args_;
  std::vector<SliceRun> slice_runs_;
  uint32_t run_track_ = UINT32_MAX;  // the TrackDesc of the latest slice begun
  std::vector<int8_t> op_kinds_;     // per category StringId: DeviceOpKind, -1 unknown yet
  size_t populate_at_ = 0;           // the slice index at which PopulateSlicesAhead runs next
  size_t populated_to_ = 0;          // slices below this index are mapped or queued to be
  // Declared after trace_: destroyed (stopped) before the slices it maps pages of.
  internal::PagePopulator populator_;
  StringId correlation_key_;
  int64_t max_ts_ = INT64_MIN;
};

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_DECODER_H_
