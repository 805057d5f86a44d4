// A launch queue: the application thread hands device calls to one dedicated thread,
// which pays the driver's launch cost while the application thread goes on with the
// next op. Ascend's PyTorch adapter does this ("task queue"); so do CUDA graphs and
// most serving runtimes in their own way.

#ifndef SCOPETRACE_EXAMPLES_INFERENCE_APP_LAUNCH_QUEUE_H_
#define SCOPETRACE_EXAMPLES_INFERENCE_APP_LAUNCH_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace demo {

class LaunchQueue {
 public:
  // Starts the thread; it names itself `thread_name` in traces.
  explicit LaunchQueue(std::string thread_name);
  // Runs every task still queued, then joins the thread.
  ~LaunchQueue();
  LaunchQueue(const LaunchQueue&) = delete;
  LaunchQueue& operator=(const LaunchQueue&) = delete;

  // Runs `task` on the queue thread after every task submitted before it.
  void Submit(std::function<void()> task);

 private:
  void Run(const std::string& thread_name);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace demo

#endif  // SCOPETRACE_EXAMPLES_INFERENCE_APP_LAUNCH_QUEUE_H_
