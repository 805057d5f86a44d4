// `scopetrace diagnose TRACE`: the bottleneck, the numbers behind it, what to try.

#include <string>

#include "fmt/format.h"
#include "scopetrace/analysis.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace scopetrace::cli {
namespace {

// Built from the named thresholds so the help can never disagree with the analysis.
std::string Help() {
  return fmt::format(
      R"(usage: scopetrace diagnose TRACE

Names the bottleneck of the recorded steps, strongest first, each with the numbers that
prove it and what to try:
  host-bound             device idle >= {:.0f} % of the step, median gap between kernels
                         <= {:.1f}x the median host launch cost
  transfer-bound         copies not overlapped with compute >= {:.0f} % of the step
  device-bound           kernels cover >= {:.0f} % of the step (lists the top kernels)
  synchronization waits  host in synchronize calls / blocking copies >= {:.0f} % of the
                         host step time
  copy trap              a blocking copy whose host slice lasts >= {:.0f}x its device copy
                         and >= {} longer: it waited for kernels launched earlier
)",
      100 * kHostBoundMinIdleShare, kHostBoundMaxGapPerLaunchCost, 100 * kTransferBoundMinShare,
      100 * kDeviceBoundMinComputeShare, 100 * kSyncWaitMinShare, kCopyTrapMinHostPerDeviceRatio,
      FormatDuration(kCopyTrapMinExcessNs));
}

}  // namespace

int RunDiagnoseCommand(int argc, char** argv) {
  CommandLine cl;
  std::string error;
  if (!cl.Parse(argc, argv, {}, error)) return Fail("diagnose", error);
  if (cl.help()) {
    fmt::print("{}", Help());
    return kExitOk;
  }
  if (cl.positional().size() != 1) {
    return Fail("diagnose", "expects exactly one TRACE file (see --help)");
  }
  const std::string& path = cl.positional()[0];
  std::optional<Trace> trace = LoadTrace("diagnose", path);
  if (!trace) return kExitBadInput;
  const Diagnosis diagnosis = Diagnose(*trace);
  fmt::print("{}\n", path);
  if (diagnosis.findings.empty()) {
    fmt::print("  {}\n", diagnosis.note);
    return kExitOk;
  }
  for (size_t i = 0; i < diagnosis.findings.size(); ++i) {
    const Finding& f = diagnosis.findings[i];
    fmt::print("\n{}. {}\n   evidence: {}\n   try: {}\n", i + 1, f.title, f.evidence, f.advice);
  }
  return kExitOk;
}

}  // namespace scopetrace::cli
