// Merge (`scopetrace merge`): several traces on one timeline, aligned by the wall clock
// each recorded at capture, every process keeping its own tracks.

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "scopetrace/analysis.h"

namespace scopetrace {
namespace {

// Hands out pids: a pid already used gets the next free one in its range (device pids
// stay at or above kDevicePidBase so they are still recognised as devices).
class PidAllocator {
 public:
  int64_t Claim(int64_t pid) {
    if (used_.insert(pid).second) {
      Note(pid);
      return pid;
    }
    int64_t candidate = pid >= kDevicePidBase ? std::max(pid, max_device_) : max_host_;
    while (!used_.insert(++candidate).second) {
    }
    Note(candidate);
    return candidate;
  }
  void Note(int64_t pid) {
    if (pid >= kDevicePidBase) {
      max_device_ = std::max(max_device_, pid);
    } else {
      max_host_ = std::max(max_host_, pid);
    }
  }

 private:
  absl::flat_hash_set<int64_t> used_;
  int64_t max_host_ = 0;
  int64_t max_device_ = kDevicePidBase;
};

uint64_t Offset(uint64_t id, uint64_t offset) { return id == 0 ? 0 : id + offset; }

void MergeMetadata(const TraceMetadata& in, int64_t shift, bool first, TraceMetadata& out) {
  if (first) {
    out = in;
    return;
  }
  out.start_ns = std::min(out.start_ns, in.start_ns + shift);
  out.end_ns = std::max(out.end_ns, in.end_ns + shift);
  if (in.first_step >= 0) {
    out.first_step = out.first_step < 0 ? in.first_step : std::min(out.first_step, in.first_step);
  }
  out.last_step = std::max(out.last_step, in.last_step);
  if (!in.worker.empty() && in.worker != out.worker) out.worker += "," + in.worker;
  out.dropped.insert(out.dropped.end(), in.dropped.begin(), in.dropped.end());
  out.dropped_events += in.dropped_events;
  out.device_records_late += in.device_records_late;
  out.device_records_missing += in.device_records_missing;
  out.clock_fits.insert(out.clock_fits.end(), in.clock_fits.begin(), in.clock_fits.end());
  out.overhead.threads.insert(out.overhead.threads.end(), in.overhead.threads.begin(),
                              in.overhead.threads.end());
  out.overhead.over_budget = out.overhead.over_budget || in.overhead.over_budget;
  if (in.truncated) {
    out.truncated = true;
    if (!out.truncation_reason.empty()) out.truncation_reason += "; ";
    out.truncation_reason += in.truncation_reason;
  }
}

}  // namespace

absl::StatusOr<Trace> MergeTraces(std::span<const Trace* const> traces) {
  if (traces.empty()) return absl::InvalidArgumentError("merge needs at least one trace");
  Trace out;
  const TraceMetadata& reference = traces[0]->metadata();
  PidAllocator pids;
  uint64_t id_offset = 0;  // keeps correlation and flow ids of different inputs apart
  for (size_t t = 0; t < traces.size(); ++t) {
    const Trace& in = *traces[t];
    const TraceMetadata& meta = in.metadata();
    // Host time h in `in` is Unix time meta.wall_clock_ns + (h − meta.start_ns); the same
    // moment on the reference timeline is h + shift.
    const int64_t shift =
        meta.wall_clock_ns != 0 && reference.wall_clock_ns != 0
            ? (meta.wall_clock_ns - meta.start_ns) - (reference.wall_clock_ns - reference.start_ns)
            : 0;
    std::vector<StringId> strings(in.strings().size());
    for (size_t i = 0; i < strings.size(); ++i) strings[i] = out.intern(in.strings()[i]);

    absl::flat_hash_map<int64_t, int64_t> pid_map;
    auto map_pid = [&](int64_t pid) {
      auto [it, inserted] = pid_map.try_emplace(pid, 0);
      if (inserted) it->second = pids.Claim(pid);
      return it->second;
    };
    for (const Process& p : in.processes()) {
      Process copy = p;
      copy.pid = map_pid(p.pid);
      // Two ranks both have a "sim0": tell them apart by the worker that recorded them.
      const bool name_taken =
          std::any_of(out.processes().begin(), out.processes().end(),
                      [&](const Process& other) { return other.name == copy.name; });
      if (name_taken && !copy.name.empty()) {
        const bool worker_tells = !meta.worker.empty() && meta.worker != reference.worker;
        copy.name += " [" + (worker_tells ? meta.worker : "input " + std::to_string(t)) + "]";
      }
      out.mutable_processes().push_back(std::move(copy));
    }
    const TrackId track_offset = static_cast<TrackId>(out.tracks().size());
    for (const Track& track : in.tracks()) {
      Track copy = track;
      copy.pid = map_pid(track.pid);
      out.add_track(std::move(copy));
    }

    auto remap_args = [&](std::vector<Arg>& args) {
      for (Arg& arg : args) arg.key = strings[arg.key];
    };
    uint64_t max_id = 0;
    out.mutable_slices().reserve(out.slices().size() + in.slices().size());
    for (const Slice& s : in.slices()) {
      Slice copy = s;
      copy.track += track_offset;
      copy.name = strings[s.name];
      copy.category = strings[s.category];
      copy.start_ns += shift;
      copy.correlation_id = Offset(s.correlation_id, id_offset);
      copy.flow_out = Offset(s.flow_out, id_offset);
      copy.flow_in = Offset(s.flow_in, id_offset);
      max_id = std::max({max_id, s.correlation_id, s.flow_out, s.flow_in});
      remap_args(copy.args);
      out.mutable_slices().push_back(std::move(copy));
    }
    for (const Instant& i : in.instants()) {
      Instant copy = i;
      copy.track += track_offset;
      copy.name = strings[i.name];
      copy.category = strings[i.category];
      copy.ts_ns += shift;
      remap_args(copy.args);
      out.mutable_instants().push_back(std::move(copy));
    }
    for (const CounterSample& c : in.counters()) {
      out.mutable_counters().push_back(
          {.track = c.track + track_offset, .ts_ns = c.ts_ns + shift, .value = c.value});
    }
    id_offset += max_id;
    MergeMetadata(meta, shift, /*first=*/t == 0, out.mutable_metadata());
  }
  TraceMetadata& merged = out.mutable_metadata();
  if (merged.wall_clock_ns != 0) {
    merged.wall_clock_ns = reference.wall_clock_ns + (merged.start_ns - reference.start_ns);
  }
  out.SortEvents();
  return out;
}

}  // namespace scopetrace
