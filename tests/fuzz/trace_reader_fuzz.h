// Shared body of the reader fuzzers: the readers take a path (they stream from files), so
// each input is written to a file in memory-backed /dev/shm and read back. A reader may
// return an error or a (possibly truncated) trace; it must not crash, hang or leak.

#ifndef SCOPETRACE_TESTS_FUZZ_TRACE_READER_FUZZ_H_
#define SCOPETRACE_TESTS_FUZZ_TRACE_READER_FUZZ_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "scopetrace/trace.h"

namespace scopetrace::fuzz {

inline std::string InputPath(const char* kind) {
  return "/dev/shm/scopetrace_fuzz_" + std::to_string(getpid()) + "." + kind;
}

inline void ReadFromBytes(const std::string& path, const uint8_t* data, size_t size) {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return;
  if (size > 0) std::fwrite(data, 1, size, file);
  std::fclose(file);
  absl::StatusOr<Trace> trace = ReadTrace(path);
  if (trace.ok()) {
    // Touch what a caller would: every string id must be valid.
    for (const Slice& slice : trace->slices()) {
      if (slice.name >= trace->strings().size() || slice.track >= trace->tracks().size()) {
        __builtin_trap();
      }
    }
    for (const Instant& instant : trace->instants()) {
      if (instant.name >= trace->strings().size() || instant.track >= trace->tracks().size()) {
        __builtin_trap();
      }
    }
    for (const CounterSample& sample : trace->counters()) {
      if (sample.track >= trace->tracks().size()) __builtin_trap();
    }
  }
}

}  // namespace scopetrace::fuzz

#endif  // SCOPETRACE_TESTS_FUZZ_TRACE_READER_FUZZ_H_
