// Reads Chrome trace event JSON (object form with "traceEvents", or the bare array form)
// into a Trace; see json_trace_builder.h for which events become what.
//
// The file is mapped, not copied, and parsed one event at a time; pages already parsed are
// given back as the reader goes, so memory follows the model, not the file. A file that ends inside
// traceEvents (a cut copy, a crashed writer) reads up to the last complete event and says so in
// metadata().truncated; bytes that are not JSON are an error naming the byte offset.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "exporters/json_parser.h"
#include "exporters/json_trace_builder.h"
#include "exporters/json_trace_metadata.h"
#include "exporters/trace_io.h"
#include "fmt/format.h"

namespace scopetrace::exporters {
namespace {

// A read-only mapping of a whole file.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }

  absl::Status Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return absl::UnavailableError(absl::StrCat(path, ": cannot stat: ", std::strerror(err)));
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) {
      ::close(fd);
      return absl::InvalidArgumentError(absl::StrCat(path, ": empty file"));
    }
    void* data = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);
    if (data == MAP_FAILED) {
      return absl::UnavailableError(absl::StrCat(path, ": cannot map: ", std::strerror(err)));
    }
    ::madvise(data, size_, MADV_SEQUENTIAL);
    data_ = data;
    Prefetch(0);
    return absl::OkStatus();
  }
  std::string_view view() const { return {static_cast<const char*>(data_), size_}; }

  // Drops the pages before `offset` from this process (they stay in the page cache, and a
  // later read of them would fault them back in): a mapped file counts towards the process's
  // resident memory, so a 2 GB file would on top of the model. The next window is mapped in
  // with one call, not a page fault per few pages.
  void ReleaseBefore(size_t offset) {
    if (data_ == nullptr || offset < released_ + kReleaseStep) return;
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    const size_t end = std::min(offset, size_) / page * page;
    char* base = static_cast<char*>(data_);
    ::madvise(base + released_, end - released_, MADV_DONTNEED);
    released_ = end;
    Prefetch(end);
  }
  void Prefetch(size_t from) {
#ifdef MADV_POPULATE_READ
    if (from < size_) {
      ::madvise(static_cast<char*>(data_) + from, std::min(size_ - from, 2 * kReleaseStep),
                MADV_POPULATE_READ);  // best effort: older kernels refuse, faults then do it
    }
#endif
  }
  static constexpr size_t kReleaseStep = size_t{64} << 20;
  void* data_ = nullptr;
  size_t size_ = 0;
  size_t released_ = 0;
};

class Reader {
 public:
  Reader(const std::string& path, MappedFile& file)
      : path_(path), file_(file), parser_(file.view()) {
    builder_.ReserveForInput(file.view().size());
  }

  absl::StatusOr<Trace> Read() {
    absl::Status status;
    const char first = parser_.Peek();
    if (first == '[') {
      status = ReadEvents(/*bare_array=*/true);
    } else if (first == '{') {
      status = ReadObject();
    } else {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("not a Chrome trace: expected '{' or '[' at byte ", parser_.offset())));
    }
    if (status.ok() && !parser_.AtEnd()) {
      status = absl::InvalidArgumentError(
          absl::StrCat("unexpected data after the trace at byte ", parser_.offset()));
    }
    if (!status.ok()) {
      // A cut file keeps what came before the cut; damaged bytes make the file unreadable.
      if (!parser_.error_at_end()) return Fail(status);
      truncated_ = true;
      reason_ = absl::StrCat("file ends at byte ", parser_.offset(), " inside ", where_,
                             "; read the ", events_, " complete events before it");
    }
    Trace trace = builder_.Finish();
    if (truncated_) {
      trace.mutable_metadata().truncated = true;
      trace.mutable_metadata().truncation_reason = reason_;
    }
    return trace;
  }

 private:
  absl::Status Fail(const absl::Status& status) const {
    return absl::Status(status.code(), absl::StrCat(path_, ": ", status.message()));
  }

  absl::Status ReadObject() {
    where_ = "the top-level object";
    if (absl::Status s = parser_.Expect('{'); !s.ok()) return s;
    if (parser_.Peek() == '}') return parser_.Expect('}');
    while (true) {
      where_ = "the top-level object";
      std::string_view key;
      if (absl::Status s = parser_.ParseString(&key); !s.ok()) return s;
      if (absl::Status s = parser_.Expect(':'); !s.ok()) return s;
      if (key == "traceEvents") {
        if (absl::Status s = ReadEvents(/*bare_array=*/false); !s.ok()) return s;
      } else if (key == json::kScopetraceKey) {
        where_ = fmt::format("the \"{}\" object", json::kScopetraceKey);
        json::Value value;
        if (absl::Status s = parser_.ParseValue(&value); !s.ok()) return s;
        json::ScopetraceObject object;
        if (absl::Status s = json::ReadScopetraceObject(value, &object); !s.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(s.message(), " (object before byte ", parser_.offset(), ")"));
        }
        builder_.SetScopetraceObject(std::move(object));
      } else {
        // Other writers' top-level keys (metadata, displayTimeUnit, ...) are not needed.
        where_ = fmt::format("the top-level value \"{}\"", key);
        if (absl::Status s = parser_.ParseValue(&skipped_); !s.ok()) return s;
      }
      parser_.ResetArena();
      const char next = parser_.Peek();
      if (next == '}') return parser_.Expect('}');
      if (absl::Status s = parser_.Expect(','); !s.ok()) return s;
    }
  }

  // The bare array form may omit its closing ']' (Chrome allows it so a crashed writer's
  // file still loads): there the end of the file after a complete event is a normal end.
  absl::Status ReadEvents(bool bare_array) {
    where_ = "traceEvents";
    if (absl::Status s = parser_.Expect('['); !s.ok()) return s;
    if (parser_.Peek() == ']') return parser_.Expect(']');
    while (true) {
      if (bare_array && parser_.AtEnd()) return absl::OkStatus();
      if (absl::Status s = parser_.ParseEvent(&event_); !s.ok()) return s;
      builder_.AddEvent(event_);
      ++events_;
      parser_.ResetArena();
      // Nothing before this event is looked at again (the builder copied what it keeps).
      file_.ReleaseBefore(parser_.offset());
      if (bare_array && parser_.AtEnd()) return absl::OkStatus();
      if (parser_.Peek() == ']') return parser_.Expect(']');
      if (absl::Status s = parser_.Expect(','); !s.ok()) return s;
    }
  }

  const std::string& path_;
  MappedFile& file_;
  json::Parser parser_;
  json::TraceBuilder builder_;
  json::Event event_;    // reused: its values keep their capacity from event to event
  json::Value skipped_;  // top-level values the reader does not need
  std::string where_ = "the file";
  size_t events_ = 0;
  bool truncated_ = false;
  std::string reason_;
};

}  // namespace

absl::StatusOr<Trace> ReadChromeJson(const std::string& path) {
  MappedFile file;
  if (absl::Status s = file.Open(path); !s.ok()) return s;
  return Reader(path, file).Read();
}

}  // namespace scopetrace::exporters
