// The two ways the demo runs the same network: naive (what a first port to an
// accelerator looks like) and tuned (the same work, launched the way runtimes do it).

#ifndef SCOPETRACE_EXAMPLES_INFERENCE_APP_PIPELINES_H_
#define SCOPETRACE_EXAMPLES_INFERENCE_APP_PIPELINES_H_

#include <scopetrace/scopetrace.h>
#include <scopetrace/sim/device.h>

#include <chrono>

#include "model.h"

namespace demo {

// Host CPU time the application spends around the device work. The demo busy-waits for
// these durations, standing in for real image decoding and framework code.
struct HostCosts {
  std::chrono::nanoseconds preprocess = std::chrono::microseconds(200);  // decode, resize
  // Per op: what an eager framework does before each launch (checks, shape inference,
  // output allocation).
  std::chrono::nanoseconds dispatch = std::chrono::microseconds(12);
  std::chrono::nanoseconds postprocess = std::chrono::microseconds(50);  // labels, response
};

// Spins for `duration`: CPU work, not sleep, like the code it stands in for.
void HostWork(std::chrono::nanoseconds duration);

// Runs `steps` inference steps, calling profiler.step() after each, on stream 0 of
// `npu`. The profiler must be started.
//
// Naive: the main thread dispatches and launches each op itself, then reads the output
// back and synchronizes the device before it starts the next step.
void RunNaive(const Network& network, int batch, const HostCosts& costs, int steps,
              scopetrace::sim::Device& npu, scopetrace::Profiler& profiler);

// Tuned: launches go through a launch queue thread, and the output of step N is only
// waited for after step N + 1 has been queued, so the host never waits for the device
// inside a step.
void RunTuned(const Network& network, int batch, const HostCosts& costs, int steps,
              scopetrace::sim::Device& npu, scopetrace::Profiler& profiler);

}  // namespace demo

#endif  // SCOPETRACE_EXAMPLES_INFERENCE_APP_PIPELINES_H_
