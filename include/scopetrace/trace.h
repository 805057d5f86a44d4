// scopetrace/trace.h
//
// `Trace` is one captured cycle, in memory: host threads and device streams (tracks),
// the slices, instants and counter samples on them, the flows that link a host launch to
// the device operation it caused, and the metadata of the capture (schedule, steps,
// dropped events, clock synchronization, measured overhead).
//
// The same model is produced by the profiler (handed to `on_trace_ready`) and by the
// readers (`ReadTrace`), so analysis and the command line tool work on captures and on
// files alike. All timestamps are host CLOCK_MONOTONIC nanoseconds; device timestamps
// have already been mapped onto the host timeline by clock synchronization.
//
// Example:
//
//   absl::StatusOr<scopetrace::Trace> trace = scopetrace::ReadTrace("run.trace.json");
//   if (!trace.ok()) return trace.status();
//   for (const scopetrace::Slice& slice : trace->slices()) {
//     fmt::print("{} {} ns\n", trace->str(slice.name), slice.dur_ns);
//   }
//   absl::Status written = trace->Write("run.pftrace.zst", scopetrace::Format::kPerfettoZstd);
//
// Strings (names, categories, arg keys) are interned: events hold a `StringId` and
// `Trace::str()` turns it back into text. Thread safety: a `const Trace` may be read from
// any number of threads at once.
//
// Conventions every producer, writer, reader and analysis relies on:
// - The profiled process is a Process with is_device = false; each device is its own
//   Process (is_device = true, name = DeviceSource::name(), pid = kDevicePidBase + its
//   index in the session) with one kDeviceStream track per stream (tid = stream index,
//   name "stream <i>").
// - Recorded steps are slices named "ProfilerStep#<N>" with category "step" on the
//   thread that called Profiler::step().
// - A host slice that launched device work (e.g. "launch conv2d", category "launch") and
//   the device op it caused carry the same `correlation_id`; the launch has
//   flow_out = correlation_id and the device op flow_in = correlation_id. In Chrome JSON
//   the correlation id is written as the arg "correlation_id", in Perfetto files as
//   TrackEvent.correlation_id (field 52; the arg is accepted too); readers move it back
//   into the field, so `args` never holds it.
// - Device ops have op_kind != kNone and category DeviceOpKindCategory(op_kind); copies
//   and memsets carry the arg "bytes".
// - Host counters are kCounter tracks on the host process named after the counter;
//   device memory in use is the kCounter track "<device> memory" on the device's process.

#ifndef SCOPETRACE_TRACE_H_
#define SCOPETRACE_TRACE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scopetrace/format.h"
#include "scopetrace/schedule.h"

namespace scopetrace {

// Device processes get pids from here on, so they never collide with a real pid.
constexpr int64_t kDevicePidBase = 1'000'000'000;

// Index into `Trace::strings()`. Id 0 is always the empty string.
using StringId = uint32_t;
// Index into `Trace::tracks()`.
using TrackId = uint32_t;

// What a track holds and where it is shown.
enum class TrackKind : uint8_t {
  kThread,        // a host thread: slices and instants, nested by time
  kDeviceStream,  // one stream (queue) of a device: device operations
  kCounter,       // one counter series (`SCOPETRACE_COUNTER`, device memory in use)
};

// What a device operation was. Host slices have `kNone`.
enum class DeviceOpKind : uint8_t {
  kNone = 0,
  kKernel,
  kMemcpyH2D,
  kMemcpyD2H,
  kMemset,
  kSync,
};

// The category a device operation carries in trace files ("kernel", "memcpy_h2d",
// "memcpy_d2h", "memset", "sync"); `DeviceOpKindFromCategory` is its inverse and returns
// kNone for any other category.
std::string_view DeviceOpKindCategory(DeviceOpKind kind);
DeviceOpKind DeviceOpKindFromCategory(std::string_view category);

// A process (the profiled application, or one device shown as its own process).
struct Process {
  int64_t pid = 0;
  std::string name;
  int32_t sort_index = 0;
  bool is_device = false;
};

struct Track {
  TrackKind kind = TrackKind::kThread;
  int64_t pid = 0;  // the Process this track belongs to
  int64_t tid = 0;  // thread id; for device streams the stream index; for counters 0
  std::string name;
  int32_t sort_index = 0;
};

// An argument value: integer, floating point, boolean or text.
using ArgValue = std::variant<int64_t, double, bool, std::string>;

struct Arg {
  StringId key = 0;
  ArgValue value;
  friend bool operator==(const Arg&, const Arg&) = default;
};

// A span of time on a thread or device stream. On a thread, slices nest: a child lies
// within its parent's [start, start + dur].
// Fields are ordered so that op_kind fills the padding after the ids: 80 bytes, and every
// pass over millions of slices (collection, export, reading, analysis) is memory-bound.
struct Slice {
  TrackId track = 0;
  StringId name = 0;
  StringId category = 0;
  DeviceOpKind op_kind = DeviceOpKind::kNone;
  int64_t start_ns = 0;
  int64_t dur_ns = 0;
  // Correlation id of a device launch (host launch slice and device op share it); 0: none.
  uint64_t correlation_id = 0;
  // Flow ids: this slice starts flow `flow_out` and/or terminates flow `flow_in`; 0: none.
  uint64_t flow_out = 0;
  uint64_t flow_in = 0;
  std::vector<Arg> args;

  int64_t end_ns() const { return start_ns + dur_ns; }
};

// A point in time on a thread.
struct Instant {
  TrackId track = 0;
  StringId name = 0;
  StringId category = 0;
  int64_t ts_ns = 0;
  std::vector<Arg> args;
};

// One sample of a counter; `track` is a TrackKind::kCounter track named after the counter.
struct CounterSample {
  TrackId track = 0;
  int64_t ts_ns = 0;
  double value = 0;
};

// The linear map from one device's clock to host nanoseconds:
//   host_ns = offset_ns + slope_ns_per_tick * (ticks - reference_ticks)
struct ClockFit {
  std::string device;
  double tick_rate_hz = 0;
  int64_t reference_ticks = 0;
  double offset_ns = 0;
  double slope_ns_per_tick = 0;
  double drift_ppm = 0;            // fitted drift against the nominal tick rate
  int64_t pairs = 0;               // clock pairs the fit was made from
  double max_residual_ns = 0;      // largest |residual| of the pairs against the fit
  double max_half_bracket_ns = 0;  // half the widest host read bracket of a pair
  double error_bound_ns = 0;       // max_residual_ns + max_half_bracket_ns
  friend bool operator==(const ClockFit&, const ClockFit&) = default;
};

// Events a thread produced that did not reach the trace because its ring was full.
struct ThreadDrops {
  int64_t tid = 0;
  std::string thread_name;
  uint64_t dropped_events = 0;
  friend bool operator==(const ThreadDrops&, const ThreadDrops&) = default;
};

// The profiler's estimate of its own cost during the cycle (see ProfilerOptions).
struct ThreadOverhead {
  int64_t tid = 0;
  std::string thread_name;
  uint64_t events = 0;
  double overhead_ns = 0;
  double percent = 0;  // overhead_ns / cycle wall time
  friend bool operator==(const ThreadOverhead&, const ThreadOverhead&) = default;
};

struct OverheadReport {
  double scope_cost_ns = 0;    // calibrated at start(): one scope (begin + end)
  double instant_cost_ns = 0;  // one instant
  double counter_cost_ns = 0;  // one counter sample
  double total_ns = 0;         // sum over events of their cost
  double percent = 0;          // total_ns / cycle wall time, all threads together
  double budget_percent = 0;
  bool over_budget = false;
  std::vector<ThreadOverhead> threads;
  // The names producing the most events, most first, when over budget.
  std::vector<std::string> top_scopes;
  // Every decision the budget policy took ("sampled 'x' 1 in 4 from step 7", ...).
  std::vector<std::string> policy_decisions;
  friend bool operator==(const OverheadReport&, const OverheadReport&) = default;
};

struct TraceMetadata {
  std::string producer;  // "scopetrace <version>" or what another writer calls itself
  std::string worker;    // ProfilerOptions::worker_name
  int64_t pid = 0;
  int64_t cycle = 0;        // 0-based index of the cycle within the session
  int64_t first_step = -1;  // the first and last recorded step; -1 when unknown
  int64_t last_step = -1;
  bool has_schedule = false;
  Schedule schedule;
  int64_t start_ns = 0;  // cycle window on the host monotonic clock
  int64_t end_ns = 0;
  int64_t wall_clock_ns = 0;  // Unix time (ns) at start_ns: aligns traces from several processes
  std::vector<ThreadDrops> dropped;
  uint64_t dropped_events = 0;       // sum of `dropped`
  uint64_t device_records_late = 0;  // arrived after the cycle was handed over
  // Host events that began inside an earlier cycle's window but ended (and so reached the
  // collector) after that cycle was handed over: long scopes crossing the cycle's end.
  uint64_t host_events_late = 0;
  uint64_t device_records_missing = 0;  // launched in the cycle, never delivered in time
  std::vector<ClockFit> clock_fits;
  OverheadReport overhead;
  bool truncated = false;  // the reader stopped at a cut or damaged end of the file
  std::string truncation_reason;
  friend bool operator==(const TraceMetadata&, const TraceMetadata&) = default;
};

class Trace {
 public:
  Trace();

  // --- Reading -------------------------------------------------------------------
  const TraceMetadata& metadata() const { return metadata_; }
  const std::vector<Process>& processes() const { return processes_; }
  const std::vector<Track>& tracks() const { return tracks_; }
  // Slices sorted by (track, start_ns, -dur_ns): parents before their children.
  const std::vector<Slice>& slices() const { return slices_; }
  const std::vector<Instant>& instants() const { return instants_; }
  const std::vector<CounterSample>& counters() const { return counters_; }
  const std::vector<std::string>& strings() const { return strings_; }
  std::string_view str(StringId id) const { return strings_[id]; }
  // The id of `text` if any event uses it, else nullopt-like kNoString.
  static constexpr StringId kNoString = UINT32_MAX;
  StringId find_string(std::string_view text) const;
  // Number of events (slices + instants + counter samples).
  size_t event_count() const { return slices_.size() + instants_.size() + counters_.size(); }

  // Writes the trace to `path` in `format`, under a temporary name renamed when complete.
  absl::Status Write(const std::string& path, Format format) const;

  // --- Building (readers, the profiler, tests) -----------------------------------
  StringId intern(std::string_view text);
  TraceMetadata& mutable_metadata() { return metadata_; }
  // Adds the process unless one with the same pid exists; returns its index.
  size_t add_process(Process process);
  TrackId add_track(Track track);
  // The track of `kind` with this pid/tid (threads, streams) or pid/name (counters),
  // created with `name` if missing.
  TrackId find_or_add_track(TrackKind kind, int64_t pid, int64_t tid, std::string_view name);
  std::vector<Process>& mutable_processes() { return processes_; }
  std::vector<Track>& mutable_tracks() { return tracks_; }
  std::vector<Slice>& mutable_slices() { return slices_; }
  std::vector<Instant>& mutable_instants() { return instants_; }
  std::vector<CounterSample>& mutable_counters() { return counters_; }
  // Restores the documented orders (slices as above, instants and counters by track
  // then time). Builders call it once after adding events. Cost: one pass when the events
  // are already in order; otherwise linear grouping by track plus a sort of only the
  // tracks whose events are out of time order. Equal keys keep their current order.
  void SortEvents();
  // Makes room for at least this many slices, instants and counter samples in total, so a
  // builder that knows (or can estimate) how many events it will add does not regrow and
  // copy the vectors. Reserving more than is used costs address space, not memory. (No
  // huge-page advice: with Linux's default THP defrag setting an advised region is
  // compacted synchronously on its first fault, which measured slower and far less
  // predictable than 4 KiB pages.)
  void ReserveEvents(size_t slices, size_t instants, size_t counters);

 private:
  TraceMetadata metadata_;
  std::vector<Process> processes_;
  std::vector<Track> tracks_;
  std::vector<Slice> slices_;
  std::vector<Instant> instants_;
  std::vector<CounterSample> counters_;
  std::vector<std::string> strings_;
  absl::flat_hash_map<std::string, StringId> string_ids_;
};

// Reads a trace file. The format is chosen by content (JSON starts with '{' or '[';
// zstd with its magic number; otherwise Perfetto protobuf), so a misnamed file still
// reads. Errors name the file and what is wrong. A file cut short reads up to the cut
// and sets metadata().truncated.
absl::StatusOr<Trace> ReadTrace(const std::string& path);

// The format a file name asks for by its extension: ".json" → kChromeJson,
// ".pftrace" → kPerfetto, ".pftrace.zst"/".zst" → kPerfettoZstd.
absl::StatusOr<Format> FormatFromPath(std::string_view path);

}  // namespace scopetrace

#endif  // SCOPETRACE_TRACE_H_
