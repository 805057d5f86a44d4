// A MobileNetV2-like network as a list of device operations, with a cost model that says
// how long each one runs on the simulated NPU. Nothing is computed: the demo is about
// where time goes, so each op only needs a name and a duration.

#ifndef SCOPETRACE_EXAMPLES_INFERENCE_APP_MODEL_H_
#define SCOPETRACE_EXAMPLES_INFERENCE_APP_MODEL_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace demo {

// The assumed accelerator: a small edge NPU. A kernel takes a fixed dispatch time on the
// device plus the longer of its compute and its memory traffic (a roofline), so small
// ops at batch 1 cost about the same whatever they compute.
struct NpuModel {
  double peak_flops = 4e12;           // fp16, achievable
  double memory_bytes_per_s = 150e9;  // device memory bandwidth
  std::chrono::nanoseconds kernel_overhead = std::chrono::microseconds(7);
};

struct Op {
  std::string kind;  // the kernel name: "conv2d", "batch_norm", ... (what summaries group by)
  std::chrono::nanoseconds device_time;
};

struct Network {
  std::vector<Op> ops;
  uint64_t input_bytes = 0;   // fp32 NCHW image batch, copied host to device
  uint64_t output_bytes = 0;  // top-5 indices and scores per image, copied back
};

// MobileNetV2 (width 1.0, 224x224) with batch norm and ReLU6 as separate ops, as an
// eager framework runs it, followed by a top-5 on the device. About 150 ops.
Network BuildMobileNetV2(int batch, const NpuModel& npu = {});

}  // namespace demo

#endif  // SCOPETRACE_EXAMPLES_INFERENCE_APP_MODEL_H_
