#include "model.h"

#include <algorithm>

namespace demo {
namespace {

class Builder {
 public:
  Builder(int batch, const NpuModel& npu) : batch_(batch), npu_(npu) {}

  // A convolution (groups == channels: depthwise). Returns the output height and width.
  int Conv(int size, int in_channels, int out_channels, int kernel, int stride, int groups = 1) {
    const double out = size / stride;
    const double flops =
        2.0 * batch_ * out * out * out_channels * (in_channels / groups) * kernel * kernel;
    const double weights = double(out_channels) * (in_channels / groups) * kernel * kernel;
    const double bytes =
        kFp16 * (batch_ * (size * size * in_channels + out * out * out_channels) + weights);
    Add(groups == 1 ? "conv2d" : "depthwise_conv2d", flops, bytes);
    return static_cast<int>(out);
  }

  // An element-wise op over `elements` values per image touching `tensors` tensors.
  void Elementwise(const char* kind, double elements, int tensors) {
    Add(kind, batch_ * elements, kFp16 * batch_ * elements * tensors);
  }

  void Add(const char* kind, double flops, double bytes) {
    const double seconds = std::max(flops / npu_.peak_flops, bytes / npu_.memory_bytes_per_s);
    ops_.push_back({kind, npu_.kernel_overhead +
                              std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9))});
  }

  std::vector<Op> Take() { return std::move(ops_); }

 private:
  static constexpr double kFp16 = 2;
  const int batch_;
  const NpuModel npu_;
  std::vector<Op> ops_;
};

}  // namespace

Network BuildMobileNetV2(int batch, const NpuModel& npu) {
  Builder b(batch, npu);
  int size = b.Conv(224, 3, 32, 3, 2);
  b.Elementwise("batch_norm", size * size * 32, 2);
  b.Elementwise("relu6", size * size * 32, 2);
  // Inverted residual blocks: {expansion, output channels, repeats, first stride}.
  struct Stage {
    int expansion, channels, repeats, stride;
  };
  constexpr Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                               {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int channels = 32;
  for (const Stage& stage : kStages) {
    for (int i = 0; i < stage.repeats; ++i) {
      const int stride = i == 0 ? stage.stride : 1;
      const int hidden = channels * stage.expansion;
      if (stage.expansion != 1) {
        b.Conv(size, channels, hidden, 1, 1);
        b.Elementwise("batch_norm", size * size * hidden, 2);
        b.Elementwise("relu6", size * size * hidden, 2);
      }
      const int out = b.Conv(size, hidden, hidden, 3, stride, hidden);
      b.Elementwise("batch_norm", out * out * hidden, 2);
      b.Elementwise("relu6", out * out * hidden, 2);
      b.Conv(out, hidden, stage.channels, 1, 1);
      b.Elementwise("batch_norm", out * out * stage.channels, 2);
      if (stride == 1 && channels == stage.channels) {
        b.Elementwise("add", out * out * stage.channels, 3);  // the residual connection
      }
      size = out;
      channels = stage.channels;
    }
  }
  b.Conv(size, channels, 1280, 1, 1);
  b.Elementwise("batch_norm", size * size * 1280, 2);
  b.Elementwise("relu6", size * size * 1280, 2);
  b.Elementwise("avg_pool", size * size * 1280, 1);
  b.Add("linear", 2.0 * batch * 1280 * 1000, 2.0 * (1280 * 1000 + batch * (1280 + 1000)));
  // Top-5 runs on the NPU's AI CPU, not its matrix units (as sort-like ops often do):
  // slow, and the last thing before the output copy.
  b.Add("topk", 0, 0);
  Network network{.ops = b.Take()};
  network.ops.back().device_time = std::chrono::microseconds(150 + 5 * batch);
  network.input_bytes = uint64_t{4} * batch * 3 * 224 * 224;
  network.output_bytes = uint64_t{8} * batch * 5;
  return network;
}

}  // namespace demo
