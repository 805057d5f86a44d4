#include "src/exporter.h"

#include <cstdio>
#include <exception>

#include "absl/strings/str_cat.h"
#include "src/background_thread.h"

namespace scopetrace::internal {

Exporter::Exporter(std::function<absl::Status(FinishedCycle&)> export_cycle)
    : export_cycle_(std::move(export_cycle)) {}

Exporter::~Exporter() { Finish(); }

absl::Status Exporter::Start() {
  return StartThread(thread_, "scopetrace export", [this] { Run(); });
}

void Exporter::Enqueue(FinishedCycle cycle) {
  std::unique_lock<std::mutex> lock(mu_);
  // Back-pressure: memory stays bounded when exports are slower than capture. The caller
  // (the collector) waits; meanwhile the rings fill and drop, and the drops are counted.
  room_cv_.wait(lock, [this] { return queue_.size() < kMaxQueuedCycles || finishing_; });
  queue_.push_back(std::move(cycle));
  cv_.notify_one();
}

void Exporter::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    finishing_ = true;
    cv_.notify_one();
    room_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

int64_t Exporter::errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

absl::Status Exporter::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void Exporter::Run() {
  NameThisThread("scopetrace-exp");
  for (;;) {
    {
      FinishedCycle cycle;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty() || finishing_; });
        if (queue_.empty()) return;  // finishing and nothing left
        cycle = std::move(queue_.front());
        queue_.pop_front();
        room_cv_.notify_one();
      }
      Export(cycle);
      if (cycle.trace) storage_pool_.Recycle(*cycle.trace);
    }
    cpu_.Publish();  // after the cycle's trace was freed: freeing it is export work too
  }
}

void Exporter::Export(FinishedCycle& cycle) {
  cycle.Merge();
  cycle.trace->SortEvents();  // host slices merged in order: mostly a check
  absl::Status status;
  try {
    status = export_cycle_(cycle);
  } catch (const std::exception& e) {
    status = absl::InternalError(absl::StrCat("on_trace_ready threw: ", e.what()));
  } catch (...) {
    status = absl::InternalError("on_trace_ready threw a non-standard exception");
  }
  if (!status.ok()) {
    std::fprintf(stderr, "scopetrace: cycle %lld not exported: %s\n",
                 static_cast<long long>(cycle.trace->metadata().cycle),
                 std::string(status.message()).c_str());
    std::lock_guard<std::mutex> lock(mu_);
    ++errors_;
    last_error_ = status;
  }
}

}  // namespace scopetrace::internal
