// Internal: the Chrome JSON reader's slice storage while a file is being read.
//
// Slices go into one vector reserved up front from an estimate (the file's size): filled in
// place, it becomes the trace's slice vector with no copy, so each slice's memory is faulted
// in once. Slices past the estimate gather in fixed-size chunks, and `MoveInto` then copies
// all of them at their exact count: growing one vector of 10 M slices would hold the old and
// the new buffer at once at each doubling, twice the model's largest part at the peak.
//
// Fresh memory is the other cost: a 10 M-event file writes some 700 MB of slices, and each
// page is zeroed by the kernel on first touch. The pages are mapped a window ahead of the
// writer with one madvise(MADV_POPULATE_WRITE) per window, not one fault per 4 KiB page.
// No huge pages: on the VMs we measure on, a fresh 2 MiB page is often memory the host
// has taken back, and zeroing it cost 3.7 s per 700 MB against 0.45 s in 4 KiB pages.
//
// Example:
//   SliceChunks slices;
//   slices.Reserve(file_bytes / 128);
//   const size_t i = slices.Add(std::move(slice));
//   slices.At(i).flow_out = id;
//   slices.MoveInto(&trace.mutable_slices());

#ifndef SCOPETRACE_EXPORTERS_JSON_SLICE_CHUNKS_H_
#define SCOPETRACE_EXPORTERS_JSON_SLICE_CHUNKS_H_

#include <cstddef>
#include <vector>

#include "scopetrace/trace.h"
#include "src/populate_pages.h"

namespace scopetrace::exporters::json {

class SliceChunks {
 public:
  // Reserves address space for `count` slices before the first Add. Pages never written
  // cost no memory, so an overestimate is cheap; an underestimate costs one copy at the end.
  // Best effort: a reservation the system refuses is skipped.
  void Reserve(size_t count);
  // Appends `slice` and returns its index (stable until MoveInto).
  size_t Add(Slice slice) {
    if (chunks_.empty() && head_.size() < head_.capacity()) {
      // head_'s reserved pages are mapped 8 MiB at a time ahead of use.
      if (head_.size() == populate_at_) populate_at_ = internal::PopulateAhead(head_);
      head_.push_back(std::move(slice));
      return head_.size() - 1;
    }
    return AddToChunk(std::move(slice));
  }
  // The slice Add returned `index` for.
  Slice& At(size_t index) {
    if (index < head_.size()) return head_[index];
    index -= head_.size();
    return chunks_[index / kChunk][index % kChunk];
  }
  size_t size() const { return head_.size() + chunked_; }
  // Appends every slice to `out` in order and leaves this empty. Chunks are freed as they
  // are moved, so the peak is one chunk over the final vector.
  void MoveInto(std::vector<Slice>* out);

 private:
  static constexpr size_t kChunk = size_t{1} << 16;
  size_t AddToChunk(Slice slice);

  std::vector<Slice> head_;
  size_t populate_at_ = 0;  // head_.size() at which the next window is mapped
  std::vector<std::vector<Slice>> chunks_;
  size_t chunked_ = 0;
};

}  // namespace scopetrace::exporters::json

#endif  // SCOPETRACE_EXPORTERS_JSON_SLICE_CHUNKS_H_
