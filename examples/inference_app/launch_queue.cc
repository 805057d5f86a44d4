#include "launch_queue.h"

#include <scopetrace/scopetrace.h>

#include <utility>

namespace demo {

LaunchQueue::LaunchQueue(std::string thread_name)
    : thread_([this, name = std::move(thread_name)] { Run(name); }) {}

LaunchQueue::~LaunchQueue() {
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void LaunchQueue::Submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void LaunchQueue::Run(const std::string& thread_name) {
  // Named threads get their own, labelled track in the trace.
  scopetrace::set_thread_name(thread_name);
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return done_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // done_ and drained
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();  // the launch cost is paid here, off the application thread
    lock.lock();
  }
}

}  // namespace demo
