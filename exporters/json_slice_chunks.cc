#include "exporters/json_slice_chunks.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <new>
#include <stdexcept>
#include <utility>

#include "src/populate_pages.h"

namespace scopetrace::exporters::json {

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

size_t SliceChunks::AddToChunk(Slice slice) {
  if (chunks_.empty() || chunks_.back().size() == kChunk) {
    std::vector<Slice>& chunk = chunks_.emplace_back();
    chunk.reserve(kChunk);
    internal::PopulateForWrite(chunk.data(), kChunk * sizeof(Slice));
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
  internal::PopulateForWrite(out->data() + before, size() * sizeof(Slice));
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
