// Writes the fuzzers' seed traces: a small realistic capture (host scopes with args,
// instants, counters, two threads, the simulated device with copies, kernels, flows and
// a synchronize) in every format the readers take, and checks each reads back whole.
// SCOPETRACE_CORPUS_DIR=tests/fuzz/corpus regenerates the committed seeds.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scopetrace/scopetrace.h"
#include "scopetrace/sim/device.h"

namespace scopetrace {
namespace {

namespace fs = std::filesystem;
using std::chrono::microseconds;

TEST(SeedCorpusTest, WritesSmallRealisticTracesInEveryFormat) {
  sim::Device npu({.name = "sim0", .streams = 2});
  std::mutex mu;
  std::vector<std::unique_ptr<Trace>> traces;
  Profiler profiler({.schedule = Schedule{.wait = 1, .warmup = 1, .active = 2, .repeat = 1},
                     .on_trace_ready =
                         [&](const Trace& trace) {
                           std::lock_guard lock(mu);
                           traces.push_back(std::make_unique<Trace>(trace));
                         },
                     .worker_name = "seed"});
  profiler.add_device(npu);
  ASSERT_TRUE(profiler.start().ok());
  for (int step = 0; step < 4; ++step) {
    SCOPETRACE_SCOPE("iteration", "step", step, "lr", 0.001, "train", true);
    std::thread loader([step] {
      set_thread_name("loader");
      SCOPETRACE_SCOPE_CAT("io", "load_batch", "file",
                           std::string("shard-") + std::to_string(step) + "\"q\"");
    });
    {
      SCOPETRACE_SCOPE("forward");
      npu.stream(0).copy_to_device(64 << 10);
      npu.stream(0).launch("conv", microseconds(40));
      npu.stream(1).launch("attn", microseconds(30));
      SCOPETRACE_INSTANT("checkpoint", "note", "ok");
      SCOPETRACE_COUNTER("queue_depth", step * 2);
    }
    {
      const std::string layer = "layer." + std::to_string(step) + "\n\xc3\xa9";
      SCOPETRACE_SCOPE_DYNAMIC(layer);
      npu.stream(0).copy_to_host(4 << 10);
    }
    npu.synchronize();
    loader.join();
    profiler.step();
  }
  profiler.stop();
  ASSERT_EQ(traces.size(), 1u);
  const Trace& trace = *traces[0];
  EXPECT_EQ(trace.metadata().device_records_missing, 0u);

  std::string dir;
  if (const char* env = std::getenv("SCOPETRACE_CORPUS_DIR")) {
    dir = env;
  } else {
    std::string pattern = (fs::temp_directory_path() / "scopetrace_seed_XXXXXX").string();
    dir = mkdtemp(pattern.data());
  }
  for (Format format : {Format::kChromeJson, Format::kPerfetto, Format::kPerfettoZstd}) {
    const std::string path = dir + "/seed" + std::string(FormatExtension(format));
    ASSERT_TRUE(trace.Write(path, format).ok()) << path;
    EXPECT_LT(fs::file_size(path), 64u << 10) << path << " is not a small seed";
    absl::StatusOr<Trace> back = ReadTrace(path);
    ASSERT_TRUE(back.ok()) << path << ": " << back.status();
    EXPECT_FALSE(back->metadata().truncated) << path;
    EXPECT_EQ(back->slices().size(), trace.slices().size()) << path;
    EXPECT_EQ(back->instants().size(), trace.instants().size()) << path;
    EXPECT_EQ(back->counters().size(), trace.counters().size()) << path;
  }
  if (std::getenv("SCOPETRACE_CORPUS_DIR") == nullptr) fs::remove_all(dir);
}

}  // namespace
}  // namespace scopetrace
