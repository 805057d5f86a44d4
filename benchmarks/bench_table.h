// Shared by the scopetrace benchmarks: thread CPU time, medians, and the table rows that
// scripts/bench.sh gathers into one table.
//
// Every figure is CPU time of the measuring thread (CLOCK_THREAD_CPUTIME_ID): the machines
// these run on are shared, so wall time mostly measures the neighbours. Ratios are taken
// between cases measured in the same repetition of the same binary.

#ifndef SCOPETRACE_BENCHMARKS_BENCH_TABLE_H_
#define SCOPETRACE_BENCHMARKS_BENCH_TABLE_H_

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace scopetrace::bench {

inline int64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Keeps the compiler from merging or dropping the loop bodies being timed.
inline void Clobber() { asm volatile("" : : : "memory"); }

// One row: | measurement | value | detail | target | verdict |
inline void Row(const std::string& measurement, const std::string& value, const std::string& detail,
                const std::string& target, const std::string& verdict) {
  std::printf("| %-46s | %14s | %-40s | %-22s | %-4s |\n", measurement.c_str(), value.c_str(),
              detail.c_str(), target.c_str(), verdict.c_str());
  std::fflush(stdout);
}

inline std::string Verdict(bool ok) { return ok ? "ok" : "MISS"; }

}  // namespace scopetrace::bench

#endif  // SCOPETRACE_BENCHMARKS_BENCH_TABLE_H_
