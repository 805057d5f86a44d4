// Writes a Trace as Chrome trace event JSON (the object form):
//
//   {"traceEvents":[ M names and sort order, X slices (with flow markers, see json_flow.h),
//                    I instants, C counters ],
//    "displayTimeUnit":"ns",
//    "scopetrace":{ metadata, process and track layout (json_trace_metadata.h) }}
//
// Timestamps are written as exact decimal microseconds from integer nanoseconds (a few
// durations a fraction of a nanosecond short, for importers that add in doubles: see
// json_dur_nudges.h). All text goes through AppendJsonString, so the file is valid JSON
// and valid UTF-8 for any bytes.

#include <string>

#include "absl/strings/str_cat.h"
#include "exporters/json_dur_nudges.h"
#include "exporters/json_flow.h"
#include "exporters/json_output.h"
#include "exporters/json_trace_metadata.h"
#include "exporters/trace_io.h"
#include "fmt/format.h"

namespace scopetrace::exporters {
namespace {

using json::JsonOutput;

class EventWriter {
 public:
  EventWriter(const Trace& trace, JsonOutput& out) : trace_(trace), out_(out) {}

  void WriteAll() {
    for (const Process& process : trace_.processes()) {
      Metadata("process_name", process.pid, 0);
      out_.Raw(",\"args\":{\"name\":");
      out_.String(process.name);
      out_.Raw(process.is_device ? ",\"device\":true}}" : "}}");
      Metadata("process_sort_index", process.pid, 0);
      out_.Raw(",\"args\":{\"sort_index\":");
      out_.Int(process.sort_index);
      out_.Raw("}}");
    }
    for (const Track& track : trace_.tracks()) {
      if (track.kind == TrackKind::kCounter) continue;  // named by its C events
      Metadata("thread_name", track.pid, FileTid(track));
      out_.Raw(",\"args\":{\"name\":");
      out_.String(track.name);
      if (track.kind == TrackKind::kDeviceStream) {
        // The stream index, for readers of a cut file that lost the "scopetrace" object.
        out_.Raw(",\"stream\":");
        out_.Int(track.tid);
      }
      out_.Raw("}}");
      Metadata("thread_sort_index", track.pid, FileTid(track));
      out_.Raw(",\"args\":{\"sort_index\":");
      out_.Int(track.sort_index);
      out_.Raw("}}");
    }
    const std::vector<uint16_t> nudges = json::DurNudgesPs(trace_, FileTid);
    for (size_t i = 0; i < trace_.slices().size(); ++i) WriteSlice(trace_.slices()[i], nudges[i]);
    for (const Instant& instant : trace_.instants()) {
      Begin("I", trace_.str(instant.category), trace_.str(instant.name), track(instant.track),
            instant.ts_ns);
      out_.Raw(",\"s\":\"t\"");
      WriteArgs(instant.args, 0);
      out_.Char('}');
    }
    for (const CounterSample& sample : trace_.counters()) {
      const Track& t = track(sample.track);
      Begin("C", "counter", t.name, t, sample.ts_ns);
      out_.Raw(",\"args\":{\"value\":");
      out_.Double(sample.value);
      out_.Raw("}}");
    }
  }

 private:
  const Track& track(TrackId id) const { return trace_.tracks()[id]; }

  // Stream i is written as tid i + 1: tracerbench files tid 0 under the process, not a
  // thread, and Perfetto reserves tid 0 for the idle task, so "stream 0" would vanish. The
  // thread_name event and the "scopetrace" object carry the real index back to our reader.
  static int64_t FileTid(const Track& t) {
    return t.kind == TrackKind::kDeviceStream ? t.tid + 1 : t.tid;
  }

  void Separator() {
    if (!first_) out_.Raw(",\n");
    first_ = false;
  }

  void Metadata(std::string_view name, int64_t pid, int64_t tid) {
    Separator();
    out_.Raw("{\"ph\":\"M\",\"cat\":\"__metadata\",\"name\":\"");
    out_.Raw(name);
    out_.Raw("\",\"pid\":");
    out_.Int(pid);
    out_.Raw(",\"tid\":");
    out_.Int(tid);
  }

  // Opens an event object with the fields every event carries.
  void Begin(std::string_view ph, std::string_view cat, std::string_view name, const Track& t,
             int64_t ts_ns) {
    Separator();
    out_.Raw("{\"ph\":\"");
    out_.Raw(ph);
    out_.Raw("\",\"cat\":");
    out_.String(cat);
    out_.Raw(",\"name\":");
    out_.String(name);
    out_.Raw(",\"pid\":");
    out_.Int(t.pid);
    out_.Raw(",\"tid\":");
    out_.Int(FileTid(t));
    out_.Raw(",\"ts\":");
    out_.Micros(ts_ns);
  }

  void WriteArgs(const std::vector<Arg>& args, uint64_t correlation_id) {
    if (args.empty() && correlation_id == 0) return;
    out_.Raw(",\"args\":{");
    bool first = true;
    for (const Arg& arg : args) {
      if (!first) out_.Char(',');
      first = false;
      out_.String(trace_.str(arg.key));
      out_.Char(':');
      if (const auto* i = std::get_if<int64_t>(&arg.value)) {
        out_.Int(*i);
      } else if (const auto* d = std::get_if<double>(&arg.value)) {
        out_.Double(*d);
      } else if (const auto* b = std::get_if<bool>(&arg.value)) {
        out_.Bool(*b);
      } else {
        out_.String(std::get<std::string>(arg.value));
      }
    }
    if (correlation_id != 0) {
      if (!first) out_.Char(',');
      out_.Raw("\"correlation_id\":");
      out_.Uint(correlation_id);
    }
    out_.Char('}');
  }

  // `nudge_ps`: picoseconds off the written dur (json_dur_nudges.h), almost always 0.
  void WriteSlice(const Slice& slice, uint16_t nudge_ps) {
    const Track& t = track(slice.track);
    // Device ops carry their kind as category, whatever the producer interned.
    const std::string_view cat = slice.op_kind != DeviceOpKind::kNone
                                     ? DeviceOpKindCategory(slice.op_kind)
                                     : trace_.str(slice.category);
    Begin("X", cat, trace_.str(slice.name), t, slice.start_ns);
    out_.Raw(",\"dur\":");
    out_.MicrosLessPicos(slice.dur_ns < 0 ? 0 : slice.dur_ns, nudge_ps);
    WriteArgs(slice.args, slice.correlation_id);
    out_.Char('}');
    if (slice.flow_in == 0 && slice.flow_out == 0) return;
    Begin("I", json::kFlowCategory, json::kFlowName, t, slice.start_ns);
    out_.Raw(",\"s\":\"t\"}");
    if (slice.flow_in != 0) WriteFlowPhase("f", slice.flow_in, t, slice.start_ns);
    if (slice.flow_out != 0) WriteFlowPhase("s", slice.flow_out, t, slice.start_ns);
  }

  void WriteFlowPhase(std::string_view ph, uint64_t id, const Track& t, int64_t ts_ns) {
    Begin(ph, json::kFlowCategory, json::kFlowName, t, ts_ns);
    if (ph == "f") out_.Raw(",\"bp\":\"e\"");
    out_.Raw(",\"id\":");
    if (id <= json::kMaxExactJsonInteger) {
      out_.Uint(id);
    } else {
      out_.Raw(fmt::format("\"0x{:x}\"", id));
    }
    out_.Char('}');
  }

  const Trace& trace_;
  JsonOutput& out_;
  bool first_ = true;
};

// Events must point at existing tracks and names; a broken model is reported, not written.
absl::Status CheckReferences(const Trace& trace, const std::string& path) {
  const size_t tracks = trace.tracks().size();
  const size_t strings = trace.strings().size();
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(
        fmt::format("{}: cannot write trace: {} refers to a missing track or string", path, what));
  };
  for (const Slice& s : trace.slices()) {
    if (s.track >= tracks || s.name >= strings || s.category >= strings) return bad("a slice");
    for (const Arg& a : s.args) {
      if (a.key >= strings) return bad("a slice arg");
    }
  }
  for (const Instant& i : trace.instants()) {
    if (i.track >= tracks || i.name >= strings || i.category >= strings) return bad("an instant");
    for (const Arg& a : i.args) {
      if (a.key >= strings) return bad("an instant arg");
    }
  }
  for (const CounterSample& c : trace.counters()) {
    if (c.track >= tracks) return bad("a counter sample");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteChromeJson(const Trace& trace, const std::string& path) {
  if (absl::Status s = CheckReferences(trace, path); !s.ok()) return s;
  JsonOutput out;
  if (absl::Status s = out.Open(path); !s.ok()) return s;
  out.Raw("{\"traceEvents\":[\n");
  EventWriter(trace, out).WriteAll();
  out.Raw("\n],\n\"displayTimeUnit\":\"ns\",\n\"");
  out.Raw(json::kScopetraceKey);
  out.Raw("\":");
  json::WriteScopetraceObject(trace, out);
  out.Raw("}\n");
  return out.Close();
}

}  // namespace scopetrace::exporters
