#include "exporters/json_slice_chunks.h"

#include <cstdint>
#include <iterator>
#include <new>
#include <utility>

#include "src/huge_pages.h"

namespace scopetrace::exporters::json {

using internal::AdviseHugePages;
void SliceChunks::Reserve(size_t count) {
  if (!head_.empty() || !chunks_.empty() || count <= head_.capacity()) return;
  try {
    head_.reserve(count);
  } catch (const std::bad_alloc&) {
    return;  // the chunks take everything
  } catch (const std::length_error&) {
    return;
  }
  // A 10 M-event trace writes about 1 GB of slices: faulting that in 4 KiB pages cost a
  // second of system time.
  AdviseHugePages(head_.data(), head_.capacity() * sizeof(Slice));
}

size_t SliceChunks::AddToChunk(Slice slice) {
  if (chunks_.empty() || chunks_.back().size() == kChunk) {
    std::vector<Slice>& chunk = chunks_.emplace_back();
    chunk.reserve(kChunk);
    AdviseHugePages(chunk.data(), kChunk * sizeof(Slice));
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
    return;
  }
  out->reserve(out->size() + size());
  AdviseHugePages(out->data(), out->capacity() * sizeof(Slice));
  std::move(head_.begin(), head_.end(), std::back_inserter(*out));
  std::vector<Slice>().swap(head_);
  for (std::vector<Slice>& chunk : chunks_) {
    std::move(chunk.begin(), chunk.end(), std::back_inserter(*out));
    std::vector<Slice>().swap(chunk);  // freed as it goes
  }
  chunks_.clear();
  chunked_ = 0;
}

}  // namespace scopetrace::exporters::json
