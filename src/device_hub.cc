#include "src/device_hub.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace scopetrace::internal {
namespace {

int64_t MonotonicNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

DeviceHub::DeviceHub(DeviceHubOptions options) : options_(std::move(options)) {
  options_.reads_per_pair = std::max(options_.reads_per_pair, 1);
  options_.initial_pairs = std::max(options_.initial_pairs, 1);
}

DeviceHub::~DeviceHub() { Stop(); }

void DeviceHub::Add(DeviceSource* source) { devices_.push_back(std::make_unique<Device>(source)); }

int64_t DeviceHub::HostNow() const {
  return options_.host_clock_ns ? options_.host_clock_ns() : MonotonicNow();
}

const ClockSync& DeviceHub::clock_sync(size_t device) const { return *devices_[device]->sync; }

absl::Status DeviceHub::Start() {
  if (started_) return absl::FailedPreconditionError("DeviceHub already started");
  for (size_t i = 0; i < devices_.size(); ++i) {
    if (absl::Status status = devices_[i]->source->start(); !status.ok()) {
      for (size_t j = 0; j < i; ++j) devices_[j]->source->stop();
      return absl::Status(status.code(), absl::StrCat("device '", devices_[i]->name,
                                                      "' failed to start: ", status.message()));
    }
  }
  started_ = true;
  for (auto& device : devices_) {
    const double rate = device->source->read_clock().tick_rate_hz;
    device->sync.emplace(device->name, rate, options_.clock);
    for (int i = 0; i < options_.initial_pairs; ++i) TakePair(*device);
    device->next_pair_ns = HostNow() + absl::ToInt64Nanoseconds(options_.clock_pair_interval);
  }
  return absl::OkStatus();
}

void DeviceHub::Stop() {
  if (!started_) return;
  started_ = false;
  for (auto& device : devices_) device->source->stop();
}

bool DeviceHub::CycleOpen() const {
  return cycles_begun_.load(std::memory_order_relaxed) > cycles_collected_;
}

void DeviceHub::TakePair(Device& device) {
  ClockPair best;
  int64_t best_bracket = INT64_MAX;
  for (int i = 0; i < options_.reads_per_pair; ++i) {
    ClockPair pair;
    pair.host_before_ns = HostNow();
    pair.device_ticks = device.source->read_clock().ticks;
    pair.host_after_ns = HostNow();
    if (pair.host_after_ns - pair.host_before_ns < best_bracket) {
      best = pair;
      best_bracket = pair.host_after_ns - pair.host_before_ns;
    }
  }
  device.sync->AddPair(best);
}

void DeviceHub::Ingest(uint32_t device, ActivityRecord& record) {
  const uint64_t id = record.correlation_id;
  if (id == 0) return;  // not linked to a launch: no cycle can claim it
  if (id <= watermark_ || (cycles_begun_.load(std::memory_order_relaxed) > 0 && !CycleOpen())) {
    // Settled: its cycle was handed over (then it is late) or it belongs to none.
    if (missing_.erase(id) > 0) ++late_;
    return;
  }
  Pending op{.device = device,
             .stream = record.stream,
             .kind = record.kind,
             .name = std::move(record.name),
             .bytes = record.bytes,
             .start_ticks = record.start_ticks,
             .end_ticks = record.end_ticks};
  if (!pending_.try_emplace(id, std::move(op)).second) return;  // duplicate delivery
  arrival_.push_back(id);
  devices_[device]->unconverted.push_back(id);
  while (pending_.size() > options_.max_pending_records && !arrival_.empty()) {
    if (pending_.erase(arrival_.front()) > 0) ++evicted_;
    arrival_.pop_front();
  }
}

void DeviceHub::ConvertBracketed(Device& device, bool all) {
  const ClockSync& sync = *device.sync;
  const int64_t newest = sync.newest_ticks();
  size_t kept = 0;
  for (const uint64_t id : device.unconverted) {
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;  // claimed or evicted
    Pending& op = it->second;
    if (!all && op.end_ticks > newest) {
      device.unconverted[kept++] = id;
      continue;
    }
    op.start_ns = sync.ToHostNs(op.start_ticks);
    op.end_ns = std::max(op.start_ns, sync.ToHostNs(op.end_ticks));
    op.converted = true;
  }
  device.unconverted.resize(kept);

  kept = 0;
  for (const MemorySample& sample : device.raw_memory) {
    if (!all && sample.ticks > newest) {
      device.raw_memory[kept++] = sample;
      continue;
    }
    device.memory.emplace_back(sync.ToHostNs(sample.ticks), sample.bytes_in_use);
  }
  device.raw_memory.resize(kept);
}

void DeviceHub::Poll() {
  if (!started_) return;
  const int64_t now = HostNow();
  for (uint32_t d = 0; d < devices_.size(); ++d) {
    Device& device = *devices_[d];
    scratch_.clear();
    device.source->drain_activity(scratch_);
    for (ActivityRecord& record : scratch_) Ingest(d, record);
    device.source->drain_memory(device.raw_memory);
    if (now >= device.next_pair_ns) {
      TakePair(device);
      device.next_pair_ns = now + absl::ToInt64Nanoseconds(options_.clock_pair_interval);
      ConvertBracketed(device, /*all=*/false);
    }
    // Between cycles only the latest memory value matters (the next cycle's baseline).
    const bool idle = cycles_begun_.load(std::memory_order_relaxed) > 0 && !CycleOpen();
    const size_t keep = idle ? 1 : options_.max_pending_records;
    while (device.memory.size() > keep) device.memory.pop_front();
  }
}

void DeviceHub::AddMemoryCounter(const Device& device, int64_t pid, int64_t start_ns,
                                 int64_t end_ns, Trace& trace) {
  const TrackId track =
      trace.find_or_add_track(TrackKind::kCounter, pid, 0, absl::StrCat(device.name, " memory"));
  auto& counters = trace.mutable_counters();
  // The value in use when the window opens: the last sample before it.
  const std::pair<int64_t, int64_t>* baseline = nullptr;
  bool at_start = false;
  for (const auto& sample : device.memory) {
    if (sample.first < start_ns) {
      baseline = &sample;
    } else if (sample.first <= end_ns) {
      at_start |= sample.first == start_ns;
      counters.push_back({track, sample.first, static_cast<double>(sample.second)});
    }
  }
  if (baseline != nullptr && !at_start) {
    counters.push_back({track, start_ns, static_cast<double>(baseline->second)});
  }
}

void DeviceHub::CollectCycle(const absl::flat_hash_set<uint64_t>& launched, int64_t start_ns,
                             int64_t end_ns, absl::Duration timeout, Trace& trace) {
  TraceMetadata& metadata = trace.mutable_metadata();
  // Wait for the launched operations still in flight.
  std::vector<uint64_t> remaining;
  if (started_) {
    const absl::Time deadline = absl::Now() + timeout;
    Poll();
    remaining.reserve(launched.size());
    for (const uint64_t id : launched) {
      if (!pending_.contains(id)) remaining.push_back(id);
    }
    // At least one flush, even with a zero timeout: records already complete but still
    // in a source's buffer are not "in flight".
    while (!remaining.empty()) {
      for (auto& device : devices_) device->source->flush();
      Poll();
      std::erase_if(remaining, [this](uint64_t id) { return pending_.contains(id); });
      if (remaining.empty() || absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(1));
    }
    // A fresh pair brackets everything delivered, so all of it is interpolated.
    for (auto& device : devices_) {
      TakePair(*device);
      device->next_pair_ns = HostNow() + absl::ToInt64Nanoseconds(options_.clock_pair_interval);
      device->source->drain_memory(device->raw_memory);
      ConvertBracketed(*device, /*all=*/true);
    }
  } else {
    for (const uint64_t id : launched) {
      if (!pending_.contains(id)) remaining.push_back(id);
    }
  }

  // Processes and tracks per trace.h's conventions, for every device (an idle device
  // still shows, so a reader sees it was watched).
  std::vector<std::vector<TrackId>> stream_tracks(devices_.size());
  for (uint32_t d = 0; d < devices_.size(); ++d) {
    const Device& device = *devices_[d];
    const int64_t pid = kDevicePidBase + d;
    trace.add_process({.pid = pid,
                       .name = device.name,
                       .sort_index = static_cast<int32_t>(1000 + d),
                       .is_device = true});
    for (int s = 0; s < device.source->stream_count(); ++s) {
      stream_tracks[d].push_back(
          trace.find_or_add_track(TrackKind::kDeviceStream, pid, s, absl::StrCat("stream ", s)));
    }
    if (device.sync.has_value()) metadata.clock_fits.push_back(device.sync->fit());
    AddMemoryCounter(device, pid, start_ns, end_ns, trace);
  }

  const StringId stream_key = trace.intern("stream");
  const StringId bytes_key = trace.intern("bytes");
  uint64_t max_id = 0;
  for (const uint64_t id : launched) {
    max_id = std::max(max_id, id);
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    Pending& op = it->second;
    std::vector<TrackId>& tracks = stream_tracks[op.device];
    while (tracks.size() <= op.stream) {  // a stream beyond stream_count()
      const auto s = static_cast<int64_t>(tracks.size());
      tracks.push_back(trace.find_or_add_track(TrackKind::kDeviceStream, kDevicePidBase + op.device,
                                               s, absl::StrCat("stream ", s)));
    }
    const std::string_view category = DeviceOpKindCategory(op.kind);
    Slice slice{.track = tracks[op.stream],
                .name = trace.intern(op.name.empty() ? category : op.name),
                .category = trace.intern(category),
                .op_kind = op.kind,
                .start_ns = op.start_ns,
                .dur_ns = op.end_ns - op.start_ns,
                .correlation_id = id,
                .flow_in = id,
                .args = {}};
    const bool has_bytes = op.kind == DeviceOpKind::kMemcpyH2D ||
                           op.kind == DeviceOpKind::kMemcpyD2H || op.kind == DeviceOpKind::kMemset;
    slice.args.resize(has_bytes ? 2 : 1);
    slice.args[0].key = stream_key;
    slice.args[0].value.emplace<int64_t>(op.stream);
    if (has_bytes) {
      slice.args[1].key = bytes_key;
      slice.args[1].value.emplace<int64_t>(static_cast<int64_t>(op.bytes));
    }
    trace.mutable_slices().push_back(std::move(slice));
    pending_.erase(it);
  }

  metadata.device_records_missing += remaining.size();
  for (const uint64_t id : remaining) {
    if (missing_.insert(id).second) missing_order_.push_back(id);
  }
  while (missing_order_.size() > options_.max_missing_ids) {
    missing_.erase(missing_order_.front());
    missing_order_.pop_front();
  }
  metadata.device_records_late += late_;
  late_ = 0;

  // Settle everything up to the cycle's highest id: later cycles launch higher ids.
  watermark_ = std::max(watermark_, max_id);
  if (cycles_collected_ < cycles_begun_.load(std::memory_order_relaxed)) ++cycles_collected_;
  const bool idle = cycles_begun_.load(std::memory_order_relaxed) > 0 && !CycleOpen();
  if (idle) {
    pending_.clear();
    arrival_.clear();
  } else {
    // Ids arrive (nearly) in increasing order, so settled ones sit at the front: the cost
    // is what is dropped, not what is kept, even when the collector runs cycles behind.
    while (!arrival_.empty() && arrival_.front() <= watermark_) {
      pending_.erase(arrival_.front());
      arrival_.pop_front();
    }
  }
  for (auto& device : devices_) {
    std::erase_if(device->unconverted, [this](uint64_t id) { return !pending_.contains(id); });
    // Keep the last sample up to the window's end: the next cycle's baseline.
    while (device->memory.size() > 1 && device->memory[1].first <= end_ns) {
      device->memory.pop_front();
    }
  }
}

}  // namespace scopetrace::internal
