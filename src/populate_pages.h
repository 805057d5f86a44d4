// Internal: maps memory for writing ahead of the code that fills it.
//
// Threads' rings: their first lap would otherwise fault a page per ~170 records in the
// instrumented thread's hot path (ThreadState::MapRingAhead).
// The trace readers fill hundreds of MiB of fresh slice storage. Faulting it in one 4 KiB
// page at a time costs a kernel entry per page; one madvise(MADV_POPULATE_WRITE) per
// window of several MiB maps the same pages in a fraction of the time. (Huge pages were
// tried first: with Linux's default THP defrag setting an advised region is compacted
// synchronously on its first fault, measured up to 5x slower per byte on our VMs and far
// less predictable.)

#ifndef SCOPETRACE_SRC_POPULATE_PAGES_H_
#define SCOPETRACE_SRC_POPULATE_PAGES_H_

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace scopetrace::internal {

// Maps the pages [begin, end) (page-aligned addresses) for writing in one call. Advice
// only: a kernel without MADV_POPULATE_WRITE (before 5.14) refuses it, and the writes fault
// instead.
inline void PopulatePagesForWrite(uintptr_t begin, uintptr_t end) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#else
  (void)begin;
  (void)end;
#endif
}

inline uintptr_t PageSize() {
#if defined(__linux__)
  static const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  return page;
#else
  return 4096;
#endif
}

// The page-aligned [begin, end) of the whole pages inside [data, data + bytes) (empty:
// begin >= end).
inline std::pair<uintptr_t, uintptr_t> WholePagesInside(const void* data, size_t bytes) {
  const uintptr_t page = PageSize();
  const auto first = reinterpret_cast<uintptr_t>(data);
  return {(first + page - 1) & ~(page - 1), (first + bytes) & ~(page - 1)};
}

// Maps the whole pages inside [data, data + bytes) for writing.
inline void PopulateForWrite(const void* data, size_t bytes) {
  const auto [begin, end] = WholePagesInside(data, bytes);
  PopulatePagesForWrite(begin, end);
}

// Maps every page that [data, data + bytes) touches, partial pages at either end included,
// for writing. For memory another thread may be writing right now (a thread's ring):
// populating never changes a byte, it only maps what is not mapped yet. The range must lie
// in one live allocation, so the pages it touches are part of the process's mappings.
inline void PopulateCoveringForWrite(const void* data, size_t bytes) {
  if (bytes == 0) return;
  const uintptr_t page = PageSize();
  const auto first = reinterpret_cast<uintptr_t>(data);
  PopulatePagesForWrite(first & ~(page - 1), (first + bytes + page - 1) & ~(page - 1));
}

// Maps the next `window_bytes` of `v`'s spare capacity (or what is left of it) for
// writing, for a writer that fills `v` by push_back. Returns the size at which the next
// window is due: past the end of this one, and always past the current size.
template <typename T>
size_t PopulateAhead(std::vector<T>& v, size_t window_bytes = size_t{8} << 20) {
  const size_t end = std::min(v.capacity(), v.size() + window_bytes / sizeof(T));
  PopulateForWrite(v.data() + v.size(), (end - v.size()) * sizeof(T));
  return std::max(end, v.size() + 1);
}

}  // namespace scopetrace::internal

#endif  // SCOPETRACE_SRC_POPULATE_PAGES_H_
