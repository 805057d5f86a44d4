#include "exporters/json_dur_nudges.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace scopetrace::exporters::json {
namespace {

// Tried in turn; all under half a nanosecond, so rounding to the nearest ns undoes them.
constexpr uint16_t kNudgesPs[] = {1, 10, 100, 400};
// Beyond this a duration in ps is not exact in a double, and the arithmetic below would
// no longer be the importer's.
constexpr int64_t kMaxNudgedDurNs = (int64_t{1} << 53) / 1000;

// The double a JavaScript engine reads from our text for `ns` nanoseconds in microseconds.
double MicrosAsRead(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

// The same for `ns` nanoseconds less `ps` picoseconds, as JsonOutput::MicrosLessPicos
// writes it (exact decimal picoseconds).
double MicrosLessPicosAsRead(int64_t ns, uint16_t ps) {
  return static_cast<double>(ns * 1000 - ps) / 1e6;
}

struct OpenSlice {
  int64_t end_ns;
  double end;  // as the importer computes it, after any nudge
};

}  // namespace

std::vector<uint16_t> DurNudgesPs(const Trace& trace,
                                  const std::function<int64_t(const Track&)>& file_tid) {
  const std::vector<Slice>& slices = trace.slices();
  std::vector<uint16_t> nudges(slices.size(), 0);
  // Slices grouped by the (pid, tid) they are written under: one thread for the importer.
  absl::flat_hash_map<std::pair<int64_t, int64_t>, uint32_t> group_of_thread;
  std::vector<uint32_t> group_of_track(trace.tracks().size());
  for (size_t t = 0; t < trace.tracks().size(); ++t) {
    const Track& track = trace.tracks()[t];
    const auto next = static_cast<uint32_t>(group_of_thread.size());
    group_of_track[t] =
        group_of_thread.try_emplace({track.pid, file_tid(track)}, next).first->second;
  }
  const size_t groups = group_of_thread.size();
  std::vector<uint32_t> offsets(groups + 1, 0);
  for (const Slice& s : slices) ++offsets[group_of_track[s.track] + 1];
  for (size_t g = 0; g < groups; ++g) offsets[g + 1] += offsets[g];
  std::vector<uint32_t> order(slices.size());
  {
    std::vector<uint32_t> fill(offsets.begin(), offsets.end() - 1);
    for (uint32_t i = 0; i < slices.size(); ++i) order[fill[group_of_track[slices[i].track]]++] = i;
  }
  // Negative durations are written as 0.
  auto dur = [&](uint32_t i) { return std::max<int64_t>(slices[i].dur_ns, 0); };
  // The importer's order of X events: by ts, the longer first, then file order.
  auto before = [&](uint32_t a, uint32_t b) {
    if (slices[a].start_ns != slices[b].start_ns) return slices[a].start_ns < slices[b].start_ns;
    if (dur(a) != dur(b)) return dur(a) > dur(b);
    return a < b;
  };
  // The importer's frame key: the name and the args as written (the correlation id is one).
  auto same_key = [&](uint32_t a, uint32_t b) {
    return slices[a].name == slices[b].name &&
           slices[a].correlation_id == slices[b].correlation_id && slices[a].args == slices[b].args;
  };
  constexpr double kNoLimit = std::numeric_limits<double>::infinity();
  std::vector<OpenSlice> open;
  for (size_t g = 0; g < groups; ++g) {
    uint32_t* const first = order.data() + offsets[g];
    uint32_t* const last = order.data() + offsets[g + 1];
    if (first == last) continue;
    if (!std::is_sorted(first, last, before)) std::sort(first, last, before);
    // Every ts of the thread is rebased on its first (an exact subtraction of doubles).
    const double origin = MicrosAsRead(slices[*first].start_ns);
    // The first slice (in the importer's order) that starts at `ns` or later, searched from
    // just after `p`: a slice's successor usually starts right at its end, a parent's
    // after its descendants (galloping, then binary search).
    auto first_starting_at = [&](const uint32_t* p, int64_t ns) {
      const uint32_t* lo = p + 1;
      size_t step = 1;
      while (lo + step < last && slices[lo[step]].start_ns < ns) {
        lo += step;
        step *= 2;
      }
      const uint32_t* hi = std::min<const uint32_t*>(lo + step + 1, last);
      return std::partition_point(lo, hi, [&](uint32_t i) { return slices[i].start_ns < ns; });
    };
    open.clear();
    for (const uint32_t* p = first; p != last; ++p) {
      const Slice& s = slices[*p];
      const int64_t d = dur(*p);
      int64_t end_ns;
      if (__builtin_add_overflow(s.start_ns, d, &end_ns)) continue;  // hostile values
      while (!open.empty() && open.back().end_ns <= s.start_ns) open.pop_back();
      const double begin = MicrosAsRead(s.start_ns) - origin;
      double end = begin + MicrosAsRead(d);
      // Not after the begin of the slice that starts at its exact end (the importer closes
      // first on a tie, unless both have the same key: then strictly before) ...
      const uint32_t* next = d > 0 ? first_starting_at(p, end_ns) : last;
      const bool abutted = next != last && slices[*next].start_ns == end_ns;
      const bool strictly = abutted && same_key(*p, *next);
      const double next_begin = abutted ? MicrosAsRead(end_ns) - origin : kNoLimit;
      // ... and not after its parent's end when both end together (equal is fine: the
      // importer then closes the one on top of its stack first).
      const double parent_end =
          !open.empty() && open.back().end_ns == end_ns ? open.back().end : kNoLimit;
      auto in_order = [&](double e) {
        return (strictly ? e < next_begin : e <= next_begin) && e <= parent_end;
      };
      if (!in_order(end) && d > 0 && d < kMaxNudgedDurNs) {
        for (const uint16_t ps : kNudgesPs) {
          const double nudged = begin + MicrosLessPicosAsRead(d, ps);
          if (in_order(nudged)) {
            nudges[*p] = ps;
            end = nudged;
            break;
          }
        }
      }
      open.push_back(OpenSlice{end_ns, end});
    }
  }
  return nudges;
}

}  // namespace scopetrace::exporters::json
