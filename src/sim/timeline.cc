#include "src/sim/timeline.h"

#include <algorithm>
#include <utility>

#include "absl/strings/string_view.h"

namespace scopetrace::sim::internal {

Timeline::Timeline(TimelineOptions options)
    : options_(options),
      stream_end_(static_cast<size_t>(std::max(options.streams, 1)), 0),
      in_flight_(stream_end_.size()) {
  names_.emplace_back();  // id 0: no name (copies, memsets, syncs)
}

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
    if (!open_batch_.empty()) {
      const int64_t due = open_batch_first_end_ + options_.flush_interval_ns;
      if (due <= now_ns && due < next_end) {
        Release();
        continue;
      }
    }
    if (next_end > now_ns) return;
    if (open_batch_.empty()) open_batch_first_end_ = next_end;
    open_batch_.push_back(next->front());
    next->pop_front();
    if (open_batch_.size() >= options_.batch_records) Release();
  }
}

void Timeline::ReleaseOpenBatch() {
  if (!open_batch_.empty()) Release();
}

int64_t Timeline::NextRelease() const {
  if (!open_batch_.empty()) return open_batch_first_end_ + options_.flush_interval_ns;
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
  const size_t room =
      released_.size() < options_.max_released ? options_.max_released - released_.size() : 0;
  const size_t kept = std::min(room, open_batch_.size());
  released_.insert(released_.end(), open_batch_.begin(), open_batch_.begin() + kept);
  dropped_ += open_batch_.size() - kept;
  open_batch_.clear();
}

std::vector<TimedOp> Timeline::TakeReleased() {
  std::vector<TimedOp> out;
  out.swap(released_);
  return out;
}

uint32_t Timeline::InternName(std::string_view name) {
  if (name.empty()) return 0;
  if (auto it = name_ids_.find(absl::string_view(name.data(), name.size())); it != name_ids_.end())
    return it->second;
  const auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  name_ids_.emplace(std::string(name), id);
  return id;
}

}  // namespace scopetrace::sim::internal
