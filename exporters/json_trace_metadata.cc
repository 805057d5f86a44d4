#include "exporters/json_trace_metadata.h"

#include <cmath>
#include <limits>
#include <string>

#include "exporters/json_number.h"
#include "fmt/format.h"

namespace scopetrace::exporters::json {
namespace {

// --- Writing ---------------------------------------------------------------------------

// Writes `"key":` preceded by a comma unless it is the first member of its object.
class ObjectWriter {
 public:
  explicit ObjectWriter(JsonOutput& out) : out_(out) { out_.Char('{'); }
  ~ObjectWriter() { out_.Char('}'); }
  JsonOutput& Key(std::string_view key) {
    if (!first_) out_.Char(',');
    first_ = false;
    out_.String(key);
    out_.Char(':');
    return out_;
  }

 private:
  JsonOutput& out_;
  bool first_ = true;
};

std::string_view TrackKindName(TrackKind kind) {
  switch (kind) {
    case TrackKind::kThread:
      return "thread";
    case TrackKind::kDeviceStream:
      return "device_stream";
    case TrackKind::kCounter:
      return "counter";
  }
  return "thread";
}

void WriteStrings(const std::vector<std::string>& strings, JsonOutput& out) {
  out.Char('[');
  for (size_t i = 0; i < strings.size(); ++i) {
    if (i > 0) out.Char(',');
    out.String(strings[i]);
  }
  out.Char(']');
}

void WriteOverhead(const OverheadReport& o, JsonOutput& out) {
  ObjectWriter w(out);
  w.Key("scope_cost_ns").Double(o.scope_cost_ns);
  w.Key("instant_cost_ns").Double(o.instant_cost_ns);
  w.Key("counter_cost_ns").Double(o.counter_cost_ns);
  w.Key("total_ns").Double(o.total_ns);
  w.Key("percent").Double(o.percent);
  w.Key("budget_percent").Double(o.budget_percent);
  w.Key("over_budget").Bool(o.over_budget);
  w.Key("threads").Char('[');
  for (size_t i = 0; i < o.threads.size(); ++i) {
    if (i > 0) out.Char(',');
    ObjectWriter t(out);
    t.Key("tid").Int(o.threads[i].tid);
    t.Key("thread_name").String(o.threads[i].thread_name);
    t.Key("events").Uint(o.threads[i].events);
    t.Key("overhead_ns").Double(o.threads[i].overhead_ns);
    t.Key("percent").Double(o.threads[i].percent);
  }
  out.Char(']');
  WriteStrings(o.top_scopes, w.Key("top_scopes"));
  WriteStrings(o.policy_decisions, w.Key("policy_decisions"));
}

// --- Reading ---------------------------------------------------------------------------

// Reads optional fields of one object, remembering the first type error.
class FieldReader {
 public:
  FieldReader(const Value& object, std::string_view where, absl::Status* status)
      : object_(object), where_(where), status_(*status) {}

  void Int(std::string_view key, int64_t* out) {
    const Value* v = Get(key);
    if (v != nullptr && !(v->is_number() && ParseInt64(v->text, out))) Fail(key, "an integer");
  }
  void Int32(std::string_view key, int32_t* out) {
    int64_t wide = *out;
    Int(key, &wide);
    if (wide < std::numeric_limits<int32_t>::min() || wide > std::numeric_limits<int32_t>::max()) {
      Fail(key, "a 32-bit integer");
      return;
    }
    *out = static_cast<int32_t>(wide);
  }
  void Uint(std::string_view key, uint64_t* out) {
    const Value* v = Get(key);
    if (v != nullptr && !(v->is_number() && ParseUint64(v->text, out))) {
      Fail(key, "an unsigned integer");
    }
  }
  void Double(std::string_view key, double* out) {
    const Value* v = Get(key);
    if (v == nullptr) return;
    if (v->type == Type::kNull) {  // the writer's NaN
      *out = std::numeric_limits<double>::quiet_NaN();
    } else if (!(v->is_number() && ParseDouble(v->text, out))) {
      Fail(key, "a number");
    }
  }
  void Bool(std::string_view key, bool* out) {
    const Value* v = Get(key);
    if (v == nullptr) return;
    if (v->type != Type::kBool) {
      Fail(key, "true or false");
      return;
    }
    *out = v->boolean;
  }
  void String(std::string_view key, std::string* out) {
    const Value* v = Get(key);
    if (v == nullptr) return;
    if (!v->is_string()) {
      Fail(key, "a string");
      return;
    }
    out->assign(v->text);
  }
  void Strings(std::string_view key, std::vector<std::string>* out) {
    const Value* v = Get(key);
    if (v == nullptr) return;
    if (v->type != Type::kArray) {
      Fail(key, "an array of strings");
      return;
    }
    out->clear();
    for (const Value& item : v->items) {
      if (!item.is_string()) {
        Fail(key, "an array of strings");
        return;
      }
      out->emplace_back(item.text);
    }
  }
  // The array under `key`, or an empty array.
  const std::vector<Value>& Array(std::string_view key) {
    static const std::vector<Value> kEmpty;
    const Value* v = Get(key);
    if (v == nullptr) return kEmpty;
    if (v->type != Type::kArray) {
      Fail(key, "an array");
      return kEmpty;
    }
    return v->items;
  }
  const Value* Object(std::string_view key) {
    const Value* v = Get(key);
    if (v != nullptr && v->type != Type::kObject) {
      Fail(key, "an object");
      return nullptr;
    }
    return v;
  }

 private:
  const Value* Get(std::string_view key) { return object_.Find(key); }
  void Fail(std::string_view key, std::string_view expected) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(
          fmt::format("metadata field {}.{} is not {}", where_, key, expected));
    }
  }

  const Value& object_;
  std::string where_;
  absl::Status& status_;
};

}  // namespace

void WriteScopetraceObject(const Trace& trace, JsonOutput& out) {
  const TraceMetadata& m = trace.metadata();
  ObjectWriter w(out);
  w.Key("format_version").Int(1);
  w.Key("producer").String(m.producer);
  w.Key("worker").String(m.worker);
  w.Key("pid").Int(m.pid);
  w.Key("cycle").Int(m.cycle);
  w.Key("first_step").Int(m.first_step);
  w.Key("last_step").Int(m.last_step);
  w.Key("has_schedule").Bool(m.has_schedule);
  {
    ObjectWriter s(w.Key("schedule"));
    s.Key("skip_first").Int(m.schedule.skip_first);
    s.Key("wait").Int(m.schedule.wait);
    s.Key("warmup").Int(m.schedule.warmup);
    s.Key("active").Int(m.schedule.active);
    s.Key("repeat").Int(m.schedule.repeat);
  }
  w.Key("start_ns").Int(m.start_ns);
  w.Key("end_ns").Int(m.end_ns);
  w.Key("wall_clock_ns").Int(m.wall_clock_ns);
  w.Key("dropped").Char('[');
  for (size_t i = 0; i < m.dropped.size(); ++i) {
    if (i > 0) out.Char(',');
    ObjectWriter d(out);
    d.Key("tid").Int(m.dropped[i].tid);
    d.Key("thread_name").String(m.dropped[i].thread_name);
    d.Key("dropped_events").Uint(m.dropped[i].dropped_events);
  }
  out.Char(']');
  w.Key("dropped_events").Uint(m.dropped_events);
  w.Key("device_records_late").Uint(m.device_records_late);
  w.Key("device_records_missing").Uint(m.device_records_missing);
  w.Key("clock_fits").Char('[');
  for (size_t i = 0; i < m.clock_fits.size(); ++i) {
    if (i > 0) out.Char(',');
    const ClockFit& f = m.clock_fits[i];
    ObjectWriter c(out);
    c.Key("device").String(f.device);
    c.Key("tick_rate_hz").Double(f.tick_rate_hz);
    c.Key("reference_ticks").Int(f.reference_ticks);
    c.Key("offset_ns").Double(f.offset_ns);
    c.Key("slope_ns_per_tick").Double(f.slope_ns_per_tick);
    c.Key("drift_ppm").Double(f.drift_ppm);
    c.Key("pairs").Int(f.pairs);
    c.Key("max_residual_ns").Double(f.max_residual_ns);
    c.Key("max_half_bracket_ns").Double(f.max_half_bracket_ns);
    c.Key("error_bound_ns").Double(f.error_bound_ns);
  }
  out.Char(']');
  WriteOverhead(m.overhead, w.Key("overhead"));
  w.Key("truncated").Bool(m.truncated);
  w.Key("truncation_reason").String(m.truncation_reason);
  w.Key("processes").Char('[');
  for (size_t i = 0; i < trace.processes().size(); ++i) {
    if (i > 0) out.Char(',');
    const Process& p = trace.processes()[i];
    ObjectWriter o(out);
    o.Key("pid").Int(p.pid);
    o.Key("name").String(p.name);
    o.Key("sort_index").Int(p.sort_index);
    o.Key("is_device").Bool(p.is_device);
  }
  out.Char(']');
  w.Key("tracks").Char('[');
  for (size_t i = 0; i < trace.tracks().size(); ++i) {
    if (i > 0) out.Char(',');
    const Track& t = trace.tracks()[i];
    ObjectWriter o(out);
    o.Key("kind").String(TrackKindName(t.kind));
    o.Key("pid").Int(t.pid);
    o.Key("tid").Int(t.tid);
    o.Key("name").String(t.name);
    o.Key("sort_index").Int(t.sort_index);
  }
  out.Char(']');
}

absl::Status ReadScopetraceObject(const Value& value, ScopetraceObject* out) {
  absl::Status status;
  if (value.type != Type::kObject) {
    return absl::InvalidArgumentError(fmt::format("{} is not an object", kScopetraceKey));
  }
  TraceMetadata& m = out->metadata;
  FieldReader r(value, kScopetraceKey, &status);
  r.String("producer", &m.producer);
  r.String("worker", &m.worker);
  r.Int("pid", &m.pid);
  r.Int("cycle", &m.cycle);
  r.Int("first_step", &m.first_step);
  r.Int("last_step", &m.last_step);
  r.Bool("has_schedule", &m.has_schedule);
  if (const Value* s = r.Object("schedule")) {
    FieldReader sr(*s, "schedule", &status);
    sr.Int("skip_first", &m.schedule.skip_first);
    sr.Int("wait", &m.schedule.wait);
    sr.Int("warmup", &m.schedule.warmup);
    sr.Int("active", &m.schedule.active);
    sr.Int("repeat", &m.schedule.repeat);
  }
  r.Int("start_ns", &m.start_ns);
  r.Int("end_ns", &m.end_ns);
  r.Int("wall_clock_ns", &m.wall_clock_ns);
  for (const Value& item : r.Array("dropped")) {
    ThreadDrops& d = m.dropped.emplace_back();
    FieldReader dr(item, "dropped[]", &status);
    dr.Int("tid", &d.tid);
    dr.String("thread_name", &d.thread_name);
    dr.Uint("dropped_events", &d.dropped_events);
  }
  r.Uint("dropped_events", &m.dropped_events);
  r.Uint("device_records_late", &m.device_records_late);
  r.Uint("device_records_missing", &m.device_records_missing);
  for (const Value& item : r.Array("clock_fits")) {
    ClockFit& f = m.clock_fits.emplace_back();
    FieldReader fr(item, "clock_fits[]", &status);
    fr.String("device", &f.device);
    fr.Double("tick_rate_hz", &f.tick_rate_hz);
    fr.Int("reference_ticks", &f.reference_ticks);
    fr.Double("offset_ns", &f.offset_ns);
    fr.Double("slope_ns_per_tick", &f.slope_ns_per_tick);
    fr.Double("drift_ppm", &f.drift_ppm);
    fr.Int("pairs", &f.pairs);
    fr.Double("max_residual_ns", &f.max_residual_ns);
    fr.Double("max_half_bracket_ns", &f.max_half_bracket_ns);
    fr.Double("error_bound_ns", &f.error_bound_ns);
  }
  if (const Value* o = r.Object("overhead")) {
    OverheadReport& ov = m.overhead;
    FieldReader orr(*o, "overhead", &status);
    orr.Double("scope_cost_ns", &ov.scope_cost_ns);
    orr.Double("instant_cost_ns", &ov.instant_cost_ns);
    orr.Double("counter_cost_ns", &ov.counter_cost_ns);
    orr.Double("total_ns", &ov.total_ns);
    orr.Double("percent", &ov.percent);
    orr.Double("budget_percent", &ov.budget_percent);
    orr.Bool("over_budget", &ov.over_budget);
    for (const Value& item : orr.Array("threads")) {
      ThreadOverhead& t = ov.threads.emplace_back();
      FieldReader tr(item, "overhead.threads[]", &status);
      tr.Int("tid", &t.tid);
      tr.String("thread_name", &t.thread_name);
      tr.Uint("events", &t.events);
      tr.Double("overhead_ns", &t.overhead_ns);
      tr.Double("percent", &t.percent);
    }
    orr.Strings("top_scopes", &ov.top_scopes);
    orr.Strings("policy_decisions", &ov.policy_decisions);
  }
  r.Bool("truncated", &m.truncated);
  r.String("truncation_reason", &m.truncation_reason);
  for (const Value& item : r.Array("processes")) {
    Process& p = out->processes.emplace_back();
    FieldReader pr(item, "processes[]", &status);
    pr.Int("pid", &p.pid);
    pr.String("name", &p.name);
    pr.Int32("sort_index", &p.sort_index);
    pr.Bool("is_device", &p.is_device);
  }
  for (const Value& item : r.Array("tracks")) {
    Track& t = out->tracks.emplace_back();
    FieldReader tr(item, "tracks[]", &status);
    std::string kind = "thread";
    tr.String("kind", &kind);
    t.kind = kind == "device_stream" ? TrackKind::kDeviceStream
             : kind == "counter"     ? TrackKind::kCounter
                                     : TrackKind::kThread;
    tr.Int("pid", &t.pid);
    tr.Int("tid", &t.tid);
    tr.String("name", &t.name);
    tr.Int32("sort_index", &t.sort_index);
  }
  return status;
}

}  // namespace scopetrace::exporters::json
