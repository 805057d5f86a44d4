// The smallest complete use of an installed scopetrace: profile a few steps of host and
// simulated device work and look at the trace handed to on_trace_ready.

#include <scopetrace/scopetrace.h>
#include <scopetrace/sim/device.h>

#include <atomic>
#include <chrono>
#include <cstdio>

int main() {
  using namespace std::chrono_literals;
  scopetrace::sim::Device npu({.name = "npu0"});
  std::atomic<size_t> events{0};
  std::atomic<size_t> device_ops{0};
  scopetrace::Profiler profiler({
      .schedule = scopetrace::Schedule{.warmup = 1, .active = 3, .repeat = 1},
      .on_trace_ready =
          [&](const scopetrace::Trace& trace) {
            events = trace.event_count();
            for (const scopetrace::Slice& slice : trace.slices()) {
              if (slice.op_kind != scopetrace::DeviceOpKind::kNone) ++device_ops;
            }
          },
  });
  profiler.add_device(npu);
  if (absl::Status started = profiler.start(); !started.ok()) {
    std::fprintf(stderr, "consumer: %s\n", started.ToString().c_str());
    return 1;
  }
  for (int step = 0; step < 4; ++step) {
    SCOPETRACE_SCOPE("step", "index", step);
    npu.stream(0).launch("kernel", 100us);
    npu.synchronize();
    profiler.step();
  }
  profiler.stop();
  std::printf("consumer: %zu events, %zu device ops recorded\n", events.load(), device_ops.load());
  return events > 0 && device_ops > 0 ? 0 : 1;
}
