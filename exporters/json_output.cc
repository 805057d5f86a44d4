#include "exporters/json_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "exporters/json_string.h"
#include "fmt/format.h"

namespace scopetrace::exporters::json {

JsonOutput::~JsonOutput() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status JsonOutput::Open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat(path, ": cannot create file: ", std::strerror(errno)));
  }
  buffer_.reserve(kFlushBytes + (1 << 16));
  return absl::OkStatus();
}

void JsonOutput::Flush() {
  if (!status_.ok() || fd_ < 0) {
    buffer_.clear();
    return;
  }
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      status_ = absl::DataLossError(absl::StrCat(path_, ": write failed: ", std::strerror(errno)));
      break;
    }
    if (n == 0) {
      status_ = absl::DataLossError(absl::StrCat(path_, ": write wrote nothing (disk full?)"));
      break;
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
}

absl::Status JsonOutput::Close() {
  Flush();
  if (fd_ >= 0) {
    // close() can report a deferred write error (NFS, quota): it is part of the result.
    if (::close(fd_) != 0 && status_.ok()) {
      status_ = absl::DataLossError(absl::StrCat(path_, ": close failed: ", std::strerror(errno)));
    }
    fd_ = -1;
  }
  return status_;
}

void JsonOutput::Int(int64_t value) {
  const fmt::format_int text(value);
  buffer_.append(text.data(), text.size());
}

void JsonOutput::Uint(uint64_t value) {
  const fmt::format_int text(value);
  buffer_.append(text.data(), text.size());
}

void JsonOutput::Double(double value) {
  if (std::isnan(value)) {
    Raw("null");
    return;
  }
  if (std::isinf(value)) {
    Raw(value > 0 ? "1e999" : "-1e999");
    return;
  }
  const size_t start = buffer_.size();
  fmt::format_to(std::back_inserter(buffer_), "{}", value);
  if (buffer_.find_first_of(".eE", start) == std::string::npos) buffer_.append(".0");
  MaybeFlush();
}

void JsonOutput::Micros(int64_t ns) {
  const uint64_t magnitude = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  if (ns < 0) buffer_.push_back('-');
  Uint(magnitude / 1000);
  const auto frac = static_cast<unsigned>(magnitude % 1000);
  if (frac != 0) {
    const char text[4] = {'.', static_cast<char>('0' + frac / 100),
                          static_cast<char>('0' + frac / 10 % 10),
                          static_cast<char>('0' + frac % 10)};
    buffer_.append(text, 4);
  }
}

void JsonOutput::MicrosLessPicos(int64_t ns, uint16_t ps) {
  if (ps == 0) {
    Micros(ns);
    return;
  }
  const uint64_t picos = static_cast<uint64_t>(ns) * 1000 - ps;
  Uint(picos / 1'000'000);
  char text[7] = {'.'};
  uint64_t frac = picos % 1'000'000;
  for (int i = 6; i >= 1; --i, frac /= 10) text[i] = static_cast<char>('0' + frac % 10);
  size_t len = 7;
  while (text[len - 1] == '0') --len;  // ps > 0 and < 1000: a non-zero digit remains
  buffer_.append(text, len);
}

void JsonOutput::String(std::string_view text) {
  AppendJsonString(text, &buffer_);
  MaybeFlush();
}

}  // namespace scopetrace::exporters::json
