#include "exporters/perfetto_decoder.h"

#include "exporters/perfetto_decoder_pairing.h"
#include "exporters/perfetto_decoder_state.h"
#include "exporters/perfetto_fields.h"
#include "exporters/perfetto_metadata.h"
#include "exporters/proto_wire.h"

namespace scopetrace::exporters {
namespace {

using wire::Decoder;
using wire::Field;

constexpr StringId kMissing = kMissingString;
// Nested debug annotations deeper than this are dropped: bounds recursion on hostile input.
constexpr int kMaxAnnotationDepth = 8;

}  // namespace

PerfettoDecoder::PerfettoDecoder(Pairing pairing) : pairing_(pairing) {
  correlation_key_ = trace_.intern(pf::kCorrelationIdArg);
}
PerfettoDecoder::~PerfettoDecoder() = default;

bool PerfettoDecoder::DecodeGeneral(std::string_view packet) {
  Decoder d(packet);
  Field f;
  uint64_t ts = 0;
  bool has_ts = false;
  uint32_t seq_id = 0, flags = 0, clock_id = 0;
  bool cleared = false, dropped = false;
  std::string_view event, interned, defaults, snapshot, descriptor, metadata;
  while (d.Next(f)) {
    switch (f.number) {
      case pf::kTimestamp:
        ts = f.value;
        has_ts = true;
        break;
      case pf::kSequenceId:
        seq_id = static_cast<uint32_t>(f.value);
        break;
      case pf::kSequenceFlags:
        flags = static_cast<uint32_t>(f.value);
        break;
      case pf::kTimestampClockId:
        clock_id = static_cast<uint32_t>(f.value);
        break;
      case pf::kIncrementalStateCleared:
        cleared = f.value != 0;
        break;
      case pf::kPreviousPacketDropped:
        dropped = f.value != 0;
        break;
      case pf::kTrackEvent:
        event = f.bytes;
        break;
      case pf::kInternedData:
        interned = f.bytes;
        break;
      case pf::kTracePacketDefaults:
        defaults = f.bytes;
        break;
      case pf::kClockSnapshot:
        snapshot = f.bytes;
        break;
      case pf::kTrackDescriptor:
        descriptor = f.bytes;
        break;
      case pf::kScopetraceMetadata:
        metadata = f.bytes;
        break;
      default:
        break;
    }
  }
  if (!d.ok()) return false;
  Sequence& seq = GetSequence(seq_id);
  if ((flags & pf::kSeqIncrementalStateCleared) != 0 || cleared) {
    seq.Reset();
    seq.valid = true;
  } else if (dropped) {
    seq.valid = false;
  }
  if (!defaults.empty()) DecodeDefaults(seq, defaults);
  if (!interned.empty() && seq.valid) DecodeInterned(seq, interned);
  if (!descriptor.empty() && !DecodeTrackDescriptor(descriptor)) return false;
  if (!metadata.empty()) {
    TraceMetadata m;
    bool complete = false;
    if (!DecodeMetadata(metadata, m, complete)) return false;
    saw_marker_ = true;
    if (complete) {
      file_metadata_ = std::move(m);
      saw_metadata_ = true;
    }
  }
  if (!snapshot.empty()) {
    DecodeSnapshot(seq, snapshot);
    return true;  // as in trace_processor: a snapshot packet carries nothing else
  }
  // trace_processor skips such packets until the state is valid again (A.2).
  if ((flags & pf::kSeqNeedsIncrementalState) != 0 && !seq.valid) return true;
  if (!has_ts) return true;  // a TrackEvent without timestamp is dropped, as in TP
  const int64_t t = ToTraceTime(seq, clock_id != 0 ? clock_id : seq.default_clock, ts);
  if (event.empty()) return true;
  return DecodeTrackEvent(seq, t, event);
}

bool PerfettoDecoder::DecodeAnnotation(Sequence& seq, std::string_view bytes,
                                       const std::string* prefix, int depth, RawEvent& event) {
  if (depth > kMaxAnnotationDepth) return true;
  Decoder d(bytes);
  Field f;
  StringId key = kMissing;
  std::string_view name;
  bool has_value = false;
  ArgValue value;
  std::vector<std::string_view> dict, array;
  while (d.Next(f)) {
    switch (f.number) {
      case pf::kDaNameIid:
        key = seq.arg_names.Get(f.value);
        break;
      case pf::kDaName:
        name = f.bytes;
        key = kMissing;
        break;
      case pf::kDaBool:
        value = f.value != 0;
        has_value = true;
        break;
      case pf::kDaUint:
      case pf::kDaInt:
      case pf::kDaPointer:
        value = f.as_int64();
        has_value = true;
        break;
      case pf::kDaDouble:
        value = f.as_double();
        has_value = true;
        break;
      case pf::kDaString:
      case pf::kDaLegacyJson:
        value = std::string(f.bytes);
        has_value = true;
        break;
      case pf::kDaStringIid: {
        const StringId s = seq.arg_strings.Get(f.value);
        value = std::string(s == kMissing ? std::string_view() : trace_.str(s));
        has_value = true;
        break;
      }
      case pf::kDaDictEntries:
        dict.push_back(f.bytes);
        break;
      case pf::kDaArrayValues:
        array.push_back(f.bytes);
        break;
      default:
        break;
    }
  }
  if (!d.ok()) return false;
  if (key == kMissing && !name.empty()) key = trace_.intern(name);
  if (prefix != nullptr) {
    // Nested: the key is the path ("a.b", "a[0]"); array elements arrive pre-named.
    const std::string_view own = key == kMissing ? std::string_view() : trace_.str(key);
    key = trace_.intern(own.empty() ? *prefix : *prefix + "." + std::string(own));
  }
  if (key == kMissing) key = trace_.intern("");
  if (!dict.empty() || !array.empty()) {
    const std::string path(trace_.str(key));
    for (std::string_view entry : dict) {
      if (!DecodeAnnotation(seq, entry, &path, depth + 1, event)) return false;
    }
    for (size_t i = 0; i < array.size(); ++i) {
      const std::string element = path + "[" + std::to_string(i) + "]";
      if (!DecodeAnnotation(seq, array[i], &element, depth + 1, event)) return false;
    }
  }
  if (!has_value) return true;
  if (key == correlation_key_ && prefix == nullptr) {
    if (const int64_t* id = std::get_if<int64_t>(&value)) {
      event.correlation_id = static_cast<uint64_t>(*id);
      return true;
    }
  }
  args_.push_back(Arg{key, std::move(value)});
  ++event.args_count;
  return true;
}

bool PerfettoDecoder::DecodeTrackEvent(Sequence& seq, int64_t ts, std::string_view bytes) {
  RawEvent e{ts, 0, kMissing, 0, static_cast<uint32_t>(args_.size()), 0, 0, 0, 0, 0};
  uint64_t track = seq.default_track;
  uint64_t correlation_field = 0;
  Decoder d(bytes);
  Field f;
  while (d.Next(f)) {
    switch (f.number) {
      case pf::kTeType:
        e.type = static_cast<uint32_t>(f.value);
        break;
      case pf::kTeTrackUuid:
        track = f.value;
        break;
      case pf::kTeNameIid:
        e.name = seq.names.Get(f.value);
        break;
      case pf::kTeName:
        e.name = trace_.intern(f.bytes);
        break;
      case pf::kTeCategoryIids:
      case pf::kTeCategories: {
        const StringId c =
            f.number == pf::kTeCategories ? trace_.intern(f.bytes) : seq.categories.Get(f.value);
        if (c == kMissing) break;
        // Several categories are joined with ',' as trace_processor does.
        e.category = e.category == 0 ? c
                                     : trace_.intern(std::string(trace_.str(e.category)) + "," +
                                                     std::string(trace_.str(c)));
        break;
      }
      case pf::kTeDebugAnnotations:
        if (!DecodeAnnotation(seq, f.bytes, nullptr, 0, e)) return false;
        break;
      case pf::kTeCounterValue:
        e.value = static_cast<double>(f.as_int64());
        break;
      case pf::kTeDoubleCounterValue:
        e.value = f.as_double();
        break;
      case pf::kTeFlowIds:
      case pf::kTeFlowIdsOld:
        if (e.flow_out == 0) e.flow_out = f.value;
        break;
      case pf::kTeTerminatingFlowIds:
      case pf::kTeTerminatingFlowIdsOld:
        if (e.flow_in == 0) e.flow_in = f.value;
        break;
      case pf::kTeCorrelationId:
        correlation_field = f.value;
        break;
      default:
        break;
    }
  }
  if (!d.ok()) return false;
  if (e.name == kMissing) e.name = 0;
  if (e.correlation_id == 0) e.correlation_id = correlation_field;
  if (ts > max_ts_) max_ts_ = ts;
  AddEvent(TrackIndex(track), e);
  return true;
}

}  // namespace scopetrace::exporters
