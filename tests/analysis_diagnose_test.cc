// Diagnose: each verdict triggered by a trace made to have it, and nothing else.

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scopetrace/analysis.h"
#include "tests/analysis_trace_builder.h"

namespace scopetrace {
namespace {

using ::testing::HasSubstr;
using testing::TraceBuilder;

std::vector<FindingKind> Kinds(const Diagnosis& d) {
  std::vector<FindingKind> kinds;
  for (const Finding& f : d.findings) kinds.push_back(f.kind);
  return kinds;
}

TEST(DiagnoseTest, HostBoundWhenKernelGapsAreTheLaunchCost) {
  // 50 launches of 20 µs back to back; each 2 µs kernel starts when its launch ends, so
  // kernels are 18 µs apart. Window [0,1002): kernels 100 µs, idle 902 µs.
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  b.Step(0, 0, 1000);
  for (int i = 0; i < 50; ++i) b.Kernel(b.main(), 20 * i, 20, stream, "tiny", 20 * i + 20, 2);
  const Diagnosis d = Diagnose(b.Build());
  ASSERT_THAT(Kinds(d), ::testing::ElementsAre(FindingKind::kHostBound));
  const Finding& f = d.findings[0];
  EXPECT_DOUBLE_EQ(f.share, 902.0 / 1002.0);
  EXPECT_THAT(f.title, HasSubstr("host-bound: sim0 is idle 90.0 %"));
  EXPECT_THAT(f.evidence, HasSubstr("sim0 idle 902.0 µs of 1.00 ms step time (90.0 %)"));
  EXPECT_THAT(f.evidence, HasSubstr("median gap between kernels 18.0 µs vs median host launch "
                                    "cost 20.0 µs; 50.0 launches per step"));
  EXPECT_THAT(f.advice, HasSubstr("graph"));
}

TEST(DiagnoseTest, NotHostBoundWhenGapsAreFarLongerThanLaunches) {
  // Same idle device, but 200 µs between kernels against 2 µs launches: the host is
  // doing something else, which the launch-cost test must not call host-bound.
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  b.Step(0, 0, 1000);
  for (int i = 0; i < 4; ++i) b.Kernel(b.main(), 200 * i, 2, stream, "k", 200 * i + 2, 2);
  EXPECT_TRUE(Diagnose(b.Build()).findings.empty());
}

TEST(DiagnoseTest, TransferBound) {
  // A 600 µs H2D copy, then a 100 µs kernel: 60 % of the 1 ms step is exposed copy.
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  b.Step(0, 0, 1000);
  b.Launch(b.main(), "copy_to_device", 0, 10, stream, DeviceOpKind::kMemcpyH2D, "h2d", 10, 600);
  b.Kernel(b.main(), 10, 10, stream, "k", 610, 100);
  const Diagnosis d = Diagnose(b.Build());
  ASSERT_THAT(Kinds(d), ::testing::ElementsAre(FindingKind::kTransferBound));
  EXPECT_DOUBLE_EQ(d.findings[0].share, 0.6);
  EXPECT_THAT(d.findings[0].evidence,
              HasSubstr("sim0: copies 600.0 µs of 1.00 ms step time, 0 ns of it overlapped "
                        "with kernels, 600.0 µs exposed (60.0 %)"));
}

TEST(DiagnoseTest, DeviceBoundListsTheTopKernels) {
  // Kernels back to back over [20,970) of a 1 ms step: 95 %.
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  b.Step(0, 0, 1000);
  b.Kernel(b.main(), 0, 10, stream, "k_a", 20, 300);
  b.Kernel(b.main(), 10, 10, stream, "k_b", 320, 250);
  b.Kernel(b.main(), 20, 10, stream, "k_c", 570, 400);
  const Diagnosis d = Diagnose(b.Build());
  ASSERT_THAT(Kinds(d), ::testing::ElementsAre(FindingKind::kDeviceBound));
  EXPECT_DOUBLE_EQ(d.findings[0].share, 0.95);
  EXPECT_THAT(d.findings[0].evidence,
              HasSubstr("kernels 950.0 µs of 1.00 ms step time (95.0 %); top kernels: k_c "
                        "400.0 µs (1 calls, 42.1 %); k_a 300.0 µs (1 calls, 31.6 %); k_b"));
}

TEST(DiagnoseTest, SynchronizationWaits) {
  // The host waits 4 ms of its 10 ms step in synchronize for a single 4 ms kernel.
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  b.Step(0, 0, 10000);
  b.Kernel(b.main(), 0, 10, stream, "k", 10, 4000);
  b.Host(b.main(), "synchronize", 10, 4000);
  b.Host(b.main(), "postprocess", 4010, 5990);
  const Diagnosis d = Diagnose(b.Build());
  ASSERT_THAT(Kinds(d), ::testing::ElementsAre(FindingKind::kSyncWaits));
  EXPECT_DOUBLE_EQ(d.findings[0].share, 0.4);
  EXPECT_THAT(d.findings[0].evidence, HasSubstr("4.00 ms of 10.00 ms host step time"));
}

TEST(DiagnoseTest, CopyTrap) {
  // Two kernels run [20,9820); the host calls copy_to_host at 20 and it returns at 10020:
  // 10 ms on the host for a 0.2 ms D2H copy that started only when the kernels ended.
  TraceBuilder b;
  const TrackId stream = b.Stream(0, 0);
  b.Step(0, 0, 12000);
  b.Kernel(b.main(), 0, 10, stream, "k1", 20, 5000);
  b.Kernel(b.main(), 10, 10, stream, "k2", 5020, 4800);
  b.Launch(b.main(), "copy_to_host", 20, 10000, stream, DeviceOpKind::kMemcpyD2H, "d2h", 9820, 200);
  const Diagnosis d = Diagnose(b.Build());
  const Finding* trap = nullptr;
  for (const Finding& f : d.findings) {
    if (f.kind == FindingKind::kCopyTrap) trap = &f;
  }
  ASSERT_NE(trap, nullptr);
  EXPECT_EQ(trap->title,
            "copy trap: 'copy_to_host' took 10.00 ms on the host but its device copy only "
            "200.0 µs");
  EXPECT_THAT(trap->evidence, HasSubstr("it waited 9.80 ms for kernels launched earlier"));
  EXPECT_THAT(trap->evidence, HasSubstr("1 of 1 blocking copies"));
  // The host really waits, and the kernels fill 9.8 of 12 ms: both are said too.
  EXPECT_THAT(Kinds(d),
              ::testing::UnorderedElementsAre(FindingKind::kCopyTrap, FindingKind::kSyncWaits,
                                              FindingKind::kDeviceBound));
}

TEST(DiagnoseTest, NoStepsSaysSo) {
  TraceBuilder b;
  b.Host(b.main(), "forward", 0, 10);
  const Diagnosis d = Diagnose(b.Build());
  EXPECT_TRUE(d.findings.empty());
  EXPECT_THAT(d.note, HasSubstr("no ProfilerStep slices"));
  EXPECT_THAT(Diagnose(Trace()).note, HasSubstr("no ProfilerStep slices"));
}

}  // namespace
}  // namespace scopetrace
