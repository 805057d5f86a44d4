// Test helper for the analysis tests: builds traces whose every number is known, in
// microseconds, through the Trace builder API.

#ifndef SCOPETRACE_TESTS_ANALYSIS_TRACE_BUILDER_H_
#define SCOPETRACE_TESTS_ANALYSIS_TRACE_BUILDER_H_

#include <string>
#include <string_view>
#include <vector>

#include "scopetrace/trace.h"

namespace scopetrace::testing {

inline constexpr int64_t kUs = 1000;  // ns per µs

class TraceBuilder {
 public:
  static constexpr int64_t kHostPid = 100;

  TraceBuilder() {
    trace_.add_process({.pid = kHostPid, .name = "app"});
    main_ = Thread(1, "main");
  }

  TrackId main() const { return main_; }
  TrackId Thread(int64_t tid, std::string_view name) {
    return trace_.find_or_add_track(TrackKind::kThread, kHostPid, tid, name);
  }
  // Stream `stream` of device `device` (pid kDevicePidBase + device, named "sim<device>").
  TrackId Stream(int device, int stream) {
    const int64_t pid = kDevicePidBase + device;
    trace_.add_process({.pid = pid, .name = "sim" + std::to_string(device), .is_device = true});
    return trace_.find_or_add_track(TrackKind::kDeviceStream, pid, stream,
                                    "stream " + std::to_string(stream));
  }

  // A host slice [start_us, start_us + dur_us).
  Slice& Host(TrackId track, std::string_view name, double start_us, double dur_us,
              std::string_view category = "host") {
    Slice& s = trace_.mutable_slices().emplace_back();
    s.track = track;
    s.name = trace_.intern(name);
    s.category = trace_.intern(category);
    s.start_ns = static_cast<int64_t>(start_us * kUs);
    s.dur_ns = static_cast<int64_t>(dur_us * kUs);
    return s;
  }
  Slice& Step(int64_t n, double start_us, double dur_us) {
    return Host(main_, "ProfilerStep#" + std::to_string(n), start_us, dur_us, "step");
  }
  // A device op with no launch.
  Slice& DeviceOp(TrackId stream, DeviceOpKind kind, std::string_view name, double start_us,
                  double dur_us) {
    Slice& s = Host(stream, name, start_us, dur_us, DeviceOpKindCategory(kind));
    s.op_kind = kind;
    return s;
  }
  // A host launch slice on `host` and the device op it caused, joined by a fresh
  // correlation id (and flow).
  void Launch(TrackId host, std::string_view host_name, double launch_start_us,
              double launch_dur_us, TrackId stream, DeviceOpKind kind, std::string_view op_name,
              double op_start_us, double op_dur_us) {
    const uint64_t id = ++last_correlation_id_;
    Slice& launch = Host(host, host_name, launch_start_us, launch_dur_us, "launch");
    launch.correlation_id = id;
    launch.flow_out = id;
    Slice& op = DeviceOp(stream, kind, op_name, op_start_us, op_dur_us);
    op.correlation_id = id;
    op.flow_in = id;
  }
  void Kernel(TrackId host, double launch_start_us, double launch_dur_us, TrackId stream,
              std::string_view name, double start_us, double dur_us) {
    Launch(host, "launch " + std::string(name), launch_start_us, launch_dur_us, stream,
           DeviceOpKind::kKernel, name, start_us, dur_us);
  }

  Trace& trace() { return trace_; }
  Trace Build(bool sort = true) {
    if (sort) trace_.SortEvents();
    return std::move(trace_);
  }

 private:
  Trace trace_;
  TrackId main_ = 0;
  uint64_t last_correlation_id_ = 0;
};

}  // namespace scopetrace::testing

#endif  // SCOPETRACE_TESTS_ANALYSIS_TRACE_BUILDER_H_
