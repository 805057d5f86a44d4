// Shared by the Perfetto writer and reader tests: a small trace with every feature the
// model has, and a canonical text form of a Trace for equality checks.

#ifndef SCOPETRACE_TESTS_PERFETTO_TEST_TRACE_H_
#define SCOPETRACE_TESTS_PERFETTO_TEST_TRACE_H_

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scopetrace/trace.h"

namespace scopetrace::testing {

constexpr int64_t kHostPid = 4242;
constexpr int64_t kBase = 1'700'000'000'000;  // a realistic CLOCK_MONOTONIC value

inline Slice MakeSlice(Trace& t, TrackId track, std::string_view name, std::string_view cat,
                       int64_t start, int64_t dur) {
  Slice s;
  s.track = track;
  s.name = t.intern(name);
  s.category = t.intern(cat);
  s.start_ns = kBase + start;
  s.dur_ns = dur;
  return s;
}

// Two host threads with nested slices, instants, counters, args of every type, a device
// with two streams (one with overlapping ops), flows, correlation ids, op kinds, metadata.
inline Trace MakeSampleTrace() {
  Trace t;
  t.add_process(Process{.pid = kHostPid, .name = "app", .sort_index = 0, .is_device = false});
  t.add_process(Process{.pid = kDevicePidBase, .name = "sim0", .sort_index = 1, .is_device = true});
  const TrackId main = t.add_track(
      Track{.kind = TrackKind::kThread, .pid = kHostPid, .tid = kHostPid, .name = "main"});
  const TrackId worker = t.add_track(Track{
      .kind = TrackKind::kThread, .pid = kHostPid, .tid = 4300, .name = "worker", .sort_index = 2});
  const TrackId s0 = t.add_track(
      Track{.kind = TrackKind::kDeviceStream, .pid = kDevicePidBase, .tid = 0, .name = "stream 0"});
  const TrackId s1 = t.add_track(
      Track{.kind = TrackKind::kDeviceStream, .pid = kDevicePidBase, .tid = 1, .name = "stream 1"});
  const TrackId queue = t.add_track(
      Track{.kind = TrackKind::kCounter, .pid = kHostPid, .tid = 0, .name = "queue_depth"});
  const TrackId memory = t.add_track(
      Track{.kind = TrackKind::kCounter, .pid = kDevicePidBase, .tid = 0, .name = "sim0 memory"});

  auto& slices = t.mutable_slices();
  slices.push_back(MakeSlice(t, main, "ProfilerStep#0", "step", 0, 10'000));
  Slice forward = MakeSlice(t, main, "forward", "host", 100, 4'900);
  forward.args = {{t.intern("batch"), int64_t{8}},
                  {t.intern("scale"), 0.125},
                  {t.intern("train"), false},
                  {t.intern("shape"), std::string("1x3x224x224")},
                  {t.intern("neg"), int64_t{-5}}};
  slices.push_back(forward);
  slices.push_back(MakeSlice(t, main, "conv", "host", 200, 800));
  slices.push_back(MakeSlice(t, main, "relu", "host", 1000, 0));  // zero length, at conv's end
  Slice launch =
      MakeSlice(t, main, "launch conv2d", "launch", 5'000, 500);  // starts at forward's end
  launch.correlation_id = 7;
  launch.flow_out = 7;
  slices.push_back(launch);
  slices.push_back(MakeSlice(t, worker, "decode", "host", 50, 3'000));
  slices.push_back(MakeSlice(t, worker, "decode", "host", 3'050, 3'000));  // same ts as END
  Slice kernel = MakeSlice(t, s0, "conv2d", "kernel", 6'000, 2'000);
  kernel.op_kind = DeviceOpKind::kKernel;
  kernel.correlation_id = 7;
  kernel.flow_in = 7;
  slices.push_back(kernel);
  Slice copy = MakeSlice(t, s0, "memcpy", "memcpy_h2d", 5'600, 300);
  copy.op_kind = DeviceOpKind::kMemcpyH2D;
  copy.args = {{t.intern("bytes"), int64_t{1 << 20}}};
  slices.push_back(copy);
  Slice a = MakeSlice(t, s1, "gemm", "kernel", 6'000, 1'000);
  a.op_kind = DeviceOpKind::kKernel;
  Slice b = MakeSlice(t, s1, "gemm2", "kernel", 6'500, 1'000);  // overlaps `a`, not nested
  b.op_kind = DeviceOpKind::kKernel;
  slices.push_back(a);
  slices.push_back(b);

  Instant miss;
  miss.track = main;
  miss.name = t.intern("cache_miss");
  miss.category = t.intern("host");
  miss.ts_ns = kBase + 1'500;
  miss.args = {{t.intern("key"), std::string("w0")}};
  t.mutable_instants().push_back(miss);
  Instant tick = miss;
  tick.track = worker;
  tick.name = t.intern("tick");
  tick.args.clear();
  tick.ts_ns = kBase + 60;
  t.mutable_instants().push_back(tick);

  t.mutable_counters().push_back({queue, kBase + 10, 1});
  t.mutable_counters().push_back({queue, kBase + 20, 2.5});
  t.mutable_counters().push_back({queue, kBase + 30, -3});
  t.mutable_counters().push_back({memory, kBase + 6'000, 1024});
  t.mutable_counters().push_back({memory, kBase + 8'000, 1e15 + 0.5});

  TraceMetadata& m = t.mutable_metadata();
  m.producer = "scopetrace 0.1.0";
  m.worker = "host-a";
  m.pid = kHostPid;
  m.cycle = 1;
  m.first_step = 3;
  m.last_step = 5;
  m.has_schedule = true;
  m.schedule = Schedule{.skip_first = 1, .wait = 1, .warmup = 1, .active = 3, .repeat = 2};
  m.start_ns = kBase;
  m.end_ns = kBase + 10'000;
  m.wall_clock_ns = 1'763'000'000'000'000'000;
  m.dropped = {{.tid = 4300, .thread_name = "worker", .dropped_events = 12}};
  m.dropped_events = 12;
  m.device_records_late = 2;
  m.device_records_missing = 1;
  m.clock_fits = {{.device = "sim0",
                   .tick_rate_hz = 1e9,
                   .reference_ticks = 123456789,
                   .offset_ns = 1234.5,
                   .slope_ns_per_tick = 1.00005,
                   .drift_ppm = 50.0,
                   .pairs = 40,
                   .max_residual_ns = 12.25,
                   .max_half_bracket_ns = 80,
                   .error_bound_ns = 92.25}};
  m.overhead.scope_cost_ns = 18.5;
  m.overhead.instant_cost_ns = 9;
  m.overhead.counter_cost_ns = 10;
  m.overhead.total_ns = 1e6;
  m.overhead.percent = 0.4;
  m.overhead.budget_percent = 1;
  m.overhead.threads = {
      {.tid = 4242, .thread_name = "main", .events = 10, .overhead_ns = 185, .percent = 0.01}};
  m.overhead.top_scopes = {"forward", "conv"};
  m.overhead.policy_decisions = {"sampled 'x' 1 in 4 from step 7"};
  t.SortEvents();
  return t;
}

inline std::string ArgText(const Trace& t, const Arg& a) {
  std::ostringstream out;
  out << t.str(a.key) << "=";
  std::visit([&](const auto& v) { out << v; }, a.value);
  out << "/" << a.value.index();
  return out.str();
}

inline std::string TrackText(const Trace& t, TrackId id) {
  const Track& k = t.tracks()[id];
  std::ostringstream out;
  out << static_cast<int>(k.kind) << "|" << k.pid << "|" << k.tid << "|" << k.name;
  return out.str();
}

// A canonical, order-independent text of everything but metadata.
inline std::vector<std::string> Canonical(const Trace& t) {
  std::vector<std::string> lines;
  for (const Process& p : t.processes()) {
    lines.push_back("P " + std::to_string(p.pid) + " " + p.name + " " +
                    std::to_string(p.sort_index) + " " + std::to_string(p.is_device));
  }
  for (TrackId i = 0; i < t.tracks().size(); ++i) {
    lines.push_back("T " + TrackText(t, i) + " " + std::to_string(t.tracks()[i].sort_index));
  }
  for (const Slice& s : t.slices()) {
    std::ostringstream out;
    out << "S " << TrackText(t, s.track) << " " << t.str(s.name) << " " << t.str(s.category) << " "
        << s.start_ns << " " << s.dur_ns << " op" << static_cast<int>(s.op_kind) << " c"
        << s.correlation_id << " fo" << s.flow_out << " fi" << s.flow_in;
    for (const Arg& a : s.args) out << " " << ArgText(t, a);
    lines.push_back(out.str());
  }
  for (const Instant& i : t.instants()) {
    std::ostringstream out;
    out << "I " << TrackText(t, i.track) << " " << t.str(i.name) << " " << t.str(i.category) << " "
        << i.ts_ns;
    for (const Arg& a : i.args) out << " " << ArgText(t, a);
    lines.push_back(out.str());
  }
  for (const CounterSample& c : t.counters()) {
    std::ostringstream out;
    out.precision(17);
    out << "C " << TrackText(t, c.track) << " " << c.ts_ns << " " << c.value;
    lines.push_back(out.str());
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

inline std::string TempPath(const std::string& name) {
  return std::string(SCOPETRACE_BINARY_DIR) + "/perfetto_test_" + name;
}

inline std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void WriteFileBytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace scopetrace::testing

#endif  // SCOPETRACE_TESTS_PERFETTO_TEST_TRACE_H_
