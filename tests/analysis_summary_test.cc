// SummarizeOperators: calls, totals, self time with nesting, exact percentiles, percent
// of the table, grouping by args, top N, unsorted and empty input.

#include <algorithm>
#include <random>

#include "gtest/gtest.h"
#include "scopetrace/analysis.h"
#include "tests/analysis_trace_builder.h"

namespace scopetrace {
namespace {

using testing::kUs;
using testing::TraceBuilder;

const OperatorRow* Find(const std::vector<OperatorRow>& rows, std::string_view name,
                        std::string_view args = "") {
  for (const OperatorRow& row : rows) {
    if (row.name == name && row.args == args) return &row;
  }
  return nullptr;
}

// main: A [0,100) { B [10,50) { C [20,30) }  D [60,80) }, then D [200,230);
// worker thread: E [0,50) { C [10,15) }. Times in µs.
Trace NestedTrace(bool sort = true) {
  TraceBuilder b;
  b.Step(0, 0, 300);
  b.Host(b.main(), "A", 0, 100);
  b.Host(b.main(), "B", 10, 40);
  b.Host(b.main(), "C", 20, 10);
  b.Host(b.main(), "D", 60, 20);
  b.Host(b.main(), "D", 200, 30);
  const TrackId worker = b.Thread(2, "worker");
  b.Host(worker, "E", 0, 50);
  b.Host(worker, "C", 10, 5);
  return b.Build(sort);
}

TEST(SummaryTest, SelfTimeSubtractsChildrenOnTheSameTrackOnly) {
  const OperatorSummary s = SummarizeOperators(NestedTrace());
  ASSERT_EQ(s.host.size(), 5u);  // the ProfilerStep slice is not an operator
  EXPECT_TRUE(s.device.empty());
  const OperatorRow* a = Find(s.host, "A");
  const OperatorRow* b = Find(s.host, "B");
  const OperatorRow* c = Find(s.host, "C");
  const OperatorRow* d = Find(s.host, "D");
  const OperatorRow* e = Find(s.host, "E");
  ASSERT_TRUE(a && b && c && d && e);
  EXPECT_EQ(a->total_ns, 100 * kUs);
  EXPECT_EQ(a->self_ns, 40 * kUs);  // 100 − B 40 − D 20 (C is B's child, not A's)
  EXPECT_EQ(b->self_ns, 30 * kUs);  // 40 − C 10
  EXPECT_EQ(c->calls, 2);
  EXPECT_EQ(c->total_ns, 15 * kUs);
  EXPECT_EQ(c->self_ns, 15 * kUs);
  EXPECT_EQ(d->calls, 2);
  EXPECT_EQ(d->total_ns, 50 * kUs);
  EXPECT_EQ(d->self_ns, 50 * kUs);
  EXPECT_EQ(d->min_ns, 20 * kUs);
  EXPECT_EQ(d->max_ns, 30 * kUs);
  EXPECT_EQ(d->p50_ns, 20 * kUs);
  EXPECT_EQ(d->p99_ns, 30 * kUs);
  EXPECT_DOUBLE_EQ(d->avg_ns, 25.0 * kUs);
  EXPECT_EQ(e->self_ns, 45 * kUs);
  // Busy host time counted once: 100 (A) + 30 (D) + 50 (E) = 180 µs = sum of self.
  EXPECT_EQ(s.host_self_ns, 180 * kUs);
  EXPECT_DOUBLE_EQ(a->percent, 100.0 * 100 / 180);
  EXPECT_DOUBLE_EQ(c->percent, 100.0 * 15 / 180);
  // Sorted by total: A 100, D 50, E 50 (tie by name), B 40, C 15.
  EXPECT_EQ(s.host[0].name, "A");
  EXPECT_EQ(s.host[1].name, "D");
  EXPECT_EQ(s.host[2].name, "E");
  EXPECT_EQ(s.host[3].name, "B");
  EXPECT_EQ(s.host[4].name, "C");
}

TEST(SummaryTest, UnsortedInputGivesTheSameSummary) {
  Trace trace = NestedTrace(/*sort=*/false);
  std::mt19937 rng(7);
  std::shuffle(trace.mutable_slices().begin(), trace.mutable_slices().end(), rng);
  const OperatorSummary shuffled = SummarizeOperators(trace);
  const OperatorSummary sorted = SummarizeOperators(NestedTrace());
  ASSERT_EQ(shuffled.host.size(), sorted.host.size());
  for (size_t i = 0; i < sorted.host.size(); ++i) {
    EXPECT_EQ(shuffled.host[i].name, sorted.host[i].name);
    EXPECT_EQ(shuffled.host[i].self_ns, sorted.host[i].self_ns);
    EXPECT_EQ(shuffled.host[i].p50_ns, sorted.host[i].p50_ns);
  }
}

TEST(SummaryTest, DeviceTableAndExactPercentiles) {
  TraceBuilder b;
  const TrackId s0 = b.Stream(0, 0);
  const TrackId s1 = b.Stream(0, 1);
  // 100 kernels "gemm" of 1..100 µs on stream 0, one copy of 50 µs on stream 1.
  double t = 0;
  for (int i = 1; i <= 100; ++i) {
    b.Kernel(b.main(), t, 1, s0, "gemm", t + 1, i);
    t += i + 1;
  }
  b.DeviceOp(s1, DeviceOpKind::kMemcpyH2D, "h2d", 0, 50);
  const OperatorSummary s = SummarizeOperators(b.Build());
  ASSERT_EQ(s.device.size(), 2u);
  const OperatorRow& gemm = s.device[0];
  EXPECT_EQ(gemm.name, "gemm");
  EXPECT_TRUE(gemm.device);
  EXPECT_EQ(gemm.op_kind, DeviceOpKind::kKernel);
  EXPECT_EQ(gemm.calls, 100);
  EXPECT_EQ(gemm.total_ns, 5050 * kUs);
  EXPECT_EQ(gemm.min_ns, 1 * kUs);
  EXPECT_EQ(gemm.p50_ns, 50 * kUs);
  EXPECT_EQ(gemm.p99_ns, 99 * kUs);
  EXPECT_EQ(gemm.max_ns, 100 * kUs);
  EXPECT_EQ(s.device_self_ns, 5100 * kUs);
  EXPECT_DOUBLE_EQ(gemm.percent, 100.0 * 5050 / 5100);
  EXPECT_EQ(s.device[1].op_kind, DeviceOpKind::kMemcpyH2D);
  // The launches are host rows.
  ASSERT_EQ(s.host.size(), 1u);
  EXPECT_EQ(s.host[0].name, "launch gemm");
  EXPECT_EQ(s.host[0].calls, 100);
}

TEST(SummaryTest, GroupByArgsAndTop) {
  TraceBuilder b;
  Trace& trace = b.trace();
  const StringId shape = trace.intern("shape");
  b.Host(b.main(), "conv2d", 0, 10).args = {{shape, std::string("1x3")}};
  b.Host(b.main(), "conv2d", 20, 20).args = {{shape, std::string("1x3")}};
  b.Host(b.main(), "conv2d", 50, 40).args = {{shape, std::string("1x8")}};
  b.Host(b.main(), "relu", 100, 5);
  const Trace built = b.Build();

  const OperatorSummary by_name = SummarizeOperators(built);
  ASSERT_EQ(by_name.host.size(), 2u);
  EXPECT_EQ(by_name.host[0].name, "conv2d");
  EXPECT_EQ(by_name.host[0].calls, 3);
  EXPECT_EQ(by_name.host[0].args, "");

  const OperatorSummary by_args = SummarizeOperators(built, {.group_by_args = true});
  ASSERT_EQ(by_args.host.size(), 3u);
  EXPECT_EQ(by_args.host[0].args, "shape=1x8");
  EXPECT_EQ(by_args.host[0].total_ns, 40 * kUs);
  EXPECT_EQ(by_args.host[1].args, "shape=1x3");
  EXPECT_EQ(by_args.host[1].calls, 2);
  EXPECT_EQ(by_args.host[1].total_ns, 30 * kUs);
  EXPECT_EQ(by_args.host[2].name, "relu");

  const OperatorSummary top = SummarizeOperators(built, {.top = 1, .group_by_args = true});
  ASSERT_EQ(top.host.size(), 1u);
  EXPECT_EQ(top.host[0].args, "shape=1x8");
  EXPECT_EQ(top.host_self_ns, 75 * kUs);  // the share base is computed before `top`
}

TEST(SummaryTest, EmptyTrace) {
  const OperatorSummary s = SummarizeOperators(Trace());
  EXPECT_TRUE(s.host.empty());
  EXPECT_TRUE(s.device.empty());
  EXPECT_EQ(s.host_self_ns, 0);
}

}  // namespace
}  // namespace scopetrace
