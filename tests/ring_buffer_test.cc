// The per-thread SPSC ring: wrap-around, drop counting, payload records that wrap, the
// reserved close slot, and a producer and a consumer running at once.

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "scopetrace/instrument.h"
#include "scopetrace/internal/ring.h"
#include "src/host_event.h"
#include "src/thread_registry.h"

namespace scopetrace::internal {
namespace {

constexpr Site kSite{"work", "host", SiteKind::kScope};

struct TestRing {
  explicit TestRing(uint64_t capacity)
      : storage(std::make_unique<Record[]>(capacity)), ring(storage.get(), capacity) {}
  std::unique_ptr<Record[]> storage;
  ThreadRing ring;
};

TEST(RingBufferTest, WrapsAroundManyTimesKeepingOrder) {
  TestRing t(64);
  RingDecoder decoder(1);
  std::vector<HostEvent> out;
  uint64_t next = 0;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 50; ++i, ++next) ASSERT_TRUE(t.ring.PushComplete(next, next + 1, &kSite));
    out.clear();
    ASSERT_EQ(decoder.Drain(t.ring, out), 50u);
    for (int i = 0; i < 50; ++i) {
      EXPECT_EQ(out[i].begin, next - 50 + i);
      EXPECT_EQ(out[i].end, next - 50 + i + 1);
      EXPECT_EQ(out[i].site, &kSite);
    }
  }
  EXPECT_EQ(t.ring.dropped(), 0u);
}

TEST(RingBufferTest, FullRingDropsAndCounts) {
  TestRing t(64);
  int accepted = 0;
  for (int i = 0; i < 100; ++i) accepted += t.ring.PushComplete(i, i, &kSite) ? 1 : 0;
  EXPECT_EQ(accepted, 64);
  EXPECT_EQ(t.ring.dropped(), 36u);
  RingDecoder decoder(1);
  std::vector<HostEvent> out;
  EXPECT_EQ(decoder.Drain(t.ring, out), 64u);
  EXPECT_EQ(out.back().begin, 63u);                    // the first 64 were kept, the rest dropped
  EXPECT_TRUE(t.ring.PushComplete(100, 101, &kSite));  // room again after the drain
}

TEST(RingBufferTest, PayloadThatWrapsReadsBackIntact) {
  TestRing t(8);
  RingDecoder decoder(1);
  std::vector<HostEvent> out;
  // Move the head near the end so the payload straddles the wrap.
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(t.ring.PushComplete(i, i, &kSite));
  ASSERT_EQ(decoder.Drain(t.ring, out), 6u);
  const std::string name = "a dynamic name of forty-odd bytes, wrapping";
  const std::string value = "v";
  const size_t bytes = 1 + 4 + name.size() + 1 + 8 + 4 + value.size();
  static constexpr Site kDynamic{nullptr, "host", SiteKind::kDynamicScope};
  ASSERT_TRUE(t.ring.BeginWithPayload(kTagOpen, 10, &kDynamic, bytes));
  WriteName(&t.ring, name);
  WriteArg(&t.ring, "key", value);
  t.ring.FinishWithPayload();
  t.ring.PushClose(20);
  out.clear();
  ASSERT_EQ(decoder.Drain(t.ring, out), 1u);
  EXPECT_EQ(out[0].dynamic_name, name);
  ASSERT_EQ(out[0].args.size(), 1u);
  EXPECT_STREQ(out[0].args[0].first, "key");
  EXPECT_EQ(std::get<std::string>(out[0].args[0].second), value);
  EXPECT_EQ(out[0].begin, 10u);
  EXPECT_EQ(out[0].end, 20u);
}

// A streamed capture drains a thread that wrote more than a chunk since the last round a
// chunk at a time (Collector::DrainThread): a drain stops after `max_events` events, at a
// record boundary (a multi-slot payload record is consumed whole or not at all), and the
// next drain goes on from there.
TEST(RingBufferTest, DrainStopsAfterMaxEventsAtARecordBoundary) {
  TestRing t(64);
  struct Counter {
    std::vector<uint64_t> begins;
    void Complete(const Site*, uint64_t begin, uint64_t) { begins.push_back(begin); }
    void Event(HostEvent& event) { begins.push_back(event.begin); }
  } seen;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(t.ring.PushComplete(i, i + 1, &kSite));
  static constexpr Site kDynamic{nullptr, "host", SiteKind::kDynamicInstant};
  const std::string name = "an instant named at length, three slots of payload";
  ASSERT_TRUE(t.ring.BeginWithPayload(kTagInstant, 3, &kDynamic, 1 + 4 + name.size()));
  WriteName(&t.ring, name);
  t.ring.FinishWithPayload();
  for (int i = 4; i < 8; ++i) ASSERT_TRUE(t.ring.PushComplete(i, i + 1, &kSite));
  const uint64_t head = t.ring.AcquireHead();
  ASSERT_EQ(head, 3u + 4u + 4u);  // the instant took four slots
  RingDecoder decoder(1);
  EXPECT_EQ(decoder.DrainUpTo(t.ring, head, seen, 2), 2u);
  EXPECT_EQ(t.ring.tail(), 2u);
  EXPECT_EQ(decoder.DrainUpTo(t.ring, head, seen, 2), 2u);  // a complete and the instant
  EXPECT_EQ(t.ring.tail(), 7u);
  EXPECT_EQ(decoder.DrainUpTo(t.ring, head, seen, 100), 4u);
  EXPECT_EQ(t.ring.tail(), head);
  EXPECT_EQ(decoder.DrainUpTo(t.ring, head, seen, 100), 0u);
  EXPECT_EQ(seen.begins, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(RingBufferTest, OpenScopeAlwaysHasRoomForItsClose) {
  TestRing t(16);
  // Each open takes 2 slots (record + 1 payload slot) and reserves 1 for its close.
  static constexpr Site kArgs{"args", "host", SiteKind::kScope};
  int opened = 0;
  while (t.ring.BeginWithPayload(kTagOpen, opened, &kArgs, 17)) {
    WriteArg(&t.ring, "k", int64_t{opened});
    t.ring.FinishWithPayload();
    ++opened;
  }
  EXPECT_EQ(opened, 5);  // 5 × (2 + 1 reserved) = 15 ≤ 16; a 6th would not fit
  // 10 slots used and 5 reserved leave one free slot: one complete fits, then none, as
  // the reserved slots are for the closes only.
  EXPECT_TRUE(t.ring.PushComplete(0, 0, &kSite));
  EXPECT_FALSE(t.ring.PushComplete(0, 0, &kSite));
  for (int i = opened - 1; i >= 0; --i) t.ring.PushClose(100 + i);
  RingDecoder decoder(1);
  std::vector<HostEvent> out;
  ASSERT_EQ(decoder.Drain(t.ring, out), 6u);
  out.erase(out.begin());        // the complete record
  for (int i = 0; i < 5; ++i) {  // innermost closes first
    EXPECT_EQ(out[i].begin, static_cast<uint64_t>(4 - i));
    EXPECT_EQ(std::get<int64_t>(out[i].args[0].second), 4 - i);
  }
}

TEST(RingBufferTest, ConcurrentProducerAndConsumerLoseNothingUncounted) {
  TestRing t(1024);
  constexpr uint64_t kEvents = 2'000'000;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (uint64_t i = 0; i < kEvents; ++i) t.ring.PushComplete(i, i + 1, &kSite);
    done.store(true, std::memory_order_release);
  });
  RingDecoder decoder(1);
  std::vector<HostEvent> out;
  uint64_t seen = 0;
  uint64_t last = 0;
  bool ordered = true;
  for (;;) {
    const bool finished = done.load(std::memory_order_acquire);
    out.clear();
    decoder.Drain(t.ring, out);
    for (const HostEvent& event : out) {
      if (seen > 0 && event.begin <= last) ordered = false;
      if (event.end != event.begin + 1) ordered = false;
      last = event.begin;
      ++seen;
    }
    if (finished && t.ring.AcquireHead() == t.ring.tail()) break;
  }
  producer.join();
  EXPECT_TRUE(ordered);
  EXPECT_EQ(seen + t.ring.dropped(), kEvents);
  EXPECT_GT(seen, 0u);
}

// Whether the page holding `byte` of the ring is resident (mapped), by mincore(2).
bool Resident(const ThreadState& state, size_t byte) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto address = reinterpret_cast<uintptr_t>(state.storage.get()) + byte;
  unsigned char resident = 0;
  EXPECT_EQ(mincore(reinterpret_cast<void*>(address & ~(page - 1)), 1, &resident), 0);
  return (resident & 1) != 0;
}

#if defined(MADV_POPULATE_WRITE)
// A thread's first lap through its ring would fault a page per ~170 records in the hot
// path; the registry maps a first window and the collector keeps mapping ahead.
TEST(RingBufferTest, PagesAreMappedAheadOfTheProducer) {
  if (madvise(nullptr, 0, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
    GTEST_SKIP() << "kernel without MADV_POPULATE_WRITE (before 5.14)";
  }
  constexpr uint64_t kCapacity = uint64_t{1} << 18;  // 6 MiB of records
  constexpr size_t kKiB = 1024;
  ThreadState state(1, kCapacity);
  // Registration maps the first 128 KiB, nothing far beyond.
  EXPECT_TRUE(Resident(state, 0));
  EXPECT_TRUE(Resident(state, 127 * kKiB));
  EXPECT_FALSE(Resident(state, 1024 * kKiB));
  // The thread wrote 10 000 records (234 KiB) since: four times that is mapped past them.
  state.MapRingAhead(10'000);
  const size_t head_bytes = 10'000 * sizeof(Record);
  EXPECT_TRUE(Resident(state, head_bytes + 4 * head_bytes - 8 * kKiB));
  EXPECT_FALSE(Resident(state, head_bytes + 4 * head_bytes + 8 * kKiB));
  // A burst of 100 000 more: the window is capped at a quarter of the ring (1.5 MiB).
  state.MapRingAhead(110'000);
  const size_t quarter = kCapacity * sizeof(Record) / 4;
  EXPECT_TRUE(Resident(state, 110'000 * sizeof(Record) + quarter - 8 * kKiB));
  EXPECT_FALSE(Resident(state, 110'000 * sizeof(Record) + quarter + 8 * kKiB));
  // Near the end of the first lap the rest is mapped, the last page included.
  state.MapRingAhead(kCapacity - 1000);
  EXPECT_TRUE(Resident(state, kCapacity * sizeof(Record) - 1));
}

// Mapping never changes a byte: records the producer already wrote (past the first
// window, so it faulted those pages in itself) read back intact after the collector maps
// over them.
TEST(RingBufferTest, MappingAheadKeepsWrittenRecords) {
  ThreadState state(1, uint64_t{1} << 18);
  constexpr uint64_t kWritten = 20'000;  // 469 KiB
  for (uint64_t i = 0; i < kWritten; ++i) {
    ASSERT_TRUE(state.ring.PushComplete(i, i + 7, &kSite));
  }
  state.MapRingAhead(kWritten);
  for (uint64_t i = 0; i < kWritten; ++i) {
    ASSERT_EQ(state.ring.At(i).a, i);
    ASSERT_EQ(state.ring.At(i).b, i + 7);
  }
}
#endif

}  // namespace
}  // namespace scopetrace::internal
