// The Perfetto writer: round trips through the reader, protoc's view of the file, and the
// wire-level rules trace_processor depends on (perfetto-format.md A.1-A.3, Part C).

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "exporters/perfetto_event_encoder.h"
#include "exporters/perfetto_event_order.h"
#include "exporters/perfetto_fields.h"
#include "exporters/perfetto_stream_writer.h"
#include "exporters/proto_wire.h"
#include "exporters/trace_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "perfetto_test_trace.h"
#include "proto/perfetto_trace.pb.h"
#include "src/host_slice_runs.h"

namespace scopetrace {
namespace {

using exporters::PerfettoStreamWriter;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace scopetrace::testing;  // NOLINT: test helpers
namespace pf = exporters::pf;
namespace wire = exporters::wire;

class PerfettoRoundTrip : public ::testing::TestWithParam<Format> {};

TEST_P(PerfettoRoundTrip, BuilderTraceReadsBackEqual) {
  const Trace original = MakeSampleTrace();
  const std::string path =
      TempPath(GetParam() == Format::kPerfetto ? "rt.pftrace" : "rt.pftrace.zst");
  ASSERT_TRUE(original.Write(path, GetParam()).ok());
  absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Canonical(*read), Canonical(original));
  EXPECT_EQ(read->metadata(), original.metadata());
  EXPECT_FALSE(read->metadata().truncated);
}

INSTANTIATE_TEST_SUITE_P(Formats, PerfettoRoundTrip,
                         ::testing::Values(Format::kPerfetto, Format::kPerfettoZstd));

TEST(PerfettoWriter, StreamingChunksMatchOneShot) {
  const Trace whole = MakeSampleTrace();
  // Split: each chunk has its own string table; the second chunk goes back in time.
  Trace first, second;
  for (Trace* chunk : {&first, &second}) {
    for (const Process& p : whole.processes()) chunk->add_process(p);
    for (const Track& t : whole.tracks()) chunk->add_track(t);
  }
  for (size_t i = 0; i < whole.slices().size(); ++i) {
    Trace& chunk = i % 2 == 0 ? second : first;
    Slice s = whole.slices()[i];
    s.name = chunk.intern(whole.str(s.name));
    s.category = chunk.intern(whole.str(s.category));
    for (Arg& a : s.args) a.key = chunk.intern(whole.str(a.key));
    chunk.mutable_slices().push_back(s);
  }
  for (Instant i : whole.instants()) {
    i.name = first.intern(whole.str(i.name));
    i.category = first.intern(whole.str(i.category));
    for (Arg& a : i.args) a.key = first.intern(whole.str(a.key));
    first.mutable_instants().push_back(i);
  }
  for (const CounterSample& c : whole.counters()) second.mutable_counters().push_back(c);

  const std::string path = TempPath("stream.pftrace.zst");
  auto writer = PerfettoStreamWriter::Open(path, /*zstd=*/true);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Append(first).ok());
  ASSERT_TRUE((*writer)->Append(second).ok());
  ASSERT_TRUE((*writer)->Finish(whole.metadata()).ok());
  EXPECT_EQ((*writer)->events_written(), whole.event_count());
  EXPECT_GT((*writer)->bytes_written(), 0u);

  absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Canonical(*read), Canonical(whole));
  EXPECT_EQ(read->metadata(), whole.metadata());
}

// Events in no particular order (the writer groups and sorts them itself), with device ops
// that overlap without nesting: those go to extra lanes, whose packets the per-track walk
// interleaves with the track's own. Everything still reads back equal.
TEST(PerfettoWriter, UnsortedEventsAndOverlappingOpsReadBackEqual) {
  Trace t = MakeSampleTrace();
  TrackId stream = 0;
  for (TrackId i = 0; i < t.tracks().size(); ++i) {
    if (t.tracks()[i].kind == TrackKind::kDeviceStream) stream = i;
  }
  for (int i = 0; i < 6; ++i) {
    // Each op overlaps the next one's start: lanes 0, 1, 0, 1, ...
    Slice op =
        MakeSlice(t, stream, i % 2 == 0 ? "gemm" : "copy", "kernel", 50'000 + 1'000 * i, 1'500);
    op.op_kind = DeviceOpKind::kKernel;
    op.correlation_id = 900 + i;
    t.mutable_slices().push_back(op);
  }
  std::reverse(t.mutable_slices().begin(), t.mutable_slices().end());
  std::reverse(t.mutable_counters().begin(), t.mutable_counters().end());
  const std::string path = TempPath("unsorted.pftrace");
  auto writer = PerfettoStreamWriter::Open(path, /*zstd=*/false);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Append(t).ok());
  ASSERT_TRUE((*writer)->Finish(t.metadata()).ok());
  absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(Canonical(*read), ::testing::ElementsAreArray(Canonical(t)));
}

TEST(PerfettoWriter, ProtocDecodesEveryPacket) {
  if (std::system("protoc --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "protoc is not installed";
  }
  const std::string path = TempPath("protoc.pftrace");
  ASSERT_TRUE(MakeSampleTrace().Write(path, Format::kPerfetto).ok());
  const std::string out = TempPath("protoc.txt");
  const std::string cmd =
      "protoc --decode=perfetto.protos.Trace --proto_path=" + std::string(SCOPETRACE_SOURCE_DIR) +
      "/proto perfetto_trace.proto < " + path + " > " + out + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadFileBytes(out);
  const std::string text = ReadFileBytes(out);

  // Count the packets independently, from the raw bytes.
  perfetto::protos::Trace parsed;
  ASSERT_TRUE(parsed.ParseFromString(ReadFileBytes(path)));
  size_t decoded = 0;
  for (size_t pos = 0; (pos = text.find("\npacket {", pos)) != std::string::npos; ++pos) ++decoded;
  if (text.rfind("packet {", 0) == 0) ++decoded;
  EXPECT_EQ(decoded, static_cast<size_t>(parsed.packet_size()));
  EXPECT_THAT(text, HasSubstr("track_event {"));
  EXPECT_THAT(text, HasSubstr("scopetrace_metadata {"));
  EXPECT_THAT(text, Not(HasSubstr("\n  1: ")));  // no field protoc could not name at packet level
}

TEST(PerfettoWriter, SequenceSetupFollowsTheRules) {
  const std::string path = TempPath("seq.pftrace");
  ASSERT_TRUE(MakeSampleTrace().Write(path, Format::kPerfetto).ok());
  perfetto::protos::Trace parsed;
  ASSERT_TRUE(parsed.ParseFromString(ReadFileBytes(path)));
  ASSERT_GT(parsed.packet_size(), 2);
  const auto& first = parsed.packet(0);
  EXPECT_EQ(first.sequence_flags(), 3u);
  EXPECT_TRUE(first.first_packet_on_sequence());
  EXPECT_TRUE(first.has_clock_snapshot());
  // One sequence for the file's own packets, then one per Perfetto track: the first packet
  // of each clears its incremental state (and only that one), an event sequence's first
  // packet sets the defaults (incremental clock 64, its track) and the clock snapshot.
  std::map<uint32_t, int> packets_per_sequence;
  int events = 0, counters = 0, cleared = 0;
  for (const auto& p : parsed.packet()) {
    ASSERT_NE(p.trusted_packet_sequence_id(), 0u);
    const bool first_on_sequence = packets_per_sequence[p.trusted_packet_sequence_id()]++ == 0;
    EXPECT_EQ(first_on_sequence, (p.sequence_flags() & 1) != 0);
    if (p.sequence_flags() & 1) ++cleared;
    EXPECT_EQ(p.previous_packet_dropped(), 0u);
    if (first_on_sequence) {
      EXPECT_EQ(p.sequence_flags(), 3u);
      EXPECT_TRUE(p.first_packet_on_sequence());
      EXPECT_TRUE(p.has_clock_snapshot());
      EXPECT_EQ(p.trace_packet_defaults().timestamp_clock_id(), pf::kIncrementalClock);
      if (p.trusted_packet_sequence_id() != first.trusted_packet_sequence_id()) {
        EXPECT_NE(p.trace_packet_defaults().track_event_defaults().track_uuid(), 0u);
      }
    }
    if (p.has_track_event()) {
      ++events;
      EXPECT_TRUE(p.has_timestamp());
      EXPECT_EQ(p.sequence_flags(), 2u);
      EXPECT_FALSE(p.track_event().has_track_uuid());  // from the sequence's defaults
      if (p.track_event().type() == perfetto::protos::TrackEvent::TYPE_SLICE_BEGIN) {
        EXPECT_TRUE(p.track_event().has_name_iid());  // interned, never inline
      }
    }
    if (p.has_track_descriptor() && p.track_descriptor().has_counter()) ++counters;
    if (p.has_track_descriptor() && p.track_descriptor().has_thread()) {
      EXPECT_TRUE(p.track_descriptor().thread().has_pid());
      EXPECT_TRUE(p.track_descriptor().thread().has_tid());
      EXPECT_TRUE(p.track_descriptor().thread().has_thread_name());
    }
  }
  EXPECT_EQ(cleared, static_cast<int>(packets_per_sequence.size()));
  EXPECT_GT(packets_per_sequence.size(), 2u);
  EXPECT_EQ(counters, 2);
  EXPECT_EQ(events, 2 * 11 + 2 + 5);  // BEGIN+END per slice, instants, counter samples
}

// Walks the raw bytes: every flow id must have its own fixed64 tag (never packed), and every
// counter track descriptor must carry `counter {}` as the bytes 42 00.
TEST(PerfettoWriter, WireLevelFlowIdsUnpackedAndCounterPresent) {
  const std::string path = TempPath("wire.pftrace");
  ASSERT_TRUE(MakeSampleTrace().Write(path, Format::kPerfetto).ok());
  const std::string bytes = ReadFileBytes(path);
  wire::Decoder file(bytes);
  wire::Field packet;
  int flow_tags = 0, terminating_tags = 0, counter_descriptors = 0, correlation_fields = 0;
  while (file.Next(packet)) {
    ASSERT_EQ(packet.number, 1u);
    ASSERT_EQ(packet.type, wire::kLen);
    wire::Decoder fields(packet.bytes);
    wire::Field f;
    while (fields.Next(f)) {
      if (f.number == pf::kTrackEvent) {
        wire::Decoder te(f.bytes);
        wire::Field g;
        while (te.Next(g)) {
          if (g.number == pf::kTeFlowIds || g.number == pf::kTeTerminatingFlowIds) {
            EXPECT_EQ(g.type, wire::kFixed64) << "flow ids must be unpacked fixed64";
            (g.number == pf::kTeFlowIds ? flow_tags : terminating_tags)++;
          }
          if (g.number == pf::kTeCategoryIids) EXPECT_EQ(g.type, wire::kVarint);
          // The correlation id in its compact form: TrackEvent.correlation_id, a varint.
          if (g.number == pf::kTeCorrelationId) {
            EXPECT_EQ(g.type, wire::kVarint);
            EXPECT_EQ(g.value, 7u);
            ++correlation_fields;
          }
        }
        ASSERT_TRUE(te.ok());
      }
      if (f.number == pf::kTrackDescriptor) {
        wire::Decoder td(f.bytes);
        wire::Field g;
        while (td.Next(g)) {
          if (g.number == pf::kTdCounter) {
            ++counter_descriptors;
            EXPECT_EQ(g.type, wire::kLen);
            EXPECT_TRUE(g.bytes.empty());
            EXPECT_NE(f.bytes.find(std::string("\x42\x00", 2)), std::string_view::npos);
          }
        }
      }
    }
    ASSERT_TRUE(fields.ok());
  }
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(flow_tags, 1);
  EXPECT_EQ(terminating_tags, 1);
  EXPECT_EQ(counter_descriptors, 2);
  EXPECT_EQ(correlation_fields, 2);  // the launch and the kernel
  // The raw tag F9 02 followed by the 8-byte little-endian id 7.
  EXPECT_NE(bytes.find(std::string("\xF9\x02\x07\0\0\0\0\0\0\0", 10)), std::string::npos);
  EXPECT_NE(bytes.find(std::string("\x81\x03\x07\0\0\0\0\0\0\0", 10)), std::string::npos);
}

// Timestamp deltas from 128 ns to 2^21 ns are written as 3-byte varints, padded with
// continuation bits (a fixed width compresses better); smaller and larger ones minimally. Every
// width boundary must still read back to the exact nanosecond, and protobuf's parser must take the
// padding.
TEST(PerfettoWriter, PaddedTimestampDeltasAreExact) {
  Trace t;
  t.add_process(Process{.pid = 5, .name = "p"});
  const TrackId thread =
      t.add_track(Track{.kind = TrackKind::kThread, .pid = 5, .tid = 6, .name = "worker"});
  // Deltas between consecutive edges: 0, 1, 127, 128, 16383, 16384, 2^21 - 1, 2^21, 2^40.
  int64_t ts = 1'712'345'678'901'234;
  for (int64_t step : {int64_t{1}, int64_t{127}, int64_t{128}, int64_t{16'383}, int64_t{16'384},
                       (int64_t{1} << 21) - 1, int64_t{1} << 21, int64_t{1} << 40}) {
    t.mutable_slices().push_back(MakeSlice(t, thread, "op", "cpu_op", ts, step));
    ts += step;  // the next slice starts where this one ends: delta 0
  }
  const std::string path = TempPath("deltas.pftrace");
  ASSERT_TRUE(t.Write(path, Format::kPerfetto).ok());
  absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Canonical(*read), Canonical(t));

  perfetto::protos::Trace parsed;
  ASSERT_TRUE(parsed.ParseFromString(ReadFileBytes(path)));
  int events = 0;
  for (const auto& p : parsed.packet()) events += p.has_track_event() ? 1 : 0;
  EXPECT_EQ(events, 16);
  // On the wire: tag 40, then the 3 padded bytes for 128 (80 81 00) and for 2^21 - 1
  // (FF FF 7F: already minimal); 2^21 in its minimal 4 bytes (80 80 80 01).
  const std::string bytes = ReadFileBytes(path);
  EXPECT_NE(bytes.find(std::string("\x40\x80\x81\x00", 4)), std::string::npos);
  // Below 128 a delta is one byte (the width cannot change between 0 and 127): 127 is
  // 7F, never the padded FF 80 00.
  EXPECT_NE(bytes.find(std::string("\x40\x7F", 2)), std::string::npos);
  EXPECT_EQ(bytes.find(std::string("\x40\xFF\x80\x00", 4)), std::string::npos);
  EXPECT_NE(bytes.find(std::string("\x40\xFF\xFF\x7F", 4)), std::string::npos);
  EXPECT_NE(bytes.find(std::string("\x40\x80\x80\x80\x01", 5)), std::string::npos);
}

// Splits an uncompressed file into its top-level packets' bodies.
std::vector<std::string> PacketBodies(const std::string& bytes) {
  std::vector<std::string> bodies;
  size_t pos = 0;
  while (pos < bytes.size()) {
    EXPECT_EQ(static_cast<uint8_t>(bytes[pos]), 0x0A);
    ++pos;
    uint64_t len = 0;
    for (int shift = 0;; shift += 7) {
      const auto b = static_cast<uint8_t>(bytes[pos++]);
      len |= uint64_t{b & 0x7Fu} << shift;
      if (b < 0x80) break;
    }
    bodies.push_back(bytes.substr(pos, len));
    pos += len;
  }
  return bodies;
}

// Plain slices (no args, correlation or flows) are encoded by a fixed-layout fast path,
// which needs a one-byte sequence id; tracks past the 126th get two-byte ids and take the
// general path. Both must write the same packets: per track, every event packet but its
// sequence id is compared between a fast-path track and a general-path one.
TEST(PerfettoWriter, PlainSlicePacketsMatchTheGeneralPath) {
  Trace t;
  t.add_process(Process{.pid = 5, .name = "p"});
  constexpr int kTracks = 130;  // sequence ids 2 .. 131
  for (int i = 0; i < kTracks; ++i) {
    const TrackId track =
        t.add_track(Track{.kind = TrackKind::kThread, .pid = 5, .tid = 100 + i, .name = "worker"});
    t.mutable_slices().push_back(MakeSlice(t, track, "op", "cpu_op", 0, 50));
    t.mutable_slices().push_back(MakeSlice(t, track, "op", "cpu_op", 100, 20));
    for (int64_t start : {200, 300}) {  // the first interns "idle", the second is plain
      Slice no_category = MakeSlice(t, track, "idle", "", start, 5);
      no_category.category = 0;
      t.mutable_slices().push_back(no_category);
    }
    t.mutable_slices().push_back(MakeSlice(t, track, "op", "cpu_op", 400, 200'000));
  }
  const std::string path = TempPath("plain_paths.pftrace");
  ASSERT_TRUE(t.Write(path, Format::kPerfetto).ok());
  absl::StatusOr<Trace> read = ReadTrace(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Canonical(*read), Canonical(t));

  // Event packets (flags NEEDS_INCREMENTAL_STATE only) by sequence id, id field removed.
  std::map<uint32_t, std::vector<std::string>> events;
  for (const std::string& body : PacketBodies(ReadFileBytes(path))) {
    ASSERT_EQ(static_cast<uint8_t>(body[0]), 0x50);  // trusted_packet_sequence_id first
    uint32_t id = static_cast<uint8_t>(body[1]);
    size_t rest = 2;
    if (id >= 0x80) {
      id = (id & 0x7F) | static_cast<uint32_t>(static_cast<uint8_t>(body[2])) << 7;
      rest = 3;
    }
    if (body.compare(rest, 2, "\x68\x02") == 0) events[id].push_back(body.substr(rest));
  }
  ASSERT_EQ(events.size(), static_cast<size_t>(kTracks));
  const std::vector<std::string>& fast = events.at(2);
  ASSERT_EQ(fast.size(), 10u);
  for (uint32_t id : {127u, 128u, 131u}) EXPECT_EQ(events.at(id), fast) << "sequence " << id;
  // The second BEGIN, exactly: flags, track_event { type BEGIN, name_iid 1,
  // category_iids 1 }, timestamp delta 50 (from the first END) in one byte.
  EXPECT_EQ(fast[2], std::string("\x68\x02\x5A\x06\x48\x01\x50\x01\x18\x01\x40\x32", 12));
  // No category: name_iid 2 only; delta 95 from the END at 205.
  EXPECT_EQ(fast[6], std::string("\x68\x02\x5A\x04\x48\x01\x50\x02\x40\x5F", 10));
  // END 200 000 ns later: the padded 3-byte delta (C0 9A 0C).
  EXPECT_EQ(fast[9], std::string("\x68\x02\x5A\x02\x48\x02\x40\xC0\x9A\x0C", 10));
}

// Random scope trees on threads[0..n): the first 120 threads get one root, the others
// `busy_roots`; a root lasts 5 ms (every 9th) or 0.2-5.2 µs and is followed by a gap past
// the padded delta width (every 7th) or of up to 50 ns. Children come in order, sometimes
// touching each other or their parent's ends, and are at least `min_child` ns long (0:
// zero-length scopes too, and siblings starting at the same time). scope(track, start,
// dur) is called for each, children before their parent when `children_first` (the order
// in which scopes end and reach the collector), the parent first otherwise. Returns each
// thread's time after its last root.
template <typename Scope>
std::vector<int64_t> RandomScopeTrees(std::mt19937_64& rng, const std::vector<TrackId>& threads,
                                      int64_t origin, int busy_roots, int64_t min_child,
                                      bool children_first, Scope scope) {
  std::function<void(TrackId, int64_t, int64_t, int)> tree = [&](TrackId track, int64_t start,
                                                                 int64_t dur, int depth) {
    if (!children_first) scope(track, start, dur);
    if (depth > 0 && dur >= 40) {
      int64_t at = start + static_cast<int64_t>(rng() % 3);  // 0: starts with its parent
      while (at < start + dur - 10) {
        const int64_t child = std::min<int64_t>(min_child + static_cast<int64_t>(rng() % (dur / 2)),
                                                start + dur - at - 1);
        tree(track, at, child, depth - 1);
        at += child + static_cast<int64_t>(rng() % 3);  // 0: the next starts at this one's end
      }
    }
    if (children_first) scope(track, start, dur);
  };
  std::vector<int64_t> ends;
  for (size_t i = 0; i < threads.size(); ++i) {
    int64_t at = origin + static_cast<int64_t>(i) * 7;
    const int roots = i < 120 ? 1 : busy_roots;
    for (int r = 0; r < roots; ++r) {
      const int64_t dur = r % 9 == 0 ? 5'000'000 : 200 + static_cast<int64_t>(rng() % 5'000);
      tree(threads[i], at, dur, dur > 1'000'000 ? 2 : 5);
      at += dur + (r % 7 == 0 ? 3'000'000 : static_cast<int64_t>(rng() % 50));  // > 2^21 ns gaps
    }
    ends.push_back(at);
  }
  return ends;
}

// Host threads' slices that nest, what nearly every thread's are, are written by one
// stack walk without lanes (EventEncoder::EncodeNestedSlices) instead of the general walk
// (EventOrder::WalkSlices, lanes for slices that overlap). Both must write the same bytes.
// The chunks hold what the stack walk must hand to the general encoder edge by edge:
// slices with args, correlation ids and flows, names first seen mid-run, sequence ids past
// 127, a second chunk that goes back in time, deltas past the padded width, zero and
// negative durations, equal timestamps; and one thread whose slices overlap (lane 1).
Trace NestingChunk(int chunk, int64_t origin, std::mt19937_64& rng) {
  Trace t;
  t.add_process(Process{.pid = 7, .name = "app"});
  std::vector<TrackId> threads;
  for (int i = 0; i < 131; ++i) {  // the last ones get sequence ids >= 128
    threads.push_back(
        t.add_track(Track{.kind = TrackKind::kThread, .pid = 7, .tid = 100 + i, .name = "w"}));
  }
  const TrackId counter = t.add_track(Track{.kind = TrackKind::kCounter, .pid = 7, .name = "q"});
  std::vector<Slice>& slices = t.mutable_slices();
  std::uniform_int_distribution<int> name_pick(0, 11 + 8 * chunk);  // new names in chunk 1
  const std::vector<int64_t> ends = RandomScopeTrees(
      rng, threads, origin, /*busy_roots=*/20, /*min_child=*/1, /*children_first=*/false,
      [&](TrackId track, int64_t start, int64_t dur) {
        Slice s;
        s.track = track;
        s.name = t.intern(absl::StrCat("op", name_pick(rng)));
        s.category = rng() % 4 == 0 ? 0 : t.intern(rng() % 2 ? "host" : "cpu_op");
        s.start_ns = start;
        s.dur_ns = dur;
        const uint64_t kind = rng() % 16;
        if (kind == 0)
          s.args = {{t.intern("n"), int64_t(rng() % 1000)}, {t.intern("s"), std::string("x")}};
        if (kind == 1) s.correlation_id = 1 + rng() % 100000;
        if (kind == 2) s.flow_out = 1 + rng() % 100000;
        if (kind == 3) s.flow_in = 1 + rng() % 100000;
        slices.push_back(s);
      });
  for (size_t i = 0; i < threads.size(); ++i) {
    Slice zero = MakeSlice(t, threads[i], "zero", "host", 0, 0);
    zero.start_ns = ends[i] + 10;
    slices.push_back(zero);
    Slice negative = MakeSlice(t, threads[i], "negative", "host", 0, -5);
    negative.start_ns = ends[i] + 20;
    slices.push_back(negative);
  }
  // A thread whose slices overlap without nesting: the second goes to lane 1.
  slices.push_back(MakeSlice(t, threads[3], "overlap", "host", 0, 100));
  slices.back().start_ns = origin + 50'000'000;
  slices.push_back(MakeSlice(t, threads[3], "overlap", "host", 0, 100));
  slices.back().start_ns = origin + 50'000'050;
  for (int i = 0; i < 10; ++i) {
    t.mutable_counters().push_back(
        CounterSample{.track = counter, .ts_ns = origin + i * 1000, .value = i * 0.5});
  }
  t.SortEvents();
  return t;
}

// Both walks over the same chunks, each into a buffer of its own: the same bytes, for
// chunks in order (a streamed capture's) and for shuffled ones (sorted per track first).
TEST(PerfettoWriter, NestedSliceWalkWritesWhatTheGeneralWalkWrites) {
  std::mt19937_64 rng(11);
  // The second chunk starts before the first one's end: its first edges take absolute
  // timestamps.
  Trace chunks[2] = {NestingChunk(0, kBase, rng), NestingChunk(1, kBase + 1'000, rng)};
  ASSERT_GT(chunks[0].slices().size(), 20'000u);
  for (bool shuffle : {false, true}) {
    SCOPED_TRACE(shuffle ? "shuffled chunks" : "chunks in order");
    if (shuffle) {
      for (Trace& chunk : chunks) {
        std::shuffle(chunk.mutable_slices().begin(), chunk.mutable_slices().end(), rng);
      }
    }
    wire::Buffer bytes[2];
    for (int walk = 0; walk < 2; ++walk) {
      exporters::EventEncoder encoder(bytes[walk], /*first_sequence_id=*/2);
      exporters::EventOrder order;
      std::vector<exporters::EventSequence*> lanes[131];
      for (const Trace& chunk : chunks) {
        encoder.BeginChunk(chunk);
        order.Group(chunk);
        for (TrackId t = 0; t < 131; ++t) {
          auto lane = [&](uint32_t i) -> exporters::EventSequence& {
            while (lanes[t].size() <= i) lanes[t].push_back(&encoder.NewSequence(t * 4 + i));
            return *lanes[t][i];
          };
          // Every thread nests but thread 3, whose slices overlap.
          ASSERT_EQ(order.SlicesNest(chunk, t), t != 3) << "track " << t;
          if (walk == 0 && t != 3) {
            encoder.EncodeNestedSlices(lane(0), chunk, order.SortedSlices(chunk, t), [] {});
          } else {
            order.WalkSlices(chunk, t, nullptr, [&](uint32_t l, const exporters::Edge& e) {
              encoder.Encode(lane(l), chunk, e);
            });
          }
        }
      }
      ASSERT_EQ(lanes[3].size(), 2u);  // the overlapping slice took lane 1
    }
    ASSERT_GT(bytes[0].size(), 100'000u);
    EXPECT_TRUE(std::string_view(reinterpret_cast<const char*>(bytes[0].data()), bytes[0].size()) ==
                std::string_view(reinterpret_cast<const char*>(bytes[1].data()), bytes[1].size()))
        << "sizes " << bytes[0].size() << " and " << bytes[1].size();
  }
}

// Through the writer: in order or shuffled, the same file, and it reads back whole (the
// second chunk follows the first, so that the two chunks' slices nest on each thread).
TEST(PerfettoWriter, NestedHostSlicesReadBackFromOrderedAndShuffledChunks) {
  std::mt19937_64 rng(12);
  Trace first = NestingChunk(0, kBase, rng);
  int64_t first_end = 0;
  for (const Slice& s : first.slices()) first_end = std::max(first_end, s.end_ns());
  const Trace chunks[2] = {std::move(first), NestingChunk(1, first_end + 1'000, rng)};
  Trace shuffled[2] = {chunks[0], chunks[1]};
  for (Trace& chunk : shuffled) {
    std::shuffle(chunk.mutable_slices().begin(), chunk.mutable_slices().end(), rng);
  }
  std::string bytes[2];
  for (int variant = 0; variant < 2; ++variant) {
    const std::string path = TempPath(absl::StrCat("nested_", variant, ".pftrace"));
    auto writer = PerfettoStreamWriter::Open(path, /*zstd=*/false);
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (const Trace& chunk : variant == 0 ? chunks : shuffled) {
      ASSERT_TRUE((*writer)->Append(chunk).ok());
    }
    ASSERT_TRUE((*writer)->Finish(TraceMetadata{}).ok());
    bytes[variant] = ReadFileBytes(path);
  }
  EXPECT_TRUE(bytes[0] == bytes[1]) << "sizes " << bytes[0].size() << " and " << bytes[1].size();
  absl::StatusOr<Trace> read = ReadTrace(TempPath("nested_0.pftrace"));
  ASSERT_TRUE(read.ok()) << read.status();
  Trace both = chunks[0];
  for (const Slice& s : chunks[1].slices()) {
    Slice copy = s;
    copy.name = both.intern(chunks[1].str(s.name));
    copy.category = s.category == 0 ? 0 : both.intern(chunks[1].str(s.category));
    for (Arg& a : copy.args) a.key = both.intern(chunks[1].str(a.key));
    both.mutable_slices().push_back(copy);
  }
  for (const CounterSample& c : chunks[1].counters()) both.mutable_counters().push_back(c);
  for (Slice& s : both.mutable_slices()) s.dur_ns = std::max<int64_t>(s.dur_ns, 0);  // as written
  both.SortEvents();
  EXPECT_EQ(Canonical(*read), Canonical(both));
}

// A streamed chunk as the collector hands it over (StreamingPipeline): each host thread's
// scopes as 32-byte records in completion order (children before their parents), some
// with payloads (args, correlation id, flow), and device ops as Slices on stream tracks.
void FillCollectorChunk(uint64_t seed, int64_t origin, Trace& chunk,
                        internal::HostSliceRuns& runs) {
  std::mt19937_64 rng(seed);
  chunk.add_process(Process{.pid = 7, .name = "app"});
  std::vector<TrackId> threads;
  for (int i = 0; i < 131; ++i) {  // the last ones get sequence ids >= 128
    threads.push_back(
        chunk.add_track(Track{.kind = TrackKind::kThread, .pid = 7, .tid = 100 + i, .name = "w"}));
  }
  const TrackId stream = chunk.add_track(
      Track{.kind = TrackKind::kDeviceStream, .pid = kDevicePidBase, .tid = 0, .name = "s0"});
  const StringId host = chunk.intern("host");
  RandomScopeTrees(rng, threads, origin, /*busy_roots=*/15, /*min_child=*/0,
                   /*children_first=*/true, [&](TrackId track, int64_t start, int64_t dur) {
                     const StringId name = chunk.intern(absl::StrCat("op", rng() % 20));
                     const StringId category = rng() % 4 == 0 ? 0 : host;
                     const uint64_t kind = rng() % 12;
                     if (kind >= 3) {
                       runs.Add(track, name, category, start, start + dur);
                       return;
                     }
                     internal::HostSlicePayload& payload =
                         runs.AddWithPayload(track, name, category, start, start + dur);
                     if (kind == 0) payload.args = {{chunk.intern("n"), int64_t(rng() % 1000)}};
                     if (kind == 1) payload.correlation_id = 1 + rng() % 100000;
                     if (kind == 2) payload.flow_out = 1 + rng() % 100000;
                   });
  for (int i = 0; i < 50; ++i) {  // overlapping device ops
    chunk.mutable_slices().push_back(
        MakeSlice(chunk, stream, absl::StrCat("k", i % 3), "kernel", 0, 3'000));
    chunk.mutable_slices().back().start_ns = origin + i * 1'000;
  }
}

// The streamed chunk's host slices go from the records straight into packets (when every
// run nests); the file must be byte for byte what writing their merged Slices gives. Three
// random shapes (zero-length scopes, siblings starting where one ends or at the same time).
TEST(PerfettoWriter, CollectorRecordsWriteWhatTheirMergedSlicesWrite) {
  for (const uint64_t seed : {21, 41, 61}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::string bytes[2];
    for (int variant = 0; variant < 2; ++variant) {
      const std::string path = TempPath(absl::StrCat("records_", variant, ".pftrace"));
      auto writer = PerfettoStreamWriter::Open(path, /*zstd=*/false);
      ASSERT_TRUE(writer.ok()) << writer.status();
      // The second chunk starts before the first one's end: absolute timestamps for a while.
      for (int chunk_index = 0; chunk_index < 2; ++chunk_index) {
        Trace chunk;
        internal::HostSliceRuns runs;
        FillCollectorChunk(seed + chunk_index, kBase + chunk_index * 1'000, chunk, runs);
        if (variant == 0) {
          ASSERT_GT(runs.size(), 10'000u);
          ASSERT_TRUE(runs.SortRunsAndCheckNesting());
          ASSERT_TRUE((*writer)->Append(chunk, &runs).ok());
        } else {
          runs.MergeInto(chunk);
          ASSERT_TRUE((*writer)->Append(chunk).ok());
        }
      }
      ASSERT_TRUE((*writer)->Finish(TraceMetadata{}).ok());
      EXPECT_GT((*writer)->events_written(), 20'000u);
      bytes[variant] = ReadFileBytes(path);
    }
    ASSERT_GT(bytes[0].size(), 100'000u);
    EXPECT_TRUE(bytes[0] == bytes[1]) << "sizes " << bytes[0].size() << " and " << bytes[1].size();
  }
}

// What decides between the two: runs sort into walk order, and a run whose slices overlap
// without nesting (which scopes never do) is reported, so that it is merged instead.
TEST(PerfettoWriter, RunsThatDoNotNestAreReported) {
  Trace t;
  const StringId name = t.intern("a");
  internal::HostSliceRuns runs;
  runs.Add(0, name, 0, 10, 20);  // a child, then its parent: sorted, they nest
  runs.Add(0, name, 0, 0, 100);
  EXPECT_TRUE(runs.SortRunsAndCheckNesting());
  EXPECT_EQ(runs.records(0)[0].start_ns, 0);
  runs.Add(1, name, 0, 0, 100);
  runs.Add(1, name, 0, 50, 150);  // overlaps its predecessor's end
  EXPECT_FALSE(runs.SortRunsAndCheckNesting());
}

// Streaming capture compresses on a thread of the writer's own; the file must be byte for
// byte what compression on the caller's thread writes (one zstd stream, same input in
// the same order), over many flushed blocks (more than the queue holds, so Append waits).
TEST(PerfettoWriter, BackgroundCompressionWritesTheSameBytes) {
  Trace t = MakeSampleTrace();
  const TrackId main = t.slices().front().track;
  for (int i = 0; i < 120'000; ++i) {  // ~4 MB of packets: ~15 blocks of 256 KiB
    t.mutable_slices().push_back(
        MakeSlice(t, main, i % 3 == 0 ? "a" : "b", "host", 20'000 + 40 * i, 10 + i % 7));
  }
  t.SortEvents();
  std::string bytes[2];
  std::atomic<int64_t> cpu_ns[2] = {0, 0};
  for (int background = 0; background < 2; ++background) {
    const std::string path = TempPath(absl::StrCat("bg", background, ".pftrace.zst"));
    auto writer = PerfettoStreamWriter::Open(path, /*zstd=*/true, /*zstd_level=*/3,
                                             /*background_compression=*/background == 1);
    ASSERT_TRUE(writer.ok()) << writer.status();
    (*writer)->CountBackgroundCpuInto(&cpu_ns[background]);
    ASSERT_TRUE((*writer)->Append(t).ok());
    ASSERT_TRUE((*writer)->Finish(t.metadata()).ok());
    EXPECT_EQ((*writer)->bytes_written(), std::filesystem::file_size(path));
    bytes[background] = ReadFileBytes(path);
    absl::StatusOr<Trace> read = ReadTrace(path);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(Canonical(*read), Canonical(t));
  }
  EXPECT_GT(bytes[0].size(), 1000u);
  EXPECT_TRUE(bytes[0] == bytes[1]) << "sizes " << bytes[0].size() << " vs " << bytes[1].size();
  EXPECT_EQ(cpu_ns[0].load(), 0);  // no thread to count
  EXPECT_GT(cpu_ns[1].load(), 0);
}

// A write error on the compression thread comes out of a later Append or of Finish, and
// names the path, like a foreground one.
TEST(PerfettoWriter, BackgroundCompressionReportsDiskFull) {
  std::FILE* probe = std::fopen("/dev/full", "wb");
  if (probe == nullptr) GTEST_SKIP() << "/dev/full not available";
  std::fclose(probe);
  Trace big = MakeSampleTrace();
  for (int i = 0; i < 200'000; ++i)
    big.mutable_counters().push_back({4, kBase + 20000 + i, 1.5 * i});
  auto writer = PerfettoStreamWriter::Open("/dev/full", /*zstd=*/true, /*zstd_level=*/3,
                                           /*background_compression=*/true);
  ASSERT_TRUE(writer.ok()) << writer.status();
  absl::Status status = (*writer)->Append(big);
  if (status.ok()) status = (*writer)->Finish(big.metadata());
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("/dev/full"));
}

TEST(PerfettoWriter, DiskFullIsAnErrorNamingThePath) {
  std::FILE* probe = std::fopen("/dev/full", "wb");
  if (probe == nullptr) GTEST_SKIP() << "/dev/full not available";
  std::fclose(probe);
  Trace big = MakeSampleTrace();
  for (int i = 0; i < 200000; ++i)
    big.mutable_counters().push_back({4, kBase + 20000 + i, 1.5 * i});
  absl::Status s = exporters::WritePerfetto(big, "/dev/full", /*zstd=*/false);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("/dev/full"));
}

TEST(PerfettoWriter, UnwritablePathIsAnError) {
  absl::Status s = MakeSampleTrace().Write("/nonexistent-dir/x.pftrace", Format::kPerfetto);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("/nonexistent-dir/x.pftrace"));
}

}  // namespace
}  // namespace scopetrace

namespace scopetrace {
namespace {

// The same capture through Chrome JSON and through .pftrace.zst reads back as one model.
TEST(PerfettoWriter, JsonAndPerfettoGiveTheSameModel) {
  const Trace original = testing::MakeSampleTrace();
  const std::string json = testing::TempPath("cross.trace.json");
  const std::string pftrace = testing::TempPath("cross.pftrace.zst");
  ASSERT_TRUE(original.Write(json, Format::kChromeJson).ok());
  ASSERT_TRUE(original.Write(pftrace, Format::kPerfettoZstd).ok());
  absl::StatusOr<Trace> from_json = ReadTrace(json);
  absl::StatusOr<Trace> from_pftrace = ReadTrace(pftrace);
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  ASSERT_TRUE(from_pftrace.ok()) << from_pftrace.status();
  EXPECT_EQ(testing::Canonical(*from_json), testing::Canonical(*from_pftrace));
  EXPECT_EQ(from_json->metadata(), from_pftrace->metadata());
}

}  // namespace
}  // namespace scopetrace
