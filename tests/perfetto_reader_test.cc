// The Perfetto reader: files from other writers (several sequences, interning, incremental
// clocks, parent_uuid), and damaged input: cut, corrupted, garbage, hostile nesting.

#include <string>
#include <tuple>
#include <vector>

#include "exporters/perfetto_input.h"
#include "exporters/perfetto_stream_writer.h"
#include "exporters/proto_wire.h"
#include "exporters/trace_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "perfetto_test_trace.h"
#include "proto/perfetto_trace.pb.h"

namespace scopetrace {
namespace {

using ::testing::HasSubstr;
using namespace scopetrace::testing;  // NOLINT: test helpers
namespace pb = ::perfetto::protos;

// Appends a TrackEvent packet on sequence 1 for track `uuid` at `ts` (no name if null).
pb::TrackEvent* AddTrackEvent(pb::Trace& trace, uint64_t uuid, uint64_t ts,
                              pb::TrackEvent::Type type, const char* name) {
  auto* p = trace.add_packet();
  p->set_trusted_packet_sequence_id(1);
  p->set_timestamp(ts);
  auto* e = p->mutable_track_event();
  e->set_track_uuid(uuid);
  e->set_type(type);
  if (name != nullptr) e->set_name(name);
  return e;
}

const Slice* FindSlice(const Trace& t, std::string_view name) {
  for (const Slice& s : t.slices()) {
    if (t.str(s.name) == name) return &s;
  }
  return nullptr;
}

// What the Perfetto SDK writes, in miniature: interned names on a cleared sequence, an
// incremental microsecond clock set up by a ClockSnapshot, default track, a process with
// a thread, an async track and a counter under it, a second sequence, flows.
std::string ForeignTrace() {
  pb::Trace trace;
  auto* p = trace.add_packet();
  p->set_trusted_packet_sequence_id(5);
  p->set_sequence_flags(1);
  auto* interned = p->mutable_interned_data();
  auto* n = interned->add_event_names();
  n->set_iid(1);
  n->set_name("Foo");
  auto* c = interned->add_event_categories();
  c->set_iid(1);
  c->set_name("cat");
  auto* an = interned->add_debug_annotation_names();
  an->set_iid(1);
  an->set_name("arg");
  p->mutable_trace_packet_defaults()->set_timestamp_clock_id(64);
  p->mutable_trace_packet_defaults()->mutable_track_event_defaults()->set_track_uuid(100);
  auto* boot = p->mutable_clock_snapshot()->add_clocks();
  boot->set_clock_id(6);
  boot->set_timestamp(1'000'000);
  auto* inc = p->mutable_clock_snapshot()->add_clocks();
  inc->set_clock_id(64);
  inc->set_timestamp(1'000);
  inc->set_is_incremental(true);
  inc->set_unit_multiplier_ns(1'000);

  auto descriptor = [&](uint64_t uuid) {
    auto* d = trace.add_packet()->mutable_track_descriptor();
    d->set_uuid(uuid);
    return d;
  };
  auto* proc = descriptor(1)->mutable_process();
  proc->set_pid(77);
  proc->set_process_name("proc");
  auto* thread = descriptor(100)->mutable_thread();
  thread->set_pid(77);
  thread->set_tid(78);
  thread->set_thread_name("t1");
  auto* async = descriptor(200);
  async->set_parent_uuid(1);
  async->set_name("async");
  auto* ctr = descriptor(300);
  ctr->set_parent_uuid(1);
  ctr->set_name("ctr");
  ctr->mutable_counter();

  auto event = [&](uint32_t seq, uint64_t ts, uint32_t flags) {
    auto* packet = trace.add_packet();
    packet->set_trusted_packet_sequence_id(seq);
    packet->set_timestamp(ts);
    if (flags) packet->set_sequence_flags(flags);
    return packet;
  };
  auto* foo = event(5, 10, 2)->mutable_track_event();
  foo->set_type(pb::TrackEvent::TYPE_SLICE_BEGIN);
  foo->set_name_iid(1);
  foo->add_category_iids(1);
  foo->add_flow_ids(99);
  auto* a1 = foo->add_debug_annotations();
  a1->set_name_iid(1);
  a1->set_int_value(5);
  auto* a2 = foo->add_debug_annotations();
  a2->set_name("d");
  auto* entry = a2->add_dict_entries();
  entry->set_name("x");
  entry->set_string_value("y");
  auto* inner = event(5, 5, 2)->mutable_track_event();
  inner->set_type(pb::TrackEvent::TYPE_SLICE_BEGIN);
  inner->set_name("Inner");
  event(5, 5, 2)->mutable_track_event()->set_type(pb::TrackEvent::TYPE_SLICE_END);
  event(5, 10, 2)->mutable_track_event()->set_type(pb::TrackEvent::TYPE_SLICE_END);

  // Sequence 6 never cleared its state: this packet is skipped, as trace_processor does.
  auto* skipped = event(6, 1'500'000, 2)->mutable_track_event();
  skipped->set_type(pb::TrackEvent::TYPE_INSTANT);
  skipped->set_name("Skipped");
  skipped->set_track_uuid(100);
  auto* begin = event(6, 2'000'000, 0)->mutable_track_event();
  begin->set_type(pb::TrackEvent::TYPE_SLICE_BEGIN);
  begin->set_track_uuid(200);
  begin->set_name("Async");
  auto* end = event(6, 2'500'000, 0)->mutable_track_event();
  end->set_type(pb::TrackEvent::TYPE_SLICE_END);
  end->set_track_uuid(200);
  end->add_terminating_flow_ids(99);
  auto* sample = event(6, 2'100'000, 0)->mutable_track_event();
  sample->set_type(pb::TrackEvent::TYPE_COUNTER);
  sample->set_track_uuid(300);
  sample->set_counter_value(42);
  return trace.SerializeAsString();
}

TEST(PerfettoReader, ReadsOtherWritersTraces) {
  const std::string path = TempPath("foreign.pftrace");
  WriteFileBytes(path, ForeignTrace());
  absl::StatusOr<Trace> t = ReadTrace(path);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->processes().size(), 1u);
  EXPECT_EQ(t->processes()[0].pid, 77);
  EXPECT_EQ(t->processes()[0].name, "proc");
  EXPECT_FALSE(t->metadata().truncated);

  const Slice* foo = FindSlice(*t, "Foo");
  ASSERT_NE(foo, nullptr);
  EXPECT_EQ(foo->start_ns, 1'010'000);
  EXPECT_EQ(foo->dur_ns, 20'000);
  EXPECT_EQ(t->str(foo->category), "cat");
  EXPECT_EQ(foo->flow_out, 99u);
  const Track& thread = t->tracks()[foo->track];
  EXPECT_EQ(thread.kind, TrackKind::kThread);
  EXPECT_EQ(thread.pid, 77);
  EXPECT_EQ(thread.tid, 78);
  EXPECT_EQ(thread.name, "t1");
  ASSERT_EQ(foo->args.size(), 2u);
  EXPECT_EQ(t->str(foo->args[0].key), "arg");
  EXPECT_EQ(foo->args[0].value, ArgValue(int64_t{5}));
  EXPECT_EQ(t->str(foo->args[1].key), "d.x");
  EXPECT_EQ(foo->args[1].value, ArgValue(std::string("y")));

  const Slice* inner = FindSlice(*t, "Inner");
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(inner->start_ns, 1'015'000);
  EXPECT_EQ(inner->dur_ns, 5'000);

  const Slice* async = FindSlice(*t, "Async");
  ASSERT_NE(async, nullptr);
  EXPECT_EQ(async->start_ns, 2'000'000);
  EXPECT_EQ(async->dur_ns, 500'000);
  EXPECT_EQ(async->flow_in, 99u);
  EXPECT_EQ(t->tracks()[async->track].name, "async");
  EXPECT_EQ(t->tracks()[async->track].pid, 77);

  EXPECT_EQ(FindSlice(*t, "Skipped"), nullptr);
  EXPECT_TRUE(t->instants().empty());
  ASSERT_EQ(t->counters().size(), 1u);
  EXPECT_EQ(t->counters()[0].value, 42);
  EXPECT_EQ(t->counters()[0].ts_ns, 2'100'000);
  EXPECT_EQ(t->tracks()[t->counters()[0].track].kind, TrackKind::kCounter);
  EXPECT_EQ(t->tracks()[t->counters()[0].track].name, "ctr");
}

// A track's events out of time order in the file (allowed: trace_processor sorts them), so
// the reader's streaming pairing gives way to sorting per track. Also: equal start times
// (a zero-length slice, then a longer one) and several uuids named like one model track.
std::string UnorderedTrace() {
  pb::Trace trace;
  auto descriptor = [&](uint64_t uuid) {
    auto* d = trace.add_packet()->mutable_track_descriptor();
    d->set_uuid(uuid);
    return d;
  };
  auto* thread = descriptor(10)->mutable_thread();
  thread->set_pid(7);
  thread->set_tid(8);
  thread->set_thread_name("main");
  auto event = [&](uint64_t uuid, uint64_t ts, pb::TrackEvent::Type type, const char* name) {
    return AddTrackEvent(trace, uuid, ts, type, name);
  };
  event(10, 1'000, pb::TrackEvent::TYPE_SLICE_BEGIN, "Late");
  event(10, 1'500, pb::TrackEvent::TYPE_SLICE_END, nullptr);
  event(20, 300, pb::TrackEvent::TYPE_SLICE_BEGIN, "Other");  // another track: in order
  // Back in time on track 10: written after "Late", happened before it.
  event(10, 100, pb::TrackEvent::TYPE_SLICE_BEGIN, "Early");
  event(10, 100, pb::TrackEvent::TYPE_SLICE_END, nullptr);
  event(10, 100, pb::TrackEvent::TYPE_SLICE_BEGIN, "Longer");
  event(10, 400, pb::TrackEvent::TYPE_SLICE_END, nullptr)->add_flow_ids(5);
  event(20, 900, pb::TrackEvent::TYPE_SLICE_END, nullptr);
  return trace.SerializeAsString();
}

TEST(PerfettoReader, PairsEventsOutOfTimeOrderLikeTraceProcessor) {
  const std::string path = TempPath("unordered.pftrace");
  WriteFileBytes(path, UnorderedTrace());
  absl::StatusOr<Trace> t = ReadTrace(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->metadata().truncated);
  std::vector<std::string> order;
  for (const Slice& s : t->slices()) order.push_back(std::string(t->str(s.name)));
  // Per track by (start, longest first): "Longer" before the zero-length "Early".
  const TrackId main = FindSlice(*t, "Late")->track;
  if (FindSlice(*t, "Other")->track < main) {
    EXPECT_THAT(order, ::testing::ElementsAre("Other", "Longer", "Early", "Late"));
  } else {
    EXPECT_THAT(order, ::testing::ElementsAre("Longer", "Early", "Late", "Other"));
  }
  EXPECT_EQ(FindSlice(*t, "Early")->dur_ns, 0);
  EXPECT_EQ(FindSlice(*t, "Longer")->dur_ns, 300);
  EXPECT_EQ(FindSlice(*t, "Longer")->flow_out, 5u);
  EXPECT_EQ(FindSlice(*t, "Late")->dur_ns, 500);
  EXPECT_EQ(FindSlice(*t, "Other")->dur_ns, 600);
  EXPECT_EQ(t->tracks()[main].name, "main");
}

// The reader's slice order: grouped by track, each track by start, the longer first.
void ExpectSlicesInModelOrder(const Trace& t) {
  const std::vector<Slice>& read = t.slices();
  for (size_t i = 1; i < read.size(); ++i) {
    ASSERT_LE(std::tuple(read[i - 1].track, read[i - 1].start_ns, -read[i - 1].dur_ns),
              std::tuple(read[i].track, read[i].start_ns, -read[i].dur_ns))
        << "at " << i;
  }
}

// Events of several tracks interleaved across packets, each track in time order (what the
// writers produce): paired as they are read, then grouped by track in the model's order.
TEST(PerfettoReader, InterleavedTracksComeOutGroupedAndSorted) {
  Trace original = MakeSampleTrace();
  // Many steps so the model's vectors are large enough for the bulk paths (reservation
  // from the file size, gathering into track order).
  const Slice pattern = original.slices()[0];
  std::vector<Slice>& slices = original.mutable_slices();
  for (int i = 1; i <= 60'000; ++i) {
    for (TrackId track : {TrackId{0}, TrackId{1}, TrackId{2}}) {
      Slice s = pattern;
      s.track = track;
      s.start_ns = kBase + 1'000'000 + i * 1'000;
      s.dur_ns = i % 3 == 0 ? 0 : 500;
      s.args.clear();
      slices.push_back(s);
    }
  }
  original.SortEvents();
  for (Format format : {Format::kPerfetto, Format::kPerfettoZstd}) {
    const std::string path = TempPath(format == Format::kPerfetto ? "big.pftrace" : "big.zst");
    ASSERT_TRUE(original.Write(path, format).ok());
    absl::StatusOr<Trace> t = ReadTrace(path);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_FALSE(t->metadata().truncated);
    EXPECT_EQ(Canonical(*t), Canonical(original));
    ExpectSlicesInModelOrder(*t);
  }
}

// Equal start times in a file that is in time order (read while streaming): a slice that
// ended at once, then a longer one from the same instant, come out longer first; a parent
// and a child that start together keep parent first. Once with interned names on a valid
// sequence (the reader's fast path) and once with plain names (its general path).
TEST(PerfettoReader, EqualStartsWhileStreamingComeOutLongerFirst) {
  for (const bool interned : {true, false}) {
    SCOPED_TRACE(interned ? "interned names" : "plain names");
    pb::Trace trace;
    auto* thread = trace.add_packet()->mutable_track_descriptor();
    thread->set_uuid(10);
    thread->mutable_thread()->set_pid(7);
    thread->mutable_thread()->set_tid(8);
    auto* state = trace.add_packet();
    state->set_trusted_packet_sequence_id(1);
    state->set_sequence_flags(pb::TracePacket::SEQ_INCREMENTAL_STATE_CLEARED);
    const std::vector<std::string> names = {"Zero", "Long", "Parent", "Child"};
    for (size_t i = 0; i < names.size(); ++i) {
      auto* n = state->mutable_interned_data()->add_event_names();
      n->set_iid(i + 1);
      n->set_name(names[i]);
    }
    auto event = [&](uint64_t ts, pb::TrackEvent::Type type, int name) {
      auto* p = trace.add_packet();
      p->set_trusted_packet_sequence_id(1);
      p->set_sequence_flags(pb::TracePacket::SEQ_NEEDS_INCREMENTAL_STATE);
      p->set_timestamp(ts);
      auto* e = p->mutable_track_event();
      e->set_track_uuid(10);
      e->set_type(type);
      if (name < 0) return;
      if (interned) {
        e->set_name_iid(name + 1);
      } else {
        e->set_name(names[name]);
      }
    };
    event(100, pb::TrackEvent::TYPE_SLICE_BEGIN, 0);
    event(100, pb::TrackEvent::TYPE_SLICE_END, -1);
    event(100, pb::TrackEvent::TYPE_SLICE_BEGIN, 1);
    event(400, pb::TrackEvent::TYPE_SLICE_END, -1);
    event(500, pb::TrackEvent::TYPE_SLICE_BEGIN, 2);
    event(500, pb::TrackEvent::TYPE_SLICE_BEGIN, 3);
    event(550, pb::TrackEvent::TYPE_SLICE_END, -1);
    event(600, pb::TrackEvent::TYPE_SLICE_END, -1);
    const std::string path = TempPath("ties.pftrace");
    WriteFileBytes(path, trace.SerializeAsString());
    absl::StatusOr<Trace> t = ReadTrace(path);
    ASSERT_TRUE(t.ok()) << t.status();
    std::vector<std::string> order;
    for (const Slice& s : t->slices()) order.push_back(std::string(t->str(s.name)));
    EXPECT_THAT(order, ::testing::ElementsAre("Long", "Zero", "Parent", "Child"));
    EXPECT_EQ(FindSlice(*t, "Zero")->dur_ns, 0);
    EXPECT_EQ(FindSlice(*t, "Long")->dur_ns, 300);
    EXPECT_EQ(FindSlice(*t, "Parent")->dur_ns, 100);
    EXPECT_EQ(FindSlice(*t, "Child")->dur_ns, 50);
  }
}

// Descriptors after the events they describe (allowed; trace_processor reads descriptors
// whenever they come): slices read before are moved to the right tracks, and a track that
// turns out to be a device stream (its process is a device, described last) gets op kinds.
TEST(PerfettoReader, LateDescriptorsPutSlicesOnTheRightTracks) {
  pb::Trace trace;
  auto event = [&](uint64_t uuid, uint64_t ts, pb::TrackEvent::Type type, const char* name,
                   const char* category) {
    pb::TrackEvent* e = AddTrackEvent(trace, uuid, ts, type, name);
    if (category != nullptr) e->add_categories(category);
  };
  auto* stream = trace.add_packet()->mutable_track_descriptor();
  stream->set_uuid(30);
  stream->set_parent_uuid(40);
  stream->set_name("stream 2");
  event(20, 100, pb::TrackEvent::TYPE_SLICE_BEGIN, "Undescribed", nullptr);
  event(20, 200, pb::TrackEvent::TYPE_SLICE_END, nullptr, nullptr);
  event(30, 150, pb::TrackEvent::TYPE_SLICE_BEGIN, "gemm", "kernel");
  event(30, 250, pb::TrackEvent::TYPE_SLICE_END, nullptr, nullptr);
  auto* thread = trace.add_packet()->mutable_track_descriptor();
  thread->set_uuid(10);
  thread->mutable_thread()->set_pid(7);
  thread->mutable_thread()->set_tid(8);
  thread->mutable_thread()->set_thread_name("main");
  event(10, 300, pb::TrackEvent::TYPE_SLICE_BEGIN, "OnMain", nullptr);
  event(10, 400, pb::TrackEvent::TYPE_SLICE_END, nullptr, nullptr);
  event(20, 500, pb::TrackEvent::TYPE_SLICE_BEGIN, "Undescribed2", nullptr);
  event(20, 600, pb::TrackEvent::TYPE_SLICE_END, nullptr, nullptr);
  auto* device = trace.add_packet()->mutable_track_descriptor();
  device->set_uuid(40);
  device->mutable_process()->set_pid(kDevicePidBase + 3);
  device->mutable_process()->set_process_name("gpu");
  const std::string path = TempPath("late.pftrace");
  WriteFileBytes(path, trace.SerializeAsString());
  absl::StatusOr<Trace> t = ReadTrace(path);
  ASSERT_TRUE(t.ok()) << t.status();
  const Slice* gemm = FindSlice(*t, "gemm");
  ASSERT_NE(gemm, nullptr);
  EXPECT_EQ(t->tracks()[gemm->track].kind, TrackKind::kDeviceStream);
  EXPECT_EQ(t->tracks()[gemm->track].pid, kDevicePidBase + 3);
  EXPECT_EQ(t->tracks()[gemm->track].tid, 2);
  EXPECT_EQ(gemm->op_kind, DeviceOpKind::kKernel);
  const Slice* main = FindSlice(*t, "OnMain");
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(t->tracks()[main->track].name, "main");
  EXPECT_EQ(FindSlice(*t, "Undescribed")->track, FindSlice(*t, "Undescribed2")->track);
  EXPECT_NE(FindSlice(*t, "Undescribed")->track, main->track);
  EXPECT_EQ(FindSlice(*t, "Undescribed")->op_kind, DeviceOpKind::kNone);
  const std::vector<Slice>& read = t->slices();
  for (size_t i = 1; i < read.size(); ++i) {
    EXPECT_LE(std::tuple(read[i - 1].track, read[i - 1].start_ns),
              std::tuple(read[i].track, read[i].start_ns));
  }
}

// The bytes of the well-formed field at the front of `bytes` (varints may be padded).
size_t FieldSize(std::string_view bytes) {
  size_t i = 0;
  auto skip_varint = [&] {
    uint64_t v = 0;
    for (int shift = 0; i < bytes.size(); shift += 7) {
      const auto b = static_cast<uint8_t>(bytes[i++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (b < 0x80) break;
    }
    return v;
  };
  const uint64_t key = skip_varint();
  switch (key & 7) {
    case 0:
      skip_varint();
      return i;
    case 1:
      return i + 8;
    case 5:
      return i + 4;
    default: {
      const uint64_t len = skip_varint();
      return i + len;
    }
  }
}

std::vector<std::string_view> SplitFields(std::string_view message) {
  std::vector<std::string_view> fields;
  while (!message.empty()) {
    const size_t n = std::min(FieldSize(message), message.size());
    fields.push_back(message.substr(0, n));
    message.remove_prefix(n);
  }
  return fields;
}

std::string LenField(uint8_t key, std::string_view body) {
  exporters::wire::Buffer framed;
  framed.Reserve(body.size() + 16);
  framed.StringField(key, body);
  return std::string(reinterpret_cast<const char*>(framed.data()), framed.size());
}

// `file` with every TracePacket's body replaced by edit(the packet's fields).
template <typename Edit>
std::string EditPackets(std::string_view file, Edit edit) {
  std::string out;
  exporters::wire::Decoder d(file);
  exporters::wire::Field packet;
  while (d.Next(packet)) {
    out += LenField(0x0A, edit(SplitFields(packet.bytes)));
  }
  EXPECT_TRUE(d.ok());
  return out;
}

// The packet's TrackEvent (field 11) rebuilt from its fields by `edit`; other fields kept.
template <typename EditEvent>
std::string WithEvent(const std::vector<std::string_view>& fields, EditEvent edit) {
  std::string body;
  for (std::string_view f : fields) {
    if (static_cast<uint8_t>(f[0]) != 0x5A) {
      body += f;
      continue;
    }
    exporters::wire::Decoder d(f);
    exporters::wire::Field event;
    EXPECT_TRUE(d.Next(event));
    body += LenField(0x5A, edit(SplitFields(event.bytes)));
  }
  return body;
}

std::string Join(const std::vector<std::string_view>& fields) {
  std::string out;
  for (std::string_view f : fields) out += f;
  return out;
}

// Every event with its track, in the model's vector order (Canonical sorts them).
std::vector<std::string> InOrder(const Trace& t) {
  std::vector<std::string> lines = Canonical(t);
  for (const Slice& s : t.slices()) {
    lines.push_back("S " + TrackText(t, s.track) + " " + std::string(t.str(s.name)) + " " +
                    std::to_string(s.start_ns) + " " + std::to_string(s.dur_ns));
  }
  for (const Instant& i : t.instants()) {
    lines.push_back("I " + TrackText(t, i.track) + " " + std::to_string(i.ts_ns));
  }
  for (const CounterSample& c : t.counters()) {
    lines.push_back("C " + TrackText(t, c.track) + " " + std::to_string(c.ts_ns));
  }
  return lines;
}

// The reader's fast path takes the packets scopetrace's writer emits and hands anything
// else to the general field loop. The same file with its fields moved (timestamp first, as
// the Perfetto SDK writes; the TrackEvent's type last), and with an unknown field that
// sends every packet or every TrackEvent to the general path, reads the same: the same
// events in the same order. Also once out of time order (read again, buffered).
TEST(PerfettoReader, FastPathReadsLikeTheGeneralPath) {
  // The writer interns a name in the packet that first uses it (such packets take the
  // general path): three copies of the sample, so that the later ones take the fast path
  // with every kind of event, flows, correlation ids and annotations.
  Trace sample = MakeSampleTrace();
  const Trace copy = MakeSampleTrace();
  for (int64_t shift : {1'000'000'000, 2'000'000'000}) {
    for (Slice s : copy.slices()) {
      s.start_ns += shift;
      sample.mutable_slices().push_back(std::move(s));
    }
    for (Instant i : copy.instants()) {
      i.ts_ns += shift;
      sample.mutable_instants().push_back(std::move(i));
    }
    for (CounterSample c : copy.counters()) {
      c.ts_ns += shift;
      sample.mutable_counters().push_back(c);
    }
  }
  // Counter values of both encodings: an integer and a double.
  sample.mutable_counters().push_back(CounterSample{copy.counters()[0].track, kBase + 7'777, 3});
  sample.mutable_counters().push_back(CounterSample{copy.counters()[0].track, kBase + 7'778, -2.5});
  sample.SortEvents();
  const std::string path = TempPath("fast_a.pftrace");
  ASSERT_TRUE(sample.Write(path, Format::kPerfetto).ok());
  const std::string original = ReadFileBytes(path);

  const std::string ts_first = EditPackets(original, [](std::vector<std::string_view> fields) {
    std::stable_partition(fields.begin(), fields.end(),
                          [](std::string_view f) { return static_cast<uint8_t>(f[0]) == 0x40; });
    return Join(fields);
  });
  const std::string type_last = EditPackets(original, [](std::vector<std::string_view> fields) {
    return WithEvent(fields, [](std::vector<std::string_view> event) {
      std::stable_partition(event.begin(), event.end(),
                            [](std::string_view f) { return static_cast<uint8_t>(f[0]) != 0x48; });
      return Join(event);
    });
  });
  // Field 1000 (varint 0): unknown to both paths, ignored by the general one.
  const std::string unknown_field("\xC0\x3E\x00", 3);
  const std::string unknown_in_packet = EditPackets(
      original, [&](std::vector<std::string_view> fields) { return Join(fields) + unknown_field; });
  const std::string unknown_in_event =
      EditPackets(original, [&](std::vector<std::string_view> fields) {
        return WithEvent(fields, [&](std::vector<std::string_view> event) {
          return Join(event) + unknown_field;
        });
      });
  ASSERT_NE(ts_first, original);
  ASSERT_NE(type_last, original);

  // A slice back in time on the first slice's track (the writer gives each track its own
  // sequence, whose default track it is), in the general form (a plain name, an absolute
  // BOOTTIME timestamp): every variant is then read a second time with its events buffered.
  uint32_t sequence = 0;
  {
    exporters::wire::Decoder d(original);
    exporters::wire::Field f;
    while (sequence == 0 && d.Next(f)) {
      pb::TracePacket p;
      ASSERT_TRUE(p.ParseFromString(std::string(f.bytes)));
      if (p.track_event().type() == pb::TrackEvent::TYPE_SLICE_BEGIN) {
        sequence = p.trusted_packet_sequence_id();
      }
    }
  }
  ASSERT_NE(sequence, 0u);
  pb::Trace late;
  for (auto [ts, type] : {std::pair{1, pb::TrackEvent::TYPE_SLICE_BEGIN},
                          std::pair{2, pb::TrackEvent::TYPE_SLICE_END}}) {
    auto* p = late.add_packet();
    p->set_trusted_packet_sequence_id(sequence);
    p->set_timestamp_clock_id(6);  // BOOTTIME, the trace clock
    p->set_timestamp(ts);
    p->mutable_track_event()->set_type(type);
    if (type == pb::TrackEvent::TYPE_SLICE_BEGIN) p->mutable_track_event()->set_name("Late");
  }
  const std::string late_bytes = late.SerializeAsString();

  const std::vector<std::string> expected = InOrder(sample);
  std::vector<std::string> expected_late;
  for (const std::string* variant :
       {&original, &ts_first, &type_last, &unknown_in_packet, &unknown_in_event}) {
    SCOPED_TRACE(variant - &original);
    const std::string variant_path = TempPath("fast_b.pftrace");
    WriteFileBytes(variant_path, *variant);
    absl::StatusOr<Trace> t = ReadTrace(variant_path);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(InOrder(*t), expected);
    EXPECT_EQ(t->metadata(), sample.metadata());

    WriteFileBytes(variant_path, *variant + late_bytes);
    absl::StatusOr<Trace> buffered = ReadTrace(variant_path);
    ASSERT_TRUE(buffered.ok()) << buffered.status();
    const Slice* late_slice = FindSlice(*buffered, "Late");
    ASSERT_NE(late_slice, nullptr);
    EXPECT_EQ(late_slice->dur_ns, 1);
    EXPECT_EQ(late_slice->track, FindSlice(*buffered, "ProfilerStep#0")->track);
    EXPECT_EQ(buffered->slices().size(), sample.slices().size() + 1);
    if (variant == &original) expected_late = InOrder(*buffered);
    EXPECT_EQ(InOrder(*buffered), expected_late);
  }
}

// A streamed file: each chunk's events grouped by track, so one track's slices come in
// several stretches between other tracks'. They come out grouped and sorted.
TEST(PerfettoReader, ChunkedFileComesOutGroupedAndSorted) {
  const Trace sample = MakeSampleTrace();
  const std::string path = TempPath("chunked.pftrace");
  Trace all = MakeSampleTrace();
  {
    auto writer = exporters::PerfettoStreamWriter::Open(path, /*zstd=*/false);
    ASSERT_TRUE(writer.ok());
    for (int chunk = 0; chunk < 3; ++chunk) {
      Trace part = MakeSampleTrace();
      const int64_t shift = int64_t{chunk} * 1'000'000'000;
      for (Slice& s : part.mutable_slices()) s.start_ns += shift;
      for (Instant& i : part.mutable_instants()) i.ts_ns += shift;
      for (CounterSample& c : part.mutable_counters()) c.ts_ns += shift;
      ASSERT_TRUE((*writer)->Append(part).ok());
      if (chunk > 0) {
        for (const Slice& s : part.slices()) all.mutable_slices().push_back(s);
        for (const Instant& i : part.instants()) all.mutable_instants().push_back(i);
        for (const CounterSample& c : part.counters()) all.mutable_counters().push_back(c);
      }
    }
    ASSERT_TRUE((*writer)->Finish(sample.metadata()).ok());
  }
  all.SortEvents();
  absl::StatusOr<Trace> t = ReadTrace(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Canonical(*t), Canonical(all));
  ExpectSlicesInModelOrder(*t);
}

TEST(PerfettoReader, GarbageIsAnErrorNamingThePath) {
  const std::string path = TempPath("garbage.pftrace");
  WriteFileBytes(path, "\x01\x02 this is not a trace");
  absl::StatusOr<Trace> t = ReadTrace(path);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr(path));

  WriteFileBytes(path, std::string("\x0A\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 12));
  t = ReadTrace(path);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr(path));

  WriteFileBytes(path, std::string("\x28\xB5\x2F\xFD garbage after the zstd magic", 34));
  t = ReadTrace(path);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr(path));

  EXPECT_FALSE(ReadTrace(TempPath("does-not-exist.pftrace")).ok());
}

// Every cut of the file: an error (nothing readable yet) or the part before the cut with
// truncated = true; never a crash.
TEST(PerfettoReader, CutAtAnyOffsetIsAnErrorOrTruncated) {
  for (Format format : {Format::kPerfetto, Format::kPerfettoZstd}) {
    const std::string path = TempPath("cut.src");
    ASSERT_TRUE(MakeSampleTrace().Write(path, format).ok());
    const std::string bytes = ReadFileBytes(path);
    const std::string cut_path = TempPath("cut.pftrace");
    int truncated = 0;
    // Every offset through the first packets, then a stride (keeps sanitizer runs short).
    for (size_t cut = 1; cut < bytes.size(); cut += cut < 256 ? 1 : 5) {
      WriteFileBytes(cut_path, std::string_view(bytes).substr(0, cut));
      absl::StatusOr<Trace> t = ReadTrace(cut_path);
      if (!t.ok()) {
        EXPECT_THAT(std::string(t.status().message()), HasSubstr(cut_path));
        continue;
      }
      ++truncated;
      EXPECT_TRUE(t->metadata().truncated) << "cut at " << cut;
      EXPECT_THAT(t->metadata().truncation_reason, HasSubstr(cut_path));
    }
    if (format == Format::kPerfetto) EXPECT_GT(truncated, 0);
  }
}

TEST(PerfettoReader, CutMidPacketKeepsEverythingBefore) {
  const Trace original = MakeSampleTrace();
  const std::string path = TempPath("cut_last.pftrace");
  ASSERT_TRUE(original.Write(path, Format::kPerfetto).ok());
  const std::string bytes = ReadFileBytes(path);
  // Drop half of the final (metadata) packet: every event is still there.
  WriteFileBytes(path, std::string_view(bytes).substr(0, bytes.size() - 20));
  absl::StatusOr<Trace> t = ReadTrace(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->metadata().truncated);
  EXPECT_THAT(t->metadata().truncation_reason, HasSubstr("middle of a packet"));
  EXPECT_EQ(Canonical(*t), Canonical(original));
}

TEST(PerfettoReader, UnfinishedWriterIsTruncated) {
  const std::string path = TempPath("unfinished.pftrace");
  {
    auto writer = exporters::PerfettoStreamWriter::Open(path, /*zstd=*/false);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(MakeSampleTrace()).ok());
  }  // destroyed without Finish: as if the process died
  absl::StatusOr<Trace> t = ReadTrace(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->metadata().truncated);
  EXPECT_THAT(t->metadata().truncation_reason, HasSubstr("metadata packet is missing"));
}

TEST(PerfettoReader, CorruptedBytesNeverCrash) {
  for (Format format : {Format::kPerfetto, Format::kPerfettoZstd}) {
    const std::string path = TempPath("corrupt.src");
    ASSERT_TRUE(MakeSampleTrace().Write(path, format).ok());
    const std::string bytes = ReadFileBytes(path);
    const std::string bad_path = TempPath("corrupt.pftrace");
    for (size_t i = 0; i < bytes.size(); i += 3) {
      for (uint8_t flip : {0x01, 0xFF}) {
        std::string bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ flip);
        WriteFileBytes(bad_path, bad);
        absl::StatusOr<Trace> t = ReadTrace(bad_path);
        if (!t.ok()) EXPECT_THAT(std::string(t.status().message()), HasSubstr(bad_path));
      }
    }
  }
}

// A trace of `threads` tracks of `slices_per_thread` flat slices each, after `counters`
// counter samples (written first: the reader's reservation, taken after 4 MiB of file, then
// sees few or no slices and the slice vector grows while the populator maps it).
Trace BigTrace(int threads, int slices_per_thread, int counters) {
  Trace t;
  t.add_process(Process{.pid = 7, .name = "big"});
  const TrackId counter =
      t.add_track(Track{.kind = TrackKind::kCounter, .pid = 7, .name = "queue"});
  for (int i = 0; i < counters; ++i) {
    t.mutable_counters().push_back({counter, 1'000 + int64_t{i} * 10, static_cast<double>(i % 97)});
  }
  const StringId names[3] = {t.intern("forward"), t.intern("attention"), t.intern("matmul")};
  const StringId category = t.intern("cpu_op");
  for (int th = 0; th < threads; ++th) {
    const TrackId track =
        t.add_track(Track{.kind = TrackKind::kThread, .pid = 7, .tid = 100 + th, .name = "worker"});
    for (int i = 0; i < slices_per_thread; ++i) {
      t.mutable_slices().push_back(Slice{.track = track,
                                         .name = names[i % 3],
                                         .category = category,
                                         .start_ns = 5'000 + int64_t{i} * 100 + th,
                                         .dur_ns = 40 + i % 13});
    }
  }
  t.SortEvents();
  return t;
}

// Every byte a PerfettoInput hands out, read `cap` bytes at a time, and the status that
// ended the reading (ok at the end of the stream).
std::pair<std::string, absl::Status> ReadAll(const std::string& path, bool read_ahead, size_t cap) {
  absl::StatusOr<std::unique_ptr<exporters::PerfettoInput>> in =
      exporters::PerfettoInput::Open(path, read_ahead);
  if (!in.ok()) return {"", in.status()};
  EXPECT_EQ((*in)->reading_ahead(), read_ahead && (*in)->compressed());
  std::string bytes;
  std::vector<uint8_t> block(cap);
  double fraction = 0;
  for (;;) {
    absl::StatusOr<size_t> n = (*in)->Read(block.data(), block.size());
    if (!n.ok()) return {bytes, n.status()};
    if (*n == 0) break;
    bytes.append(reinterpret_cast<const char*>(block.data()), *n);
    // What the reader extrapolates its reservations from never goes back.
    EXPECT_GE((*in)->fraction_read(), fraction);
    fraction = (*in)->fraction_read();
  }
  EXPECT_NEAR(fraction, 1.0, 1e-9);
  return {bytes, absl::OkStatus()};
}

// Decompressing on the read-ahead thread hands out the same bytes, the same error after
// the same bytes, and the same end as decompressing in the caller's thread, for reads
// smaller than, equal to and larger than a block, over a stream of many blocks.
TEST(PerfettoInput, ReadAheadGivesWhatReadingInlineGives) {
  const std::string path = TempPath("read_ahead.pftrace.zst");
  ASSERT_TRUE(BigTrace(2, 150'000, 0).Write(path, Format::kPerfettoZstd).ok());
  const std::string whole = ReadFileBytes(path);
  const std::string damaged_path = TempPath("read_ahead_damaged.pftrace.zst");
  std::string damaged = whole;
  for (size_t i = whole.size() / 2; i < whole.size() / 2 + 64; ++i) damaged[i] ^= 0x5A;
  WriteFileBytes(damaged_path, damaged);
  const std::string cut_path = TempPath("read_ahead_cut.pftrace.zst");
  WriteFileBytes(cut_path, std::string_view(whole).substr(0, whole.size() * 2 / 3));

  const std::pair<std::string, absl::Status> reference = ReadAll(path, false, 1 << 20);
  ASSERT_TRUE(reference.second.ok()) << reference.second;
  ASSERT_GT(reference.first.size(), 4 * exporters::PerfettoInput::kReadAheadBlockBytes);
  for (const std::string& file : {path, damaged_path, cut_path}) {
    const std::pair<std::string, absl::Status> inline_read = ReadAll(file, false, 1 << 20);
    if (file != path) {
      EXPECT_TRUE(absl::IsDataLoss(inline_read.second)) << file << ": " << inline_read.second;
      EXPECT_LT(inline_read.first.size(), reference.first.size());
    }
    if (file == cut_path) {
      // (A damaged block may decode to wrong bytes before zstd notices: only a cut is a
      // prefix of the whole.)
      EXPECT_TRUE(inline_read.first == reference.first.substr(0, inline_read.first.size()));
    }
    for (size_t cap :
         {size_t{4097}, exporters::PerfettoInput::kReadAheadBlockBytes, size_t{3} << 20}) {
      const std::pair<std::string, absl::Status> ahead = ReadAll(file, true, cap);
      EXPECT_EQ(ahead.second, inline_read.second) << file << ", cap " << cap;
      EXPECT_EQ(ahead.first.size(), inline_read.first.size()) << file << ", cap " << cap;
      EXPECT_TRUE(ahead.first == inline_read.first) << file << ", cap " << cap;
    }
  }
}

// An input dropped half way (the reader stops at a corrupt packet) stops its thread.
TEST(PerfettoInput, DroppedHalfWayStopsItsThread) {
  const std::string path = TempPath("read_ahead_dropped.pftrace.zst");
  ASSERT_TRUE(BigTrace(1, 200'000, 0).Write(path, Format::kPerfettoZstd).ok());
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::unique_ptr<exporters::PerfettoInput>> in =
        exporters::PerfettoInput::Open(path, /*read_ahead=*/true);
    ASSERT_TRUE(in.ok());
    std::vector<uint8_t> block(1000 + 7919 * i);
    absl::StatusOr<size_t> n = (*in)->Read(block.data(), block.size());
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, block.size());
  }  // each destroyed with blocks queued, or being decompressed
}

// Large reads through the populator: windows of slices (8 MiB, ~105 k slices) mapped on
// its thread while the decoder fills them, the vector reallocating under it when the
// reservation (made after 4 MiB of counters, before any slice) falls short. Everything
// reads back, in both formats, and read twice in one process (a populator per read).
TEST(PerfettoReader, LargeTracesReadBackWhileTheirPagesAreMappedAhead) {
  for (int counters : {0, 400'000}) {
    const Trace original = BigTrace(2, 120'000, counters);
    for (Format format : {Format::kPerfetto, Format::kPerfettoZstd}) {
      const std::string path =
          TempPath(format == Format::kPerfetto ? "big.pftrace" : "big.pftrace.zst");
      ASSERT_TRUE(original.Write(path, format).ok());
      if (counters > 0)
        ASSERT_GT(ReadFileBytes(path).size(), format == Format::kPerfetto ? 4u << 20 : 0u);
      for (int read = 0; read < 2; ++read) {
        absl::StatusOr<Trace> t = ReadTrace(path);
        ASSERT_TRUE(t.ok()) << t.status();
        ASSERT_EQ(t->slices().size(), original.slices().size());
        ASSERT_EQ(t->counters().size(), original.counters().size());
        for (size_t i = 0; i < original.slices().size(); i += 997) {
          EXPECT_EQ(t->slices()[i].start_ns, original.slices()[i].start_ns) << i;
          EXPECT_EQ(t->slices()[i].dur_ns, original.slices()[i].dur_ns) << i;
          EXPECT_EQ(t->str(t->slices()[i].name), original.str(original.slices()[i].name)) << i;
        }
        EXPECT_EQ(t->slices().back().start_ns, original.slices().back().start_ns);
        EXPECT_FALSE(t->metadata().truncated);
      }
    }
  }
}

TEST(PerfettoReader, DeepAnnotationNestingIsBounded) {
  // 20000 nested dict entries, built from the inside out with the wire rules by hand.
  std::string annotation = std::string("\x52\x01x", 3) + std::string("\x20\x01", 2);
  for (int i = 0; i < 20000; ++i) {
    std::string outer = std::string("\x52\x01x", 3);
    outer += '\x5A';
    size_t n = annotation.size();
    while (n >= 0x80) {
      outer += static_cast<char>(n | 0x80);
      n >>= 7;
    }
    outer += static_cast<char>(n);
    annotation = outer + annotation;
  }
  pb::Trace trace;
  auto* p = trace.add_packet();
  p->set_trusted_packet_sequence_id(1);
  p->set_timestamp(100);
  auto* te = p->mutable_track_event();
  te->set_type(pb::TrackEvent::TYPE_INSTANT);
  te->set_name("deep");
  std::string bytes = trace.SerializeAsString();
  // Append the annotation to the track event by re-encoding the packet by hand.
  pb::TrackEvent event = *te;
  std::string event_bytes = event.SerializeAsString() + '\x22';
  size_t n = annotation.size();
  while (n >= 0x80) {
    event_bytes += static_cast<char>(n | 0x80);
    n >>= 7;
  }
  event_bytes += static_cast<char>(n);
  event_bytes += annotation;
  p->clear_track_event();
  std::string packet = p->SerializeAsString() + '\x5A';
  n = event_bytes.size();
  while (n >= 0x80) {
    packet += static_cast<char>(n | 0x80);
    n >>= 7;
  }
  packet += static_cast<char>(n);
  packet += event_bytes;
  std::string file = "\x0A";
  n = packet.size();
  while (n >= 0x80) {
    file += static_cast<char>(n | 0x80);
    n >>= 7;
  }
  file += static_cast<char>(n);
  file += packet;
  const std::string path = TempPath("deep.pftrace");
  WriteFileBytes(path, file);
  absl::StatusOr<Trace> t = ReadTrace(path);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->instants().size(), 1u);
  EXPECT_EQ(t->str(t->instants()[0].name), "deep");
}

}  // namespace
}  // namespace scopetrace
