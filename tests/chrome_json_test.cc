// Tests of the Chrome trace JSON writer and reader (exporters/chrome_json_*.cc): exact round
// trips, hostile strings, cut and damaged files, foreign traces, write errors.

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "exporters/trace_io.h"
#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scopetrace/trace.h"

namespace scopetrace {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kPid = 4242;
constexpr int64_t kBase = 1'000'000'000'123;  // ns: ~1000 s of CLOCK_MONOTONIC

std::string TempPath(std::string_view name) {
  const std::string dir = std::string(SCOPETRACE_BINARY_DIR) + "/chrome_json_test_tmp";
  std::filesystem::create_directories(dir);
  return fmt::format("{}/{}", dir, name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// An independent UTF-8 validator (RFC 3629), so the test does not trust the writer's own.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3F);
    }
    const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// A capture as the profiler produces it: two host threads with nested slices, a step,
// launches with flows to a device "sim0" with two streams, instants, counters, all metadata.
Trace MakeSampleTrace() {
  Trace t;
  t.add_process({.pid = kPid, .name = "app", .sort_index = 0});
  t.add_process({.pid = kDevicePidBase, .name = "sim0", .sort_index = 1, .is_device = true});
  const TrackId main =
      t.add_track({.kind = TrackKind::kThread, .pid = kPid, .tid = kPid, .name = "main"});
  const TrackId worker = t.add_track(
      {.kind = TrackKind::kThread, .pid = kPid, .tid = 4243, .name = "worker", .sort_index = 1});
  const TrackId s0 = t.add_track(
      {.kind = TrackKind::kDeviceStream, .pid = kDevicePidBase, .tid = 0, .name = "stream 0"});
  const TrackId s1 = t.add_track({.kind = TrackKind::kDeviceStream,
                                  .pid = kDevicePidBase,
                                  .tid = 1,
                                  .name = "stream 1",
                                  .sort_index = 1});
  const TrackId queue = t.find_or_add_track(TrackKind::kCounter, kPid, 0, "queue_depth");
  const TrackId memory = t.find_or_add_track(TrackKind::kCounter, kDevicePidBase, 0, "sim0 memory");
  auto slice = [&](TrackId track, std::string_view name, std::string_view cat, int64_t start,
                   int64_t dur) -> Slice& {
    t.mutable_slices().push_back(Slice{.track = track,
                                       .name = t.intern(name),
                                       .category = t.intern(cat),
                                       .start_ns = kBase + start,
                                       .dur_ns = dur});
    return t.mutable_slices().back();
  };
  slice(main, "ProfilerStep#0", "step", 0, 10'000'000);
  Slice& forward = slice(main, "forward", "host", 100, 5'000'001);
  forward.args = {{t.intern("batch"), int64_t{8}},
                  {t.intern("neg"), int64_t{-42}},
                  {t.intern("min"), std::numeric_limits<int64_t>::min()},
                  {t.intern("scale"), 3.25},
                  {t.intern("tiny"), -1e-300},
                  {t.intern("whole"), 2.0},
                  {t.intern("on"), true},
                  {t.intern("off"), false},
                  {t.intern("shape"), std::string("1x3x224x224")}};
  Slice& launch1 = slice(main, "launch conv2d", "launch", 200, 20'007);
  launch1.correlation_id = 1;
  launch1.flow_out = 1;
  Slice& launch2 = slice(main, "launch copy", "launch", 30'000, 5'000);
  launch2.correlation_id = 2;
  launch2.flow_out = 2;
  Slice& kernel = slice(s0, "conv2d", "kernel", 300'001, 120'000);
  kernel.op_kind = DeviceOpKind::kKernel;
  kernel.correlation_id = 1;
  kernel.flow_in = 1;
  Slice& copy = slice(s1, "memcpy_h2d", "memcpy_h2d", 40'000, 9'999);
  copy.op_kind = DeviceOpKind::kMemcpyH2D;
  copy.correlation_id = 2;
  copy.flow_in = 2;
  copy.args = {{t.intern("bytes"), int64_t{4096}}};
  slice(worker, "decode", "host", 1'000, 800'000);
  slice(worker, "parse", "host", 1'500, 100'000);
  slice(worker, "parse", "host", 200'000, 0);  // zero length
  t.mutable_instants().push_back(Instant{.track = main,
                                         .name = t.intern("cache_miss"),
                                         .category = t.intern("host"),
                                         .ts_ns = kBase + 5'000,
                                         .args = {{t.intern("key"), std::string("k1")}}});
  t.mutable_instants().push_back(Instant{
      .track = worker, .name = t.intern("mark"), .category = t.intern("host"), .ts_ns = kBase + 7});
  for (int i = 0; i < 4; ++i) {
    t.mutable_counters().push_back({.track = queue, .ts_ns = kBase + i * 1000, .value = i * 1.5});
  }
  t.mutable_counters().push_back({.track = memory, .ts_ns = kBase + 40'000, .value = 4096});
  TraceMetadata& m = t.mutable_metadata();
  m.producer = "scopetrace 0.1.0";
  m.worker = "host-a";
  m.pid = kPid;
  m.cycle = 3;
  m.first_step = 7;
  m.last_step = 9;
  m.has_schedule = true;
  m.schedule = {.skip_first = 1, .wait = 2, .warmup = 1, .active = 3, .repeat = 0};
  m.start_ns = kBase;
  m.end_ns = kBase + 10'000'000;
  m.wall_clock_ns = 1'763'700'000'123'456'789;
  m.dropped = {{.tid = 4243, .thread_name = "worker", .dropped_events = 17}};
  m.dropped_events = 17;
  m.device_records_late = 2;
  m.device_records_missing = 1;
  m.clock_fits = {{.device = "sim0",
                   .tick_rate_hz = 1e9,
                   .reference_ticks = 123456789,
                   .offset_ns = 1000.125,
                   .slope_ns_per_tick = 1.00005,
                   .drift_ppm = 50.000001,
                   .pairs = 64,
                   .max_residual_ns = 12.5,
                   .max_half_bracket_ns = 0.1,
                   .error_bound_ns = 12.6}};
  m.overhead = {
      .scope_cost_ns = 21.7,
      .instant_cost_ns = 9.1,
      .counter_cost_ns = 11,
      .total_ns = 123456.789,
      .percent = 0.12345678901234567,
      .budget_percent = 1,
      .over_budget = false,
      .threads =
          {{.tid = kPid, .thread_name = "main", .events = 10, .overhead_ns = 217, .percent = 0.01}},
      .top_scopes = {"forward", "parse"},
      .policy_decisions = {"sampled 'parse' 1 in 4 from step 7"}};
  t.SortEvents();
  return t;
}

std::string ArgText(const Trace& t, const Arg& a) {
  std::string value;
  if (const auto* i = std::get_if<int64_t>(&a.value)) value = fmt::format("i:{}", *i);
  if (const auto* d = std::get_if<double>(&a.value)) value = fmt::format("d:{}", *d);
  if (const auto* b = std::get_if<bool>(&a.value)) value = fmt::format("b:{}", *b);
  if (const auto* s = std::get_if<std::string>(&a.value)) value = "s:" + *s;
  return fmt::format("{}={}", t.str(a.key), value);
}

// Every event as one line of text, independent of string ids.
std::vector<std::string> Describe(const Trace& t) {
  std::vector<std::string> lines;
  for (const Process& p : t.processes()) {
    lines.push_back(fmt::format("P {} {} {} {}", p.pid, p.name, p.sort_index, p.is_device));
  }
  for (const Track& k : t.tracks()) {
    lines.push_back(fmt::format("T {} {} {} {} {}", static_cast<int>(k.kind), k.pid, k.tid, k.name,
                                k.sort_index));
  }
  for (const Slice& s : t.slices()) {
    std::string line = fmt::format(
        "S {} {} {} {} {} op={} corr={} in={} out={}", s.track, t.str(s.name), t.str(s.category),
        s.start_ns, s.dur_ns, static_cast<int>(s.op_kind), s.correlation_id, s.flow_in, s.flow_out);
    for (const Arg& a : s.args) line += " " + ArgText(t, a);
    lines.push_back(line);
  }
  for (const Instant& i : t.instants()) {
    std::string line =
        fmt::format("I {} {} {} {}", i.track, t.str(i.name), t.str(i.category), i.ts_ns);
    for (const Arg& a : i.args) line += " " + ArgText(t, a);
    lines.push_back(line);
  }
  for (const CounterSample& c : t.counters()) {
    lines.push_back(fmt::format("C {} {} {}", c.track, c.ts_ns, c.value));
  }
  return lines;
}

absl::StatusOr<Trace> WriteAndRead(const Trace& trace, std::string_view name) {
  const std::string path = TempPath(name);
  if (absl::Status s = trace.Write(path, Format::kChromeJson); !s.ok()) return s;
  return ReadTrace(path);
}

TEST(ChromeJsonTest, RoundTripIsExact) {
  const Trace original = MakeSampleTrace();
  const absl::StatusOr<Trace> read = WriteAndRead(original, "roundtrip.trace.json");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Describe(*read), Describe(original));
  EXPECT_EQ(read->metadata(), original.metadata());
  EXPECT_FALSE(read->metadata().truncated);
  // The correlation id lives in the field, never in args.
  EXPECT_EQ(read->find_string("correlation_id") == Trace::kNoString ||
                std::none_of(read->slices().begin(), read->slices().end(),
                             [&](const Slice& s) {
                               return std::any_of(s.args.begin(), s.args.end(), [&](const Arg& a) {
                                 return read->str(a.key) == "correlation_id";
                               });
                             }),
            true);
}

// Also the fixture for tools/check-chrome-trace (see the report in the commit message).
TEST(ChromeJsonTest, WritesSampleForExternalChecker) {
  const std::string path = std::string(SCOPETRACE_BINARY_DIR) + "/sample.trace.json";
  ASSERT_TRUE(MakeSampleTrace().Write(path, Format::kChromeJson).ok());
  const std::string text = ReadFile(path);
  EXPECT_THAT(text, StartsWith("{\"traceEvents\":["));
  EXPECT_THAT(text, HasSubstr("\"displayTimeUnit\":\"ns\""));
  EXPECT_THAT(text, HasSubstr("\"ts\":1000000000.123,"));  // exact ns digits
}

TEST(ChromeJsonTest, TimestampsAreExactDecimalMicroseconds) {
  Trace t;
  t.add_process({.pid = 1, .name = "p"});
  const TrackId track = t.add_track({.kind = TrackKind::kThread, .pid = 1, .tid = 1, .name = "t"});
  const std::vector<int64_t> starts = {0,
                                       1,
                                       999,
                                       1000,
                                       1001,
                                       1234567891,
                                       -5,
                                       -1234567891,
                                       9'000'000'000'000'000'001,
                                       1'700'000'000'123'456'789};
  for (int64_t start : starts) {
    t.mutable_slices().push_back({.track = track,
                                  .name = t.intern("s"),
                                  .category = t.intern("c"),
                                  .start_ns = start,
                                  .dur_ns = 7});
  }
  t.SortEvents();
  const absl::StatusOr<Trace> read = WriteAndRead(t, "timestamps.trace.json");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Describe(*read), Describe(t));
  const std::string text = ReadFile(TempPath("timestamps.trace.json"));
  EXPECT_THAT(text, HasSubstr("\"ts\":1234567.891,"));
  EXPECT_THAT(text, HasSubstr("\"ts\":-1234567.891,"));
  EXPECT_THAT(text, HasSubstr("\"ts\":0.999,"));
}

// speedscope rebases a thread's ts values on its first and takes an X event's end as
// ts + dur in doubles; a slice ending exactly where the next begins (or with its parent)
// must still close first there, while our reader gets every nanosecond back. The trace
// sits ~1.9 h into CLOCK_MONOTONIC, where an ulp of a ts in microseconds is ~1e-6 us and
// the sum often lands past the next begin (checked: with every nudge 0 this test fails).
TEST(ChromeJsonTest, AbuttingSlicesStayOrderedForImportersThatAddInDoubles) {
  Trace t;
  t.add_process({.pid = 1, .name = "p"});
  t.add_process({.pid = 2, .name = "sim0", .sort_index = 1, .is_device = true});
  const TrackId thread =
      t.add_track({.kind = TrackKind::kThread, .pid = 1, .tid = 1, .name = "main"});
  const TrackId stream =
      t.add_track({.kind = TrackKind::kDeviceStream, .pid = 2, .tid = 0, .name = "stream 0"});
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> dur(1'000, 90'000);
  int64_t now = 6'873'845'071'423;
  for (int step = 0; step < 300; ++step) {
    // A step of back-to-back ops (the same name each time), the last ending with the step.
    const int64_t step_start = now;
    for (int op = 0; op < 5; ++op) {
      const int64_t d = dur(rng);
      t.mutable_slices().push_back(
          {.track = thread, .name = t.intern("op"), .start_ns = now, .dur_ns = d});
      now += d;
    }
    t.mutable_slices().push_back({.track = thread,
                                  .name = t.intern(fmt::format("ProfilerStep#{}", step)),
                                  .start_ns = step_start,
                                  .dur_ns = now - step_start});
    // Kernels queued back to back on the stream.
    const int64_t d = dur(rng);
    t.mutable_slices().push_back({.track = stream,
                                  .name = t.intern("kernel"),
                                  .start_ns = step_start + 5 * d / 7,
                                  .dur_ns = d,
                                  .correlation_id = static_cast<uint64_t>(step + 1)});
    if (step > 0) {
      Slice& prev = t.mutable_slices()[t.mutable_slices().size() - 8];
      prev.dur_ns = t.mutable_slices().back().start_ns - prev.start_ns;  // ends where it begins
    }
  }
  t.SortEvents();
  const absl::StatusOr<Trace> read = WriteAndRead(t, "abutting.trace.json");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Describe(*read), Describe(t));  // every nanosecond back

  // The X events as an importer parses them (strtod and JavaScript both round correctly).
  struct Parsed {
    int64_t pid, tid;
    double ts, dur;
  };
  std::vector<Parsed> events;
  const std::string text = ReadFile(TempPath("abutting.trace.json"));
  int nudged = 0;
  for (size_t at = text.find("{\"ph\":\"X\""); at != std::string::npos;
       at = text.find("{\"ph\":\"X\"", at + 1)) {
    auto number = [&](std::string_view key) {
      const size_t p = text.find(key, at) + key.size();
      return std::string(text.substr(p, text.find_first_of(",}", p) - p));
    };
    const std::string dur_text = number("\"dur\":");
    if (dur_text.size() - dur_text.find('.') > 4) ++nudged;
    events.push_back({std::stoll(number("\"pid\":")), std::stoll(number("\"tid\":")),
                      std::strtod(number("\"ts\":").c_str(), nullptr),
                      std::strtod(dur_text.c_str(), nullptr)});
  }
  ASSERT_EQ(events.size(), t.slices().size());  // written in the trace's slice order
  EXPECT_GT(nudged, 0);
  std::map<std::pair<int64_t, int64_t>, double> origin;
  for (const Parsed& e : events) {
    auto [it, inserted] = origin.try_emplace({e.pid, e.tid}, e.ts);
    if (!inserted) it->second = std::min(it->second, e.ts);
  }
  auto begin = [&](size_t i) { return events[i].ts - origin[{events[i].pid, events[i].tid}]; };
  auto end = [&](size_t i) { return begin(i) + events[i].dur; };
  // At a slice's exact end the importer compares its end with the first begin there (the
  // longest slice starting then): on a tie it closes first unless both have the same key
  // (name and args), so an end must be strictly before a begin of the same key.
  int checked = 0, strict = 0;
  for (size_t a = 0; a < t.slices().size(); ++a) {
    const Slice& s = t.slices()[a];
    std::optional<size_t> front;
    for (size_t b = 0; b < t.slices().size(); ++b) {
      const Slice& n = t.slices()[b];
      if (a == b || n.track != s.track) continue;
      if (n.start_ns == s.start_ns + s.dur_ns && s.dur_ns > 0 &&
          (!front || n.dur_ns > t.slices()[*front].dur_ns)) {
        front = b;
      }
      const bool parent = n.start_ns <= s.start_ns && n.dur_ns > s.dur_ns;
      if (parent && n.start_ns + n.dur_ns == s.start_ns + s.dur_ns) {
        ++checked;
        EXPECT_LE(end(a), end(b)) << t.str(s.name) << " ends with " << t.str(n.name);
      }
    }
    if (!front) continue;
    ++checked;
    const Slice& n = t.slices()[*front];
    if (n.name == s.name && n.correlation_id == s.correlation_id && n.args == s.args) {
      ++strict;
      EXPECT_LT(end(a), begin(*front)) << t.str(s.name) << " ends at " << n.start_ns;
    } else {
      EXPECT_LE(end(a), begin(*front)) << t.str(s.name) << " ends at " << n.start_ns;
    }
  }
  EXPECT_GT(checked, 1500);
  EXPECT_GT(strict, 1000);  // back-to-back "op"s
}

// Digits below a nanosecond (our writer's nudged durations have six decimals, other tools
// write any number) round to the nearest nanosecond, half away from zero, on the fast path
// (up to six decimals) and the general one (more) alike.
TEST(ChromeJsonTest, SubNanosecondDigitsRoundToTheNearestNanosecond) {
  const std::string path = TempPath("sub_ns.json");
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"14.247999", 14'248}, {"14.2479", 14'248}, {"14.24799", 14'248},   {"0.0004", 0},
      {"1.0005", 1'001},     {"1.000499", 1'000}, {"2.999999", 3'000},    {"1.0004999", 1'000},
      {"1.0005000", 1'001},  {"-0.0015", -2},     {"-14.247999", -14'248}};
  std::string text = "[";
  for (size_t i = 0; i < cases.size(); ++i) {
    text += fmt::format("{}{{\"ph\":\"X\",\"ts\":{},\"dur\":1,\"pid\":1,\"tid\":1}}",
                        i == 0 ? "" : ",", cases[i].first);
  }
  WriteFile(path, text + "]");
  const absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->slices().size(), cases.size());
  std::vector<int64_t> got, want;
  for (const Slice& slice : read->slices()) got.push_back(slice.start_ns);
  for (const auto& c : cases) want.push_back(c.second);
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

TEST(ChromeJsonTest, HostileStringsGiveValidJsonAndUtf8) {
  Trace t;
  const std::string big(1 << 20, 'x');
  const std::vector<std::string> names = {"quote \" back \\ slash",
                                          "new\nline\r\ttab",
                                          std::string("nul\0byte", 8),
                                          "\x01\x1f\x7f",
                                          "\xff\xfe",
                                          "trunc \xe2\x82",
                                          "overlong \xc0\xaf",
                                          "surrogate \xed\xa0\x80",
                                          "ok \xe2\x82\xac \xf0\x9f\x98\x80",
                                          big};
  t.add_process({.pid = 1, .name = "proc \xff \"q\""});
  const TrackId track = t.add_track(
      {.kind = TrackKind::kThread, .pid = 1, .tid = 1, .name = std::string("thr\0\xfe", 5)});
  for (size_t i = 0; i < names.size(); ++i) {
    t.mutable_slices().push_back({.track = track,
                                  .name = t.intern(names[i]),
                                  .category = t.intern(names[i].substr(0, 40)),
                                  .start_ns = static_cast<int64_t>(i) * 100,
                                  .dur_ns = 10,
                                  .args = {{t.intern(names[i].substr(0, 30)), names[i]}}});
  }
  t.mutable_metadata().worker = "w\xc3";
  t.SortEvents();
  const std::string path = TempPath("hostile.trace.json");
  ASSERT_TRUE(t.Write(path, Format::kChromeJson).ok());
  const std::string text = ReadFile(path);
  EXPECT_TRUE(IsValidUtf8(text));
  for (char c : text) {
    ASSERT_FALSE(static_cast<unsigned char>(c) < 0x20 && c != '\n') << "raw control byte";
  }
  const absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->slices().size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string_view got = read->str(read->slices()[i].name);
    EXPECT_TRUE(IsValidUtf8(got));
    if (IsValidUtf8(names[i])) {
      EXPECT_EQ(got, names[i]);  // valid text, control characters and NULs survive exactly
    } else {
      EXPECT_THAT(std::string(got), HasSubstr("\xEF\xBF\xBD"));
    }
  }
  EXPECT_EQ(read->str(read->slices()[0].name), "quote \" back \\ slash");
  EXPECT_EQ(read->str(read->slices()[4].name), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(read->tracks()[0].name, std::string("thr\0\xEF\xBF\xBD", 7));
}

TEST(ChromeJsonTest, NonFiniteDoublesStayValidJson) {
  Trace t;
  t.add_process({.pid = 1, .name = "p"});
  const TrackId track = t.add_track({.kind = TrackKind::kThread, .pid = 1, .tid = 1, .name = "t"});
  const TrackId counter = t.find_or_add_track(TrackKind::kCounter, 1, 0, "c");
  const double inf = std::numeric_limits<double>::infinity();
  t.mutable_slices().push_back(
      {.track = track,
       .name = t.intern("s"),
       .args = {
           {t.intern("nan"), std::nan("")}, {t.intern("inf"), inf}, {t.intern("ninf"), -inf}}});
  t.mutable_counters().push_back({.track = counter, .ts_ns = 5, .value = inf});
  t.mutable_counters().push_back({.track = counter, .ts_ns = 6, .value = std::nan("")});
  t.mutable_metadata().overhead.percent = -inf;
  const absl::StatusOr<Trace> read = WriteAndRead(t, "nonfinite.trace.json");
  ASSERT_TRUE(read.ok()) << read.status();
  const std::string text = ReadFile(TempPath("nonfinite.trace.json"));
  EXPECT_THAT(text, HasSubstr("\"nan\":null"));  // NaN is written as null
  EXPECT_THAT(text, HasSubstr("\"inf\":1e999"));
  const std::vector<Arg>& args = read->slices()[0].args;
  ASSERT_EQ(args.size(), 3u);
  EXPECT_TRUE(std::isnan(std::get<double>(args[0].value)));
  EXPECT_EQ(std::get<double>(args[1].value), inf);
  EXPECT_EQ(std::get<double>(args[2].value), -inf);
  ASSERT_EQ(read->counters().size(), 2u);
  EXPECT_EQ(read->counters()[0].value, inf);
  EXPECT_TRUE(std::isnan(read->counters()[1].value));
  EXPECT_EQ(read->metadata().overhead.percent, -inf);
}

TEST(ChromeJsonTest, CutFileReadsCompleteEventsOrFailsClearly) {
  const std::string full_path = TempPath("cut_source.trace.json");
  const Trace original = MakeSampleTrace();
  ASSERT_TRUE(original.Write(full_path, Format::kChromeJson).ok());
  const std::string full = ReadFile(full_path);
  const std::string path = TempPath("cut.trace.json");
  size_t truncated_ok = 0;
  for (size_t cut = 1; cut < full.size(); cut += (cut < 300 || cut + 300 > full.size()) ? 1 : 7) {
    WriteFile(path, std::string_view(full).substr(0, cut));
    const absl::StatusOr<Trace> read = ReadTrace(path);
    if (!read.ok()) {
      EXPECT_THAT(std::string(read.status().message()), StartsWith(path)) << "cut " << cut;
      continue;
    }
    if (cut + 1 < full.size()) {
      EXPECT_TRUE(read->metadata().truncated) << "cut " << cut;
      EXPECT_THAT(read->metadata().truncation_reason, HasSubstr("file ends at byte"));
      ++truncated_ok;
    }
    EXPECT_LE(read->slices().size(), original.slices().size());
    EXPECT_LE(read->event_count(), original.event_count());
  }
  EXPECT_GT(truncated_ok, 0u);
  // A cut inside traceEvents keeps every event before it, exactly.
  const size_t middle = full.find("\"name\":\"conv2d\"");
  ASSERT_NE(middle, std::string::npos);
  WriteFile(path, std::string_view(full).substr(0, middle));
  const absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->metadata().truncated);
  EXPECT_GT(read->slices().size(), 0u);
  EXPECT_LT(read->slices().size(), original.slices().size());
  // The "scopetrace" object at the end is lost, yet device streams and processes are known
  // from the M events at the start.
  int streams = 0;
  for (const Track& track : read->tracks()) {
    if (track.name == "stream 0" || track.name == "stream 1") {
      ++streams;
      EXPECT_EQ(track.kind, TrackKind::kDeviceStream);
      EXPECT_EQ(track.tid, track.name == "stream 0" ? 0 : 1);
    }
  }
  EXPECT_EQ(streams, 2);
  for (const Process& process : read->processes()) {
    EXPECT_EQ(process.is_device, process.name == "sim0") << process.name;
  }
}

TEST(ChromeJsonTest, CorruptedBytesNeverCrash) {
  const std::string full_path = TempPath("corrupt_source.trace.json");
  ASSERT_TRUE(MakeSampleTrace().Write(full_path, Format::kChromeJson).ok());
  const std::string full = ReadFile(full_path);
  const std::string path = TempPath("corrupt.trace.json");
  std::mt19937 rng(12345);
  const char junk[] = {'\0', '{', '}', '[', ']', '"', '\\', ',', ':', 'x', '9', '\xff', '-', 'e'};
  int errors = 0;
  for (int round = 0; round < 400; ++round) {
    std::string damaged = full;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      damaged[rng() % damaged.size()] = junk[rng() % sizeof(junk)];
    }
    WriteFile(path, damaged);
    const absl::StatusOr<Trace> read = ReadTrace(path);
    if (!read.ok()) {
      ++errors;
      EXPECT_THAT(std::string(read.status().message()), StartsWith(path));
    }
  }
  EXPECT_GT(errors, 0);
}

TEST(ChromeJsonTest, GarbageAndDeepNestingAreErrors) {
  const std::string path = TempPath("garbage.trace.json");
  WriteFile(path, "{\"traceEvents\":[{\"ph\":\"X\",,}]}");
  absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(std::string(read.status().message()), StartsWith(path));
  EXPECT_THAT(std::string(read.status().message()), HasSubstr("at byte 26"));

  WriteFile(path, "{\"traceEvents\":[" + std::string(200000, '[') + "]}");
  read = ReadTrace(path);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(std::string(read.status().message()), HasSubstr("nesting deeper"));

  std::string deep_args;
  for (int i = 0; i < 100000; ++i) deep_args += "{\"a\":";
  WriteFile(path, "[{\"ph\":\"X\",\"args\":" + deep_args + "1}]");
  read = ReadTrace(path);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(std::string(read.status().message()), HasSubstr("nesting deeper"));

  WriteFile(path, "{\"traceEvents\":[]} trailing");
  read = ReadTrace(path);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(std::string(read.status().message()), HasSubstr("after the trace"));
}

TEST(ChromeJsonTest, ReadsForeignBeginEndTrace) {
  const std::string path = TempPath("foreign.json");
  WriteFile(path, R"({"displayTimeUnit":"ms","otherData":{"a":[1,2,{"b":null}]},"traceEvents":[
{"name":"process_name","ph":"M","pid":"Browser","tid":1,"args":{"name":"Browser"}},
{"name":"thread_name","ph":"M","pid":"Browser","tid":"CrMain","args":{"name":"CrBrowserMain"}},
{"name":"thread_name","ph":"M","pid":7,"tid":2,"args":{"name":"stream 7"}},
{"name":"outer","cat":"a","ph":"B","ts":1.5e3,"pid":"Browser","tid":"CrMain","args":{"x":1}},
{"name":"inner","cat":"a","ph":"B","ts":1600.25,"pid":"Browser","tid":"CrMain"},
{"name":"flow","cat":"f","ph":"s","id":"0x1f","ts":1600.25,"pid":"Browser","tid":"CrMain"},
{"name":"other","cat":"a","ph":"B","ts":1700,"pid":"Browser","tid":9},
{"name":"inner","cat":"a","ph":"E","ts":1800,"pid":"Browser","tid":"CrMain","args":{"y":"z"}},
{"name":"outer","cat":"a","ph":"E","ts":2000,"pid":"Browser","tid":"CrMain"},
{"name":"k","cat":"kernel","ph":"X","ts":1900,"dur":50,"pid":7,"tid":2,"args":{"correlation_id":31,"nested":{"q":[1,true]}}},
{"name":"flow","cat":"f","ph":"f","bp":"e","id":31,"ts":1910,"pid":7,"tid":2},
{"name":"late","cat":"a","ph":"X","ts":2500,"dur":1,"pid":7,"tid":2,"bind_id":"0xff","flow_in":true},
{"name":"mark","cat":"a","ph":"i","s":"g","ts":1650,"pid":"Browser","tid":"CrMain"},
{"name":"mem","cat":"m","ph":"C","ts":1000,"pid":7,"args":{"used":10,"free":"20.5"}},
{"name":"q","ph":"C","ts":1000,"pid":7,"args":{"value":3}},
{"name":"unknown","ph":"b","id":1,"ts":1,"pid":1}
]})");
  const absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  const Trace& t = *read;
  EXPECT_FALSE(t.metadata().truncated);
  // "other" never ends: dropped. outer/inner paired per thread by the stack.
  ASSERT_EQ(t.slices().size(), 4u);
  auto find = [&](std::string_view name) -> const Slice& {
    for (const Slice& s : t.slices()) {
      if (t.str(s.name) == name) return s;
    }
    ADD_FAILURE() << "no slice " << name;
    return t.slices()[0];
  };
  const Slice& outer = find("outer");
  EXPECT_EQ(outer.start_ns, 1'500'000);
  EXPECT_EQ(outer.dur_ns, 500'000);
  const Slice& inner = find("inner");
  EXPECT_EQ(inner.start_ns, 1'600'250);
  EXPECT_EQ(inner.dur_ns, 199'750);
  EXPECT_EQ(inner.flow_out, 0x1fu);
  ASSERT_EQ(inner.args.size(), 1u);
  EXPECT_EQ(std::get<std::string>(inner.args[0].value), "z");
  EXPECT_EQ(t.tracks()[outer.track].name, "CrBrowserMain");
  const Slice& k = find("k");
  EXPECT_EQ(k.op_kind, DeviceOpKind::kKernel);
  EXPECT_EQ(k.correlation_id, 31u);
  EXPECT_EQ(k.flow_in, 31u);
  ASSERT_EQ(k.args.size(), 1u);
  EXPECT_EQ(std::get<std::string>(k.args[0].value), R"({"q":[1,true]})");
  EXPECT_EQ(t.tracks()[k.track].kind, TrackKind::kDeviceStream);
  EXPECT_EQ(find("late").flow_in, 0xffu);
  bool device_process = false;
  for (const Process& p : t.processes()) {
    if (p.pid == 7) device_process = p.is_device;
    if (p.name == "Browser") EXPECT_FALSE(p.is_device);
  }
  EXPECT_TRUE(device_process);
  ASSERT_EQ(t.instants().size(), 1u);
  EXPECT_EQ(t.str(t.instants()[0].name), "mark");
  std::vector<std::string> counter_tracks;
  for (const Track& track : t.tracks()) {
    if (track.kind == TrackKind::kCounter) counter_tracks.push_back(track.name);
  }
  EXPECT_THAT(counter_tracks, ::testing::UnorderedElementsAre("mem.used", "mem.free", "q"));
  EXPECT_EQ(t.counters().size(), 3u);
}

TEST(ChromeJsonTest, ReadsArrayFormWithoutClosingBracket) {
  const std::string path = TempPath("array.json");
  WriteFile(path,
            "[{\"name\":\"a\",\"ph\":\"X\",\"ts\":10,\"dur\":2,\"pid\":1,\"tid\":1},\n"
            "{\"name\":\"b\",\"ph\":\"I\",\"ts\":11,\"pid\":1,\"tid\":1},\n");
  absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->metadata().truncated);
  ASSERT_EQ(read->slices().size(), 1u);
  EXPECT_EQ(read->slices()[0].start_ns, 10'000);
  EXPECT_EQ(read->slices()[0].dur_ns, 2'000);
  EXPECT_EQ(read->instants().size(), 1u);

  WriteFile(path, "[{\"name\":\"a\",\"ph\":\"X\",\"ts\":10,\"dur\":2,\"pid\":1,\"tid\":1}]");
  read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->slices().size(), 1u);
}

// The reader's fast paths (common keys matched as words, strings scanned 16 bytes at a
// time, slices written into storage reserved from the file size) must read exactly what
// the general grammar reads.
TEST(ChromeJsonTest, FastPathsReadWhatTheGrammarSays) {
  const std::string path = TempPath("fast_paths.json");
  WriteFile(path, R"([{"pha":"B","p\u0068":"X","tsx":5,"ts" : 7,"names":"no","dur":1,)"
                  R"("name":"a\"bcdefghijklmnopqrstuv","pid":1,"tid":1},)"
                  "\n"
                  R"({"ph":"X","name":"0123456789abcdef\\0123456789","cat":"c\/d","ts":8,)"
                  R"("dur":1,"pid":1,"tid":1}])");
  absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->slices().size(), 2u);
  EXPECT_EQ(read->slices()[0].start_ns, 7'000);
  EXPECT_EQ(read->str(read->slices()[0].name), "a\"bcdefghijklmnopqrstuv");
  EXPECT_EQ(read->str(read->slices()[1].name), "0123456789abcdef\\0123456789");
  EXPECT_EQ(read->str(read->slices()[1].category), "c/d");

  // A control character past the first 16 bytes of a string is still found, at its byte.
  const std::string bad = "[{\"ph\":\"X\",\"name\":\"0123456789abcdefghij\x01\"}]";
  WriteFile(path, bad);
  read = ReadTrace(path);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(
      read.status().message(),
      HasSubstr(fmt::format("control character inside a string at byte {}", bad.find('\x01'))));

  // A file cut inside a key with fewer than 8 bytes left.
  WriteFile(path, R"([{"ph":"X","ts":1,"dur":2},{"ph":"X","t)");
  read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->metadata().truncated);
  EXPECT_EQ(read->slices().size(), 1u);

  // Slices denser than the reservation assumes overflow into chunks; a flow bound to the
  // last one finds it there.
  std::string dense = "[";
  constexpr int kDense = 5000;
  for (int i = 0; i < kDense; ++i) dense += fmt::format("{{\"ph\":\"X\",\"ts\":{},\"dur\":1}},", i);
  dense += fmt::format("{{\"ph\":\"s\",\"id\":9,\"ts\":{}}}]", kDense - 1);
  WriteFile(path, dense);
  read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->slices().size(), size_t{kDense});
  for (int i = 0; i < kDense; ++i) ASSERT_EQ(read->slices()[i].start_ns, int64_t{i} * 1000);
  EXPECT_EQ(read->slices().back().flow_out, 9u);
}

// The member fast path (a common key, no whitespace, a plain string or number) leaves
// everything else to the general grammar: the first of repeated keys, exponents, spaces,
// and errors at the same bytes. Each file runs on past the member under test, so the fast
// path (which wants 16 bytes ahead) is the one that meets it.
TEST(ChromeJsonTest, MemberFastPathLeavesTheRestToTheGrammar) {
  const std::string path = TempPath("member_fast_path.json");
  WriteFile(path,
            R"([{"ph":"X","name":"first","name":"second","ts":-1.5,"dur":1.5e3,"pid":7,"tid":7},)"
            R"({"ph":"X","name":"b","ts":12345678.901,"dur":2, "pid":7,"tid":7},)"
            R"({"ph":"X","name":"c","ts":123456789012.5,"dur":0.25,"pid":7,"tid":7}])");
  absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->slices().size(), 3u);
  EXPECT_EQ(read->str(read->slices()[0].name), "first");
  EXPECT_EQ(read->slices()[0].start_ns, -1'500);
  EXPECT_EQ(read->slices()[0].dur_ns, 1'500'000);
  EXPECT_EQ(read->slices()[1].start_ns, 12'345'678'901);  // eight integer digits at once
  EXPECT_EQ(read->slices()[1].dur_ns, 2'000);
  EXPECT_EQ(read->slices()[2].start_ns, 123'456'789'012'500);
  EXPECT_EQ(read->slices()[2].dur_ns, 250);
  EXPECT_EQ(read->tracks()[read->slices()[2].track].tid, 7);

  const std::string padding = R"(,{"ph":"X","name":"padding","ts":1,"dur":1}])";
  struct Bad {
    std::string member;
    std::string message;
    char at;  // the byte the error names
  };
  for (const Bad& bad :
       {Bad{R"("dur":1.})", "bad number", '}'},
        Bad{R"("dur":12x})", "expected ',' or '}' in an object", 'x'},
        Bad{R"("dur":-})", "unexpected character (expected a value)", '}'},
        Bad{"\"name\":\"abc\x02\"}", "control character inside a string", '\x02'}}) {
    const std::string text = "[{\"ph\":\"X\"," + bad.member + padding;
    WriteFile(path, text);
    read = ReadTrace(path);
    ASSERT_FALSE(read.ok()) << bad.member;
    EXPECT_THAT(read.status().message(),
                HasSubstr(fmt::format("{} at byte {}", bad.message, text.find(bad.at, 10))))
        << bad.member;
  }

  // A file ending right after a member's value, one page long so that a read past its end
  // would leave the mapping: a cut file, read up to its last complete event.
  for (const std::string_view last :
       {R"("name":"0123456789abcdef")", R"("ts":12345678901234567)"}) {
    std::string text = R"([{"ph":"X","ts":1,"dur":2,"name":")";
    const std::string tail = R"("},{"ph":"X",)" + std::string(last);
    text += std::string(4096 - text.size() - tail.size(), 'n') + tail;
    WriteFile(path, text);
    read = ReadTrace(path);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_TRUE(read->metadata().truncated) << last;
    EXPECT_EQ(read->slices().size(), 1u) << last;
  }
}

TEST(ChromeJsonTest, WriteErrorsNameThePathAndLeaveNothing) {
  const Trace trace = MakeSampleTrace();
  const std::string missing_dir = TempPath("no/such/dir/x.trace.json");
  absl::Status status = trace.Write(missing_dir, Format::kChromeJson);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr(TempPath("no/such/dir/x.trace.json")));
  EXPECT_FALSE(std::filesystem::exists(missing_dir));

  if (access("/dev/full", W_OK) == 0) {
    status = exporters::WriteChromeJson(trace, "/dev/full");
    ASSERT_FALSE(status.ok());
    EXPECT_THAT(std::string(status.message()), StartsWith("/dev/full: "));
  }
}

TEST(ChromeJsonTest, ThroughputOfOneMillionEvents) {
  Trace t;
  t.add_process({.pid = 1, .name = "p"});
  const TrackId track = t.add_track({.kind = TrackKind::kThread, .pid = 1, .tid = 1, .name = "t"});
  const StringId names[] = {t.intern("forward"), t.intern("conv2d"), t.intern("relu")};
  const StringId cat = t.intern("host");
  const StringId key = t.intern("batch");
  constexpr int kEvents = 1'000'000;
  t.mutable_slices().reserve(kEvents);
  for (int i = 0; i < kEvents; ++i) {
    Slice s{.track = track,
            .name = names[i % 3],
            .category = cat,
            .start_ns = kBase + i * 1000LL,
            .dur_ns = 777};
    if (i % 4 == 0) s.args = {{key, int64_t{i}}};
    t.mutable_slices().push_back(std::move(s));
  }
  const std::string path = TempPath("big.trace.json");
  // CPU time of this process, not wall time: the build machine is shared, and wall time
  // mostly measures the neighbours.
  auto cpu_seconds = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  const auto w0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  ASSERT_TRUE(t.Write(path, Format::kChromeJson).ok());
  const auto w1 = std::chrono::steady_clock::now();
  const double c1 = cpu_seconds();
  const absl::StatusOr<Trace> read = ReadTrace(path);
  const auto w2 = std::chrono::steady_clock::now();
  const double c2 = cpu_seconds();
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->slices().size(), static_cast<size_t>(kEvents));
  EXPECT_EQ(read->slices()[kEvents - 1].start_ns, kBase + (kEvents - 1) * 1000LL);
  const double mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
  const double write_wall = std::chrono::duration<double>(w1 - w0).count();
  const double read_wall = std::chrono::duration<double>(w2 - w1).count();
  fmt::print(
      "{:.1f} MB, {} events\n"
      "write: {:.2f} M events/s, {:.0f} MB/s (CPU time); {:.2f} M events/s (wall)\n"
      "read:  {:.2f} M events/s, {:.0f} MB/s (CPU time); {:.0f} MB/s (wall)\n",
      mb, kEvents, kEvents / (c1 - c0) / 1e6, mb / (c1 - c0), kEvents / write_wall / 1e6,
      kEvents / (c2 - c1) / 1e6, mb / (c2 - c1), mb / read_wall);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace scopetrace
