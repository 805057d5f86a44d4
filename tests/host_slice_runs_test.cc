// HostSliceRuns: the collector's compact per-track slice records, turned into the trace's
// Slices by the export thread's merge. Checked field by field: the merge is where the
// records' payloads (args, correlation id, flow) rejoin their slices, and where each
// track's run and the device slices already in the trace end up in (track, time) order.

#include "src/host_slice_runs.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/event_storage_pool.h"

namespace scopetrace::internal {
namespace {

struct Expected {
  TrackId track;
  int64_t start_ns;
  int64_t dur_ns;
  const char* name;
};

void ExpectSlices(const Trace& trace, const std::vector<Expected>& expected) {
  ASSERT_EQ(trace.slices().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Slice& s = trace.slices()[i];
    EXPECT_EQ(s.track, expected[i].track) << i;
    EXPECT_EQ(s.start_ns, expected[i].start_ns) << i;
    EXPECT_EQ(s.dur_ns, expected[i].dur_ns) << i;
    EXPECT_EQ(trace.str(s.name), expected[i].name) << i;
  }
}

TEST(HostSliceRunsTest, MergeOrdersRunsAndDeviceSlicesAndRejoinsPayloads) {
  Trace trace;
  const StringId host = trace.intern("host");
  const StringId kernel_category = trace.intern("kernel");
  const StringId key = trace.intern("batch");
  // Device slices already in the trace, on a later track, out of order.
  trace.mutable_slices().push_back(Slice{.track = 3,
                                         .name = trace.intern("gemm"),
                                         .category = kernel_category,
                                         .op_kind = DeviceOpKind::kKernel,
                                         .start_ns = 500,
                                         .dur_ns = 10,
                                         .flow_in = 7});
  trace.mutable_slices().push_back(Slice{.track = 3,
                                         .name = trace.intern("relu"),
                                         .category = kernel_category,
                                         .op_kind = DeviceOpKind::kKernel,
                                         .start_ns = 100,
                                         .dur_ns = 5});

  HostSliceRuns runs;
  // Track 1: children end (and arrive) before their parent, as scopes do.
  runs.Add(1, trace.intern("child a"), host, 10, 20);
  HostSlicePayload& launch = runs.AddWithPayload(1, trace.intern("launch"), host, 30, 40);
  launch.correlation_id = 7;
  launch.flow_out = 7;
  launch.args.push_back(Arg{.key = key, .value = int64_t{8}});
  runs.Add(1, trace.intern("parent"), host, 0, 50);
  // Track 0, in order; a negative duration becomes 0.
  runs.Add(0, trace.intern("first"), host, 5, 6);
  runs.Add(0, trace.intern("backwards"), host, 9, 7);
  EXPECT_EQ(runs.size(), 5u);

  runs.MergeInto(trace);
  EXPECT_EQ(runs.size(), 0u);
  ExpectSlices(trace, {{0, 5, 1, "first"},
                       {0, 9, 0, "backwards"},
                       {1, 0, 50, "parent"},
                       {1, 10, 10, "child a"},
                       {1, 30, 10, "launch"},
                       {3, 100, 5, "relu"},
                       {3, 500, 10, "gemm"}});
  const std::vector<Slice>& slices = trace.slices();
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(slices[i].op_kind, DeviceOpKind::kNone) << i;
    EXPECT_EQ(slices[i].category, host) << i;
    EXPECT_EQ(slices[i].flow_in, 0u) << i;
  }
  const Slice& merged_launch = slices[4];
  EXPECT_EQ(merged_launch.correlation_id, 7u);
  EXPECT_EQ(merged_launch.flow_out, 7u);
  ASSERT_EQ(merged_launch.args.size(), 1u);
  EXPECT_EQ(merged_launch.args[0].key, key);
  EXPECT_EQ(std::get<int64_t>(merged_launch.args[0].value), 8);
  for (size_t i : {0, 1, 2, 3}) {
    EXPECT_EQ(slices[i].correlation_id, 0u) << i;
    EXPECT_EQ(slices[i].flow_out, 0u) << i;
    EXPECT_TRUE(slices[i].args.empty()) << i;
  }
  EXPECT_EQ(slices[6].flow_in, 7u);
  EXPECT_EQ(slices[6].op_kind, DeviceOpKind::kKernel);

  // The runs are reusable (the streaming path merges a cycle chunk by chunk): payload
  // indices start over, and the new slices follow in their own order.
  Trace next;
  HostSlicePayload& args_only = runs.AddWithPayload(2, next.intern("step"), host, 70, 90);
  args_only.args.push_back(Arg{.key = next.intern("n"), .value = std::string("x")});
  runs.Add(2, next.intern("early"), host, 60, 61);
  runs.MergeInto(next);
  ExpectSlices(next, {{2, 60, 1, "early"}, {2, 70, 20, "step"}});
  ASSERT_EQ(next.slices()[1].args.size(), 1u);
  EXPECT_EQ(std::get<std::string>(next.slices()[1].args[0].value), "x");
  EXPECT_EQ(next.slices()[1].correlation_id, 0u);
}

TEST(HostSliceRunsTest, RunsGoBackToThePoolWithTheirCapacity) {
  EventStoragePool pool;
  {
    HostSliceRuns runs(&pool);
    for (int i = 0; i < 1000; ++i) runs.Add(0, 1, 1, i, i + 1);
    Trace trace;
    runs.MergeInto(trace);
    EXPECT_EQ(trace.slices().size(), 1000u);
  }
  const std::vector<HostSliceRecord> recycled = pool.TakeRun();
  EXPECT_TRUE(recycled.empty());
  EXPECT_GE(recycled.capacity(), 1000u);
  EXPECT_EQ(pool.TakeRun().capacity(), 0u);  // only the one run was kept
}

TEST(HostSliceRunsTest, ManyUnsortedRecordsSortLikeAStableSort) {
  // A deep nesting arriving in post-order (every parent after its children) on one track,
  // with ties on start time: the enclosing (longer) slice first, equal ones in arrival order.
  Trace trace;
  HostSliceRuns runs;
  std::vector<Expected> expected;
  for (int depth = 0; depth < 64; ++depth) {
    // Slice `depth` spans [depth, 200 - depth): the deepest arrives first.
    const int d = 63 - depth;
    runs.Add(0, trace.intern("s" + std::to_string(d)), 1, d, 200 - d);
  }
  runs.Add(0, trace.intern("tie"), 1, 0, 200);  // same as s0: after it (arrival order)
  for (int d = 0; d < 64; ++d) {
    expected.push_back({0, d, 200 - 2 * d, d == 0 ? "s0" : nullptr});
    if (d == 0) expected.push_back({0, 0, 200, "tie"});
  }
  runs.MergeInto(trace);
  ASSERT_EQ(trace.slices().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(trace.slices()[i].start_ns, expected[i].start_ns) << i;
    EXPECT_EQ(trace.slices()[i].dur_ns, expected[i].dur_ns) << i;
    if (expected[i].name != nullptr) EXPECT_EQ(trace.str(trace.slices()[i].name), expected[i].name);
  }
  EXPECT_EQ(trace.str(trace.slices()[2].name), "s1");
}

// A streamed chunk's runs change hands (StreamingPipeline::Submit): the collector's full
// runs go to the encoding thread, which merges them; the collector goes on with the
// emptied ones, and what it adds next is not mixed with what it handed over.
TEST(HostSliceRunsTest, SwappedRunsMergeOnTheOtherSideAndRefill) {
  Trace trace;
  const StringId host = trace.intern("host");
  HostSliceRuns collector, encoder;
  collector.Add(0, trace.intern("inner"), host, 10, 20);
  collector.Add(0, trace.intern("outer"), host, 0, 100);
  HostSlicePayload& payload = collector.AddWithPayload(2, trace.intern("launch"), host, 5, 9);
  payload.correlation_id = 42;
  collector.swap(encoder);
  EXPECT_EQ(collector.size(), 0u);
  EXPECT_EQ(encoder.size(), 3u);
  collector.Add(2, trace.intern("next"), host, 200, 210);  // the next chunk's

  Trace chunk;
  for (size_t id = 1; id < trace.strings().size(); ++id) chunk.intern(trace.str(id));
  encoder.MergeInto(chunk);
  ExpectSlices(chunk, {{0, 0, 100, "outer"}, {0, 10, 10, "inner"}, {2, 5, 4, "launch"}});
  EXPECT_EQ(chunk.slices()[2].correlation_id, 42u);
  EXPECT_EQ(encoder.size(), 0u);

  collector.swap(encoder);  // the emptied runs come back
  EXPECT_EQ(collector.size(), 0u);
  Trace next;
  for (size_t id = 1; id < trace.strings().size(); ++id) next.intern(trace.str(id));
  encoder.MergeInto(next);
  ExpectSlices(next, {{2, 200, 10, "next"}});
}

}  // namespace
}  // namespace scopetrace::internal
