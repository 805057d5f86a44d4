#include "src/sim/timeline.h"

#include <algorithm>
#include <utility>

#include "absl/strings/string_view.h"

namespace scopetrace::sim::internal {

Timeline::Timeline(TimelineOptions options)
    : options_(options),
      stream_end_(static_cast<size_t>(std::max(options.streams, 1)), 0),
      in_flight_(stream_end_.size()) {}

TimedOp Timeline::Schedule(uint32_t stream, int64_t submit_ns, int64_t duration_ns, TimedOp op,
                           bool record) {
  op.stream = stream;
  op.start_ns = std::max(submit_ns, stream_end_[stream]);
  op.end_ns = op.start_ns + std::max<int64_t>(duration_ns, 0);
  stream_end_[stream] = op.end_ns;
  if (record) in_flight_[stream].push_back(op);
  return op;
}

void Timeline::WaitUntil(uint32_t stream, int64_t ready_ns) {
  stream_end_[stream] = std::max(stream_end_[stream], ready_ns);
}

void Timeline::Advance(int64_t now_ns) {
  for (;;) {
    // The earliest-ending record still in flight, across streams.
    std::deque<TimedOp>* next = nullptr;
    for (auto& queue : in_flight_) {
      if (!queue.empty() && (next == nullptr || queue.front().end_ns < next->front().end_ns)) {
        next = &queue;
      }
    }
    const int64_t next_end = next == nullptr ? kNever : next->front().end_ns;
    const size_t open = done_.size() - released_;
    if (open > 0) {
      const int64_t due = open_batch_first_end_ + options_.flush_interval_ns;
      if (due <= now_ns && due < next_end) {
        Release();
        continue;
      }
    }
    if (next_end > now_ns) return;
    if (open == 0) open_batch_first_end_ = next_end;
    done_.push_back(next->front());
    next->pop_front();
    if (open + 1 >= options_.batch_records) Release();
  }
}

void Timeline::ReleaseOpenBatch() {
  if (done_.size() > released_) Release();
}

int64_t Timeline::NextRelease() const {
  if (done_.size() > released_) return open_batch_first_end_ + options_.flush_interval_ns;
  int64_t first_end = kNever;
  for (const auto& queue : in_flight_) {
    if (!queue.empty()) first_end = std::min(first_end, queue.front().end_ns);
  }
  return first_end == kNever ? kNever : first_end + options_.flush_interval_ns;
}

bool Timeline::has_in_flight() const {
  for (const auto& queue : in_flight_) {
    if (!queue.empty()) return true;
  }
  return false;
}

void Timeline::Release() {
  if (done_.size() > options_.max_released) {
    // Nobody drains: keep the oldest, like a driver that ran out of activity buffers.
    dropped_ += done_.size() - std::max(options_.max_released, released_);
    done_.resize(std::max(options_.max_released, released_));
  }
  released_ = done_.size();
}

std::vector<TimedOp> Timeline::TakeReleased() {
  std::vector<TimedOp> out;
  if (released_ == done_.size()) {
    out.swap(done_);
  } else {
    // Keep the open batch (at most batch_records records).
    std::vector<TimedOp> open(done_.begin() + static_cast<ptrdiff_t>(released_), done_.end());
    done_.resize(released_);
    out.swap(done_);
    done_.swap(open);
  }
  released_ = 0;
  return out;
}

const std::string* Timeline::InternName(std::string_view name) {
  if (auto it = names_.find(absl::string_view(name.data(), name.size())); it != names_.end()) {
    return it->second.get();
  }
  auto text = std::make_unique<const std::string>(name);
  const std::string* stable = text.get();
  names_.emplace(*stable, std::move(text));
  return stable;
}

}  // namespace scopetrace::sim::internal
