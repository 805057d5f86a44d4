#include "src/exporter.h"

#include <cstdio>
#include <exception>

#include "absl/strings/str_cat.h"

namespace scopetrace::internal {

Exporter::Exporter(std::function<absl::Status(const Trace&)> export_trace)
    : export_trace_(std::move(export_trace)) {}

Exporter::~Exporter() { Finish(); }

void Exporter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Exporter::Enqueue(std::unique_ptr<Trace> trace) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(trace));
}

void Exporter::Finish() {
  {
    absl::MutexLock lock(&mu_);
    finishing_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int64_t Exporter::errors() const {
  absl::MutexLock lock(&mu_);
  return errors_;
}

absl::Status Exporter::last_error() const {
  absl::MutexLock lock(&mu_);
  return last_error_;
}

void Exporter::Run() {
  for (;;) {
    std::unique_ptr<Trace> trace;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Exporter* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return !self->queue_.empty() || self->finishing_;
          },
          this));
      if (queue_.empty()) return;  // finishing and nothing left
      trace = std::move(queue_.front());
      queue_.pop_front();
    }
    trace->SortEvents();
    absl::Status status;
    try {
      status = export_trace_(*trace);
    } catch (const std::exception& e) {
      status = absl::InternalError(absl::StrCat("on_trace_ready threw: ", e.what()));
    } catch (...) {
      status = absl::InternalError("on_trace_ready threw a non-standard exception");
    }
    if (!status.ok()) {
      std::fprintf(stderr, "scopetrace: cycle %lld not exported: %s\n",
                   static_cast<long long>(trace->metadata().cycle),
                   std::string(status.message()).c_str());
      absl::MutexLock lock(&mu_);
      ++errors_;
      last_error_ = status;
    }
  }
}

}  // namespace scopetrace::internal
