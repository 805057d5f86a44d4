#include "exporters/json_slice_chunks.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <new>
#include <stdexcept>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace scopetrace::exporters::json {
namespace {

// Maps the whole pages inside [data, data + bytes) for writing in one call. Advice only: a
// kernel without MADV_POPULATE_WRITE (before 5.14) refuses it, and the writes fault instead.
void PopulateForWrite(const void* data, size_t bytes) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
  static const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto first = reinterpret_cast<uintptr_t>(data);
  const uintptr_t begin = (first + page - 1) & ~(page - 1);
  const uintptr_t end = (first + bytes) & ~(page - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#else
  (void)data;
  (void)bytes;
#endif
}

}  // namespace

void SliceChunks::Reserve(size_t count) {
  if (!head_.empty() || !chunks_.empty() || count <= head_.capacity()) return;
  try {
    head_.reserve(count);
  } catch (const std::bad_alloc&) {
    return;  // the chunks take everything
  } catch (const std::length_error&) {
    return;
  }
}

void SliceChunks::PopulateHeadWindow() {
  // Windows meet at slice boundaries, so the page a boundary falls in is faulted, not
  // populated: one page in 2,048.
  const size_t end = std::min(head_.capacity(), populate_at_ + kWindow);
  PopulateForWrite(head_.data() + populate_at_, (end - populate_at_) * sizeof(Slice));
  populate_at_ = end;
}

size_t SliceChunks::AddToChunk(Slice slice) {
  if (chunks_.empty() || chunks_.back().size() == kChunk) {
    std::vector<Slice>& chunk = chunks_.emplace_back();
    chunk.reserve(kChunk);
    PopulateForWrite(chunk.data(), kChunk * sizeof(Slice));
  }
  chunks_.back().push_back(std::move(slice));
  return head_.size() + chunked_++;
}

void SliceChunks::MoveInto(std::vector<Slice>* out) {
  if (out->empty() && chunks_.empty()) {
    // Everything fit the reservation: hand it over as it is (unused capacity is address
    // space only).
    out->swap(head_);
    head_ = {};
    populate_at_ = 0;
    return;
  }
  const size_t before = out->size();
  out->reserve(before + size());
  PopulateForWrite(out->data() + before, size() * sizeof(Slice));
  std::move(head_.begin(), head_.end(), std::back_inserter(*out));
  std::vector<Slice>().swap(head_);
  populate_at_ = 0;
  for (std::vector<Slice>& chunk : chunks_) {
    std::move(chunk.begin(), chunk.end(), std::back_inserter(*out));
    std::vector<Slice>().swap(chunk);  // freed as it goes
  }
  chunks_.clear();
  chunked_ = 0;
}

}  // namespace scopetrace::exporters::json
