#include "scopetrace/trace.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "src/event_sort.h"

namespace scopetrace {

std::string_view DeviceOpKindCategory(DeviceOpKind kind) {
  switch (kind) {
    case DeviceOpKind::kNone:
      return "";
    case DeviceOpKind::kKernel:
      return "kernel";
    case DeviceOpKind::kMemcpyH2D:
      return "memcpy_h2d";
    case DeviceOpKind::kMemcpyD2H:
      return "memcpy_d2h";
    case DeviceOpKind::kMemset:
      return "memset";
    case DeviceOpKind::kSync:
      return "sync";
  }
  return "";
}

DeviceOpKind DeviceOpKindFromCategory(std::string_view category) {
  for (DeviceOpKind kind : {DeviceOpKind::kKernel, DeviceOpKind::kMemcpyH2D,
                            DeviceOpKind::kMemcpyD2H, DeviceOpKind::kMemset, DeviceOpKind::kSync}) {
    if (category == DeviceOpKindCategory(kind)) return kind;
  }
  return DeviceOpKind::kNone;
}

std::string_view FormatExtension(Format format) {
  switch (format) {
    case Format::kChromeJson:
      return ".trace.json";
    case Format::kPerfetto:
      return ".pftrace";
    case Format::kPerfettoZstd:
      return ".pftrace.zst";
    default:
      return "";
  }
}

Trace::Trace() { intern(""); }

namespace {
// Debian's abseil has its own string_view type; heterogeneous lookup needs that one.
absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }
}  // namespace

StringId Trace::intern(std::string_view text) {
  auto it = string_ids_.find(AsAbsl(text));
  if (it != string_ids_.end()) return it->second;
  const StringId id = static_cast<StringId>(strings_.size());
  strings_.emplace_back(text);
  string_ids_.emplace(strings_.back(), id);
  return id;
}

StringId Trace::find_string(std::string_view text) const {
  auto it = string_ids_.find(AsAbsl(text));
  return it == string_ids_.end() ? kNoString : it->second;
}

size_t Trace::add_process(Process process) {
  for (size_t i = 0; i < processes_.size(); ++i) {
    if (processes_[i].pid == process.pid) return i;
  }
  processes_.push_back(std::move(process));
  return processes_.size() - 1;
}

TrackId Trace::add_track(Track track) {
  tracks_.push_back(std::move(track));
  return static_cast<TrackId>(tracks_.size() - 1);
}

TrackId Trace::find_or_add_track(TrackKind kind, int64_t pid, int64_t tid, std::string_view name) {
  for (size_t i = 0; i < tracks_.size(); ++i) {
    const Track& t = tracks_[i];
    if (t.kind != kind || t.pid != pid) continue;
    if (kind == TrackKind::kCounter ? t.name == name : t.tid == tid) {
      return static_cast<TrackId>(i);
    }
  }
  return add_track(Track{.kind = kind, .pid = pid, .tid = tid, .name = std::string(name)});
}

// The sort lives with the profiler's own (src/event_sort.h): one implementation, tuned
// for how events arrive from rings and from files.
void Trace::SortEvents() { internal::SortTraceEvents(*this); }

// The layout comment on Slice: keep it at 80 bytes on 64-bit targets.
static_assert(sizeof(void*) != 8 || sizeof(Slice) == 80, "Slice grew: see its layout comment");

void Trace::ReserveEvents(size_t slices, size_t instants, size_t counters) {
  slices_.reserve(slices);
  instants_.reserve(instants);
  counters_.reserve(counters);
}

}  // namespace scopetrace
