// The Perfetto reader: files from other writers (several sequences, interning, incremental
// clocks, parent_uuid), and damaged input: cut, corrupted, garbage, hostile nesting.

#include <string>
#include <tuple>
#include <vector>

#include "exporters/perfetto_stream_writer.h"
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
    auto* p = trace.add_packet();
    p->set_trusted_packet_sequence_id(1);
    p->set_timestamp(ts);
    auto* e = p->mutable_track_event();
    e->set_track_uuid(uuid);
    e->set_type(type);
    if (name != nullptr) e->set_name(name);
    return e;
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
    const std::vector<Slice>& read = t->slices();
    for (size_t i = 1; i < read.size(); ++i) {
      ASSERT_LE(std::tuple(read[i - 1].track, read[i - 1].start_ns, -read[i - 1].dur_ns),
                std::tuple(read[i].track, read[i].start_ns, -read[i].dur_ns))
          << "at " << i;
    }
  }
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
