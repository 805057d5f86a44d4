// Internal: the per-sequence and per-clock state of PerfettoDecoder (perfetto_decoder.h),
// shared by its two source files.

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_DECODER_STATE_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_DECODER_STATE_H_

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "exporters/perfetto_decoder.h"

namespace scopetrace::exporters {

inline constexpr StringId kMissingString = Trace::kNoString;

// iid → StringId for one interning table of one sequence.
struct IidMap {
  std::vector<StringId> dense;
  absl::flat_hash_map<uint64_t, StringId> sparse;

  void Clear() {
    dense.clear();
    sparse.clear();
  }
  void Set(uint64_t iid, StringId id) {
    if (iid < (1u << 20)) {
      if (dense.size() <= iid) dense.resize(iid + 1, kMissingString);
      dense[iid] = id;
    } else {
      sparse[iid] = id;
    }
  }
  StringId Get(uint64_t iid) const {
    if (iid < dense.size()) [[likely]]
      return dense[iid];
    return GetSparse(iid);
  }
  StringId GetSparse(uint64_t iid) const;  // out of line: rare
};

struct PerfettoDecoder::ClockState {
  uint64_t multiplier = 1;
  bool incremental = false;
  int64_t running_ns = 0;
  int64_t offset_ns = 0;  // trace time - this clock, from the latest snapshot
};

struct PerfettoDecoder::Sequence {
  bool valid = false;  // incremental state: invalid until SEQ_INCREMENTAL_STATE_CLEARED
  IidMap names, categories, arg_names, arg_strings;
  uint32_t default_clock = 0;
  uint64_t default_track = 0;
  absl::flat_hash_map<uint32_t, std::unique_ptr<ClockState>> clocks;  // ids 64..127
  // The clock the last packet used (clocks are never erased, so the pointer stays valid):
  // almost every packet uses the sequence's default clock, a hash lookup saved per packet.
  uint32_t last_clock_id = 0;
  ClockState* last_clock = nullptr;

  void Reset() {
    names.Clear();
    categories.Clear();
    arg_names.Clear();
    arg_strings.Clear();
    default_clock = 0;
    default_track = 0;
  }
};

}  // namespace scopetrace::exporters

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_DECODER_STATE_H_
