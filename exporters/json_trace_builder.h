// Internal: turns Chrome trace events (parsed one at a time) into a Trace.
//
// Handles what our writer emits and what Chrome and the PyTorch profiler write: X, B/E
// (paired per thread by a stack), i/I/n instants, C counters (one track per arg key), M names
// and sort indices, flows as s/t/f events or bind_id + flow_in/flow_out. pid and tid may be
// numbers or strings. With our "scopetrace" object the exact process/track layout is
// restored; without it device processes are recognized by device-op categories.

#ifndef SCOPETRACE_EXPORTERS_JSON_TRACE_BUILDER_H_
#define SCOPETRACE_EXPORTERS_JSON_TRACE_BUILDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "exporters/json_parser.h"
#include "exporters/json_slice_chunks.h"
#include "exporters/json_trace_metadata.h"
#include "scopetrace/trace.h"

namespace scopetrace::exporters::json {

class TraceBuilder {
 public:
  TraceBuilder();

  // Sizes the slice storage for an input of this many bytes (once, before the first event):
  // the slices are then written once, in place, instead of copied at the end.
  void ReserveForInput(size_t input_bytes) { slices_.Reserve(input_bytes / kMinBytesPerSlice); }
  // One element of traceEvents. Elements that are not event objects are ignored.
  void AddEvent(const Event& event);
  // The file's "scopetrace" object, if it has one.
  void SetScopetraceObject(ScopetraceObject object) { layout_ = std::move(object); }
  // Resolves flows and tracks, sorts, and hands over the trace.
  Trace Finish();

 private:
  // A track as events name it, before the final layout is known.
  struct PendingTrack {
    bool counter = false;
    int64_t pid = 0;
    int64_t tid = 0;
    std::string name;
    bool has_name = false;
    int32_t sort_index = 0;
    bool device_stream = false;  // named as a stream by our writer's thread_name event
  };
  struct PendingProcess {
    int64_t pid = 0;
    std::string name;
    bool has_name = false;
    int32_t sort_index = 0;
    bool device = false;  // marked as a device by our writer's process_name event
  };
  // A flow phase that could not be bound to the slice written just before it.
  struct PendingFlow {
    TrackId track = 0;
    int64_t ts_ns = 0;
    uint64_t id = 0;
    char phase = 's';
    bool enclosing = false;
  };

  int64_t IdOf(const Value* value, bool is_pid);
  TrackId ThreadTrack(int64_t pid, int64_t tid);
  TrackId CounterTrack(int64_t pid, std::string_view name);
  PendingProcess& ProcessOf(int64_t pid);
  std::vector<Arg> ConvertArgs(const Value* args, uint64_t* correlation_id);
  void AddSlice(Slice slice);
  void MoveSlicesIntoTrace();
  void AddCounter(const Event& event, int64_t pid, int64_t ts_ns);
  void AddMetadataEvent(const Event& event, int64_t pid, int64_t tid);
  void AddFlowPhase(char phase, const Event& event, TrackId track, int64_t ts_ns);
  void BindFlow(Slice& slice, char phase, uint64_t id);
  void ResolvePendingFlows();
  void BuildLayout();

  // The shortest slice events in practice (X with short names, no args) take about 85
  // bytes; real files average 200 or more. Reserving for more costs address space only.
  static constexpr size_t kMinBytesPerSlice = 96;
  SliceChunks slices_;  // moved into trace_ by Finish
  Trace trace_;
  std::vector<PendingTrack> tracks_;
  absl::flat_hash_map<std::pair<int64_t, int64_t>, TrackId> thread_tracks_;
  std::optional<std::pair<std::pair<int64_t, int64_t>, TrackId>> last_thread_;
  absl::flat_hash_map<std::pair<int64_t, std::string>, TrackId> counter_tracks_;
  std::vector<PendingProcess> processes_;
  absl::flat_hash_map<int64_t, size_t> process_index_;
  absl::flat_hash_map<std::string, int64_t> string_ids_;
  absl::flat_hash_map<TrackId, std::vector<Slice>> open_slices_;  // B events awaiting E
  // The slice the previous event added, for binding flow phases written right after it.
  std::optional<size_t> last_slice_;
  std::vector<PendingFlow> pending_flows_;
  std::optional<ScopetraceObject> layout_;
  StringId correlation_key_ = 0;
};

}  // namespace scopetrace::exporters::json

#endif  // SCOPETRACE_EXPORTERS_JSON_TRACE_BUILDER_H_
