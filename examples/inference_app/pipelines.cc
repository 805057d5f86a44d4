#include "pipelines.h"

#include <future>
#include <memory>

#include "launch_queue.h"

namespace demo {

void HostWork(std::chrono::nanoseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
  }
}

void RunNaive(const Network& network, int batch, const HostCosts& costs, int steps,
              scopetrace::sim::Device& npu, scopetrace::Profiler& profiler) {
  scopetrace::sim::Stream& stream = npu.stream(0);
  for (int step = 0; step < steps; ++step) {
    {
      SCOPETRACE_SCOPE("preprocess");
      HostWork(costs.preprocess);
    }
    stream.copy_to_device(network.input_bytes);
    {
      SCOPETRACE_SCOPE("forward", "batch", batch);
      for (const Op& op : network.ops) {
        // One host scope per op: the summary then shows, per op kind, how much of the
        // host's time is the framework and how much the launch inside it.
        SCOPETRACE_SCOPE_DYNAMIC(op.kind);
        HostWork(costs.dispatch);
        stream.launch(op.kind, op.device_time);
      }
    }
    // Blocks until the stream has run every op before it: its host slice is mostly
    // waiting for topk, not copying (the "copy trap" the diagnosis points out).
    stream.copy_to_host(network.output_bytes);
    {
      SCOPETRACE_SCOPE("postprocess");
      HostWork(costs.postprocess);
    }
    npu.synchronize();  // "to be safe": the per-step synchronization
    profiler.step();
  }
}

void RunTuned(const Network& network, int batch, const HostCosts& costs, int steps,
              scopetrace::sim::Device& npu, scopetrace::Profiler& profiler) {
  scopetrace::sim::Stream& stream = npu.stream(0);
  LaunchQueue queue("launch queue");
  std::future<void> previous_output;
  for (int step = 0; step < steps; ++step) {
    {
      SCOPETRACE_SCOPE("preprocess");
      HostWork(costs.preprocess);
    }
    queue.Submit([&] { stream.copy_to_device(network.input_bytes); });
    {
      SCOPETRACE_SCOPE("forward", "batch", batch);
      for (const Op& op : network.ops) {
        SCOPETRACE_SCOPE_DYNAMIC(op.kind);
        HostWork(costs.dispatch);
        // The launch (and its cost) happens on the queue thread; the main thread goes
        // on with the next op's dispatch work in the meantime.
        queue.Submit([&stream, &op] { stream.launch(op.kind, op.device_time); });
      }
    }
    // The blocking copy runs on the queue thread too; the output arrives as a future.
    auto output = std::make_shared<std::promise<void>>();
    std::future<void> this_output = output->get_future();
    queue.Submit([&, output] {
      stream.copy_to_host(network.output_bytes);
      output->set_value();
    });
    // No per-step synchronization: post-process the previous step's output while this
    // step's work is still queued, so the device is fed across step boundaries.
    if (previous_output.valid()) {
      {
        SCOPETRACE_SCOPE("wait_output");
        previous_output.wait();
      }
      SCOPETRACE_SCOPE("postprocess");
      HostWork(costs.postprocess);
    }
    previous_output = std::move(this_output);
    profiler.step();
  }
  if (previous_output.valid()) {
    previous_output.wait();
    HostWork(costs.postprocess);
  }
}

}  // namespace demo
