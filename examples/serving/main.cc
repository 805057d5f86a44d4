// Serving: a client thread sends requests; worker threads take them from a shared queue
// in dynamic batches (up to --max-batch requests, or whatever arrived within 1 ms of the
// first) and run each batch on their own stream of the simulated NPU.
//
//   serving [--requests N] [--rate PER_SECOND] [--workers N] [--max-batch N] [--out DIR]
//           [--quick]
//
// In the trace every thread has its own named track ("client", "worker 0", ...), the
// queue depth is a counter track ("queue_depth") and each batch a slice with its size.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <scopetrace/analysis.h>
#include <scopetrace/scopetrace.h>
#include <scopetrace/sim/device.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Request {
  Clock::time_point arrival;
};

// The queue the workers batch from.
class RequestQueue {
 public:
  void Push(Request request) {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      // One sample per change: the counter track is a step line of the depth over time.
      SCOPETRACE_COUNTER("queue_depth", static_cast<int64_t>(requests_.size()));
    }
    cv_.notify_one();
  }

  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

  // Waits for a first request, then up to `max_wait` for the batch to fill. Empty when
  // the queue is closed and drained.
  std::vector<Request> PopBatch(size_t max_batch, Clock::duration max_wait) {
    std::unique_lock lock(mu_);
    do {
      cv_.wait(lock, [&] { return closed_ || !requests_.empty(); });
      if (requests_.empty()) return {};  // closed and drained
      const Clock::time_point deadline = requests_.front().arrival + max_wait;
      cv_.wait_until(lock, deadline, [&] { return closed_ || requests_.size() >= max_batch; });
      // Another worker may have taken the requests while this one waited.
    } while (requests_.empty());
    const size_t n = std::min(max_batch, requests_.size());
    std::vector<Request> batch(requests_.begin(), requests_.begin() + n);
    requests_.erase(requests_.begin(), requests_.begin() + n);
    SCOPETRACE_COUNTER("queue_depth", static_cast<int64_t>(requests_.size()));
    return batch;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> requests_;
  bool closed_ = false;
};

struct Flags {
  int requests = 2000;
  int rate = 8000;  // requests per second, Poisson arrivals: more than one worker serves
  int workers = 2;
  int max_batch = 8;
  std::string out = "out/serving";
};

bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto number = [&](int& value) {
      if (i + 1 >= argc) return false;
      const std::string_view text = argv[++i];
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      return ec == std::errc() && end == text.data() + text.size() && value > 0;
    };
    bool ok = true;
    if (arg == "--quick") {
      flags.requests = 300;
    } else if (arg == "--requests") {
      ok = number(flags.requests);
    } else if (arg == "--rate") {
      ok = number(flags.rate);
    } else if (arg == "--workers") {
      ok = number(flags.workers);
    } else if (arg == "--max-batch") {
      ok = number(flags.max_batch);
    } else if (arg == "--out" && i + 1 < argc) {
      flags.out = argv[++i];
    } else {
      ok = false;
    }
    if (!ok) {
      fmt::print(stderr,
                 "usage: serving [--requests N] [--rate PER_SECOND] [--workers N] "
                 "[--max-batch N] [--out DIR] [--quick]\n");
      return false;
    }
  }
  return true;
}

// One batch on the device: inputs in, the model (a fixed cost plus a per-request cost,
// so larger batches are cheaper per request), results back.
void RunBatch(scopetrace::sim::Stream& stream, size_t size) {
  SCOPETRACE_SCOPE("batch", "size", static_cast<int64_t>(size));
  stream.copy_to_device(size * 600'000);
  stream.launch("encoder", 400us + 60us * static_cast<int64_t>(size));
  stream.launch("head", 50us + 5us * static_cast<int64_t>(size));
  stream.copy_to_host(size * 4'000);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) return 2;

  scopetrace::sim::Device npu({.name = "npu0", .streams = flags.workers});
  // No schedule: one trace from start() to stop(), written by the profiler itself as
  // <out>/serving.<pid>.cycle0.trace.json (and .pftrace.zst).
  scopetrace::Profiler profiler({
      .output_dir = flags.out,
      .formats = scopetrace::Format::kChromeJson | scopetrace::Format::kPerfettoZstd,
      .worker_name = "serving",
  });
  profiler.add_device(npu);
  if (absl::Status started = profiler.start(); !started.ok()) {
    fmt::print(stderr, "serving: {}\n", started.ToString());
    return 1;
  }

  RequestQueue queue;
  std::mutex latencies_mu;
  std::vector<int64_t> latencies_ns;
  std::vector<int64_t> batch_sizes;
  std::vector<int> batches_per_worker(flags.workers);
  std::vector<std::thread> workers;
  for (int w = 0; w < flags.workers; ++w) {
    workers.emplace_back([&, w] {
      scopetrace::set_thread_name(fmt::format("worker {}", w));
      for (;;) {
        const std::vector<Request> batch = queue.PopBatch(flags.max_batch, 1ms);
        if (batch.empty()) return;
        RunBatch(npu.stream(w), batch.size());
        const Clock::time_point done = Clock::now();
        std::lock_guard lock(latencies_mu);
        batch_sizes.push_back(static_cast<int64_t>(batch.size()));
        ++batches_per_worker[w];
        for (const Request& r : batch) latencies_ns.push_back((done - r.arrival).count());
      }
    });
  }

  std::thread client([&] {
    scopetrace::set_thread_name("client");
    std::mt19937 random(42);
    std::exponential_distribution<double> gap_s(flags.rate);
    Clock::time_point next = Clock::now();
    for (int i = 0; i < flags.requests; ++i) {
      next +=
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(gap_s(random)));
      std::this_thread::sleep_until(next);
      queue.Push({.arrival = Clock::now()});
    }
    queue.Close();
  });
  client.join();
  for (std::thread& worker : workers) worker.join();
  profiler.stop();

  const scopetrace::DurationStats latency = scopetrace::ComputeDurationStats(latencies_ns);
  int64_t batched = 0;
  for (int64_t size : batch_sizes) batched += size;
  fmt::print("served {} requests in {} batches (mean batch {:.2f}) with {} workers\n",
             latency.count, batch_sizes.size(),
             batch_sizes.empty() ? 0.0 : static_cast<double>(batched) / batch_sizes.size(),
             flags.workers);
  fmt::print("batches per worker: {}\n", fmt::join(batches_per_worker, ", "));
  fmt::print("latency: P50 {}  P90 {}  P99 {}  max {}\n",
             scopetrace::FormatDuration(latency.p50_ns), scopetrace::FormatDuration(latency.p90_ns),
             scopetrace::FormatDuration(latency.p99_ns),
             scopetrace::FormatDuration(latency.max_ns));
  fmt::print("trace: {}/serving.{}.cycle0.trace.json\n", flags.out, getpid());
  return 0;
}
