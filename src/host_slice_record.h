// Internal: how the collector keeps a host slice until the export thread builds the
// trace's Slice from it (or, streaming, the encoding thread writes its packets).
//
// Nearly every host slice is a plain scope: a name, a category, a start and a duration.
// Kept as a Slice (80 bytes, with flows and an args vector) the collector writes, and on
// the first cycles faults in, two and a half times the memory it needs; at 10 M events/s
// that is the difference between keeping up and dropping while the memory warms up. The
// rare slice with a payload (args, a launch's correlation id) keeps it in a side table.

#ifndef SCOPETRACE_SRC_HOST_SLICE_RECORD_H_
#define SCOPETRACE_SRC_HOST_SLICE_RECORD_H_

#include <cstdint>
#include <vector>

#include "scopetrace/trace.h"

namespace scopetrace::internal {

struct HostSliceRecord {
  int64_t start_ns;
  int64_t dur_ns;
  StringId name;
  StringId category;
  // 0: a plain scope; otherwise 1 + the index of its HostSlicePayload.
  uint32_t payload;
};
static_assert(sizeof(HostSliceRecord) == 32);

struct HostSlicePayload {
  uint64_t correlation_id = 0;
  uint64_t flow_out = 0;
  std::vector<Arg> args;
};

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_HOST_SLICE_RECORD_H_
