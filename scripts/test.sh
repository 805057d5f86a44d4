#!/usr/bin/env bash
# Builds and runs every test of scopetrace, as CI does:
#   1. the whole suite (unit, integration, examples, CLI, HTML report in headless Chromium);
#   2. the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the concurrency tests under ThreadSanitizer;
#   4. each libFuzzer target for a short fixed budget (clang).
# Installs missing Debian packages first. Ends with one line "N passed, M failed".
# Build time is what makes the run long, so: line tables only (-g1 / -gline-tables-only: enough
# for sanitizer stack traces and gtest failures, a third less compile time than -g), -O1
# under the sanitizers, and one clang build (address,undefined + fuzzer-no-link coverage)
# serves both the ASan stage and the fuzz stage. And the common headers are parsed as few
# times as we can (unity batches, precompiled headers: see fast_build below).
# SCOPETRACE_TEST_STAGES="main asan tsan fuzz" selects stages; SCOPETRACE_FUZZ_SECONDS
# sets each fuzzer's budget (default 20).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh clang libclang-rt-14-dev lld chromium || exit 2

stages=${SCOPETRACE_TEST_STAGES:-"main asan tsan fuzz"}
jobs=$(nproc)
passed=0
failed=0
log_dir=build/test-logs
mkdir -p "$log_dir"

# Runs ctest in build dir $1 (extra ctest args follow) and adds its counts to the totals.
run_ctest() {
  local dir=$1
  shift
  local log="$log_dir/$(basename "$dir").ctest.log"
  (cd "$dir" && ctest --output-on-failure -j"$jobs" "$@") 2>&1 | tee "$log" | tail -n 30
  local summary
  summary=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -n 1)
  if [[ -z "$summary" ]]; then
    echo "scopetrace: no ctest summary in $dir" >&2
    failed=$((failed + 1))
    return
  fi
  local total failures
  failures=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$summary")
  total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$summary")
  passed=$((passed + total - failures))
  failed=$((failed + failures))
}

# Configures and builds $1 with the remaining cmake arguments; a build failure counts as
# one failed test so the closing line never hides it.
build() {
  local dir=$1
  shift
  echo "== configure and build $dir"
  local build_start=$SECONDS cpu_start
  children_cpu
  cpu_start=$cpu
  if ! cmake -S . -B "$dir" -G Ninja "$@" >"$log_dir/$(basename "$dir").configure.log" 2>&1; then
    tail -n 30 "$log_dir/$(basename "$dir").configure.log"
    failed=$((failed + 1))
    return 1
  fi
  if ! cmake --build "$dir" -j"$jobs" >"$log_dir/$(basename "$dir").build.log" 2>&1; then
    grep -E "error|FAILED" "$log_dir/$(basename "$dir").build.log" | head -n 40
    failed=$((failed + 1))
    return 1
  fi
  children_cpu
  echo "== built $dir in $((SECONDS - build_start)) s ($((cpu - cpu_start)) s CPU, load $(cut -d' ' -f1 /proc/loadavg))"
}

# Sets cpu to the CPU seconds (user + sys) of this shell's finished children so far
# (`times` in this shell, not in a $(...) subshell, which has no children of its own).
children_cpu() {
  times >"$log_dir/times.txt"
  cpu=$(tail -n 1 "$log_dir/times.txt" |
    awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } printf "%d\n", s }')
}

# Line tables instead of full debug info; -O1 under the sanitizers (-O2 in main, whose
# tests time real work).
main_flags="-O2 -g1 -DNDEBUG"
sanitizer_flags="-O1 -g1 -DNDEBUG"
# Every stage's build parses the common headers less often, by compiling the library in
# unity batches and precompiling the headers of the tests (and of the tool, examples and
# benchmarks): together about half the CPU of compiling file by file. The price, a missing
# #include going unnoticed, is paid here and not in developers' builds, which leave both
# off. lld links the forty-odd executables in a quarter of ld.bfd's time.
fast_build=(-DSCOPETRACE_UNITY_BUILD=ON -DSCOPETRACE_PRECOMPILE_HEADERS=ON
  -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld)
asan_built=0
start=$SECONDS
for stage in $stages; do
  stage_start=$SECONDS
  case $stage in
    main)
      build build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo "${fast_build[@]}" \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$main_flags" && run_ctest build/test
      ;;
    asan)
      # clang, so that the same build also has the libFuzzer targets (the fuzz stage runs
      # them from here); CXX=clang++ for the consumer project that consumer_install_test
      # builds against this build's sanitized library.
      # A build dir configured earlier with another compiler keeps it: start that one afresh.
      grep -qs "CMAKE_CXX_COMPILER:.*clang++" build/asan/CMakeCache.txt ||
        rm -rf build/asan/CMakeCache.txt build/asan/CMakeFiles
      CC=clang CXX=clang++ build build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo "${fast_build[@]}" \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$sanitizer_flags" \
        -DSCOPETRACE_SANITIZE=address,undefined,fuzzer-no-link -DSCOPETRACE_BUILD_FUZZERS=ON \
        -DSCOPETRACE_BUILD_BENCHMARKS=OFF &&
        asan_built=1 &&
        CC=clang CXX=clang++ ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
          UBSAN_OPTIONS=print_stacktrace=1 run_ctest build/asan -E "_perf_"
      ;;
    tsan)
      # Only what runs threads against each other; the rest gains nothing from TSan.
      # The Perfetto reader: its zstd read-ahead and page populator threads (its two
      # single-threaded tests that take ~27 s under TSan are left to the other stages).
      # Streaming: the collector, encoder and zstd threads hand chunks over; its 900 k-scope
      # test takes ~110 s under TSan and adds no handover the other three lack (~22 s).
      build build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo "${fast_build[@]}" \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$sanitizer_flags" -DSCOPETRACE_SANITIZE=thread \
        -DSCOPETRACE_BUILD_BENCHMARKS=OFF -DSCOPETRACE_BUILD_EXAMPLES=OFF \
        -DSCOPETRACE_BUILD_TOOLS=OFF \
        "-DSCOPETRACE_TESTS_MATCHING=ring_buffer|profiler_test|capture_stress|sim_device|device_hub|device_profiler|fault|streaming|host_slice_runs|perfetto_reader" &&
        TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
          GTEST_FILTER="-StreamingTest.LongCyclesStreamEveryEventToPerfettoAndJson:PerfettoReader.InterleavedTracks*:PerfettoReader.DeepAnnotation*" \
          run_ctest build/tsan
      ;;
    fuzz)
      # The asan stage's build has the fuzzers; without it fuzz.sh builds its own.
      if [[ $asan_built -eq 1 ]]; then
        SCOPETRACE_FUZZ_BUILD_DIR=build/asan bash scripts/fuzz.sh "${SCOPETRACE_FUZZ_SECONDS:-20}"
      else
        bash scripts/fuzz.sh "${SCOPETRACE_FUZZ_SECONDS:-20}"
      fi
      fuzz_status=$?
      if [[ $fuzz_status -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
      ;;
    *)
      echo "scopetrace: unknown stage $stage" >&2
      failed=$((failed + 1))
      ;;
  esac
  echo "== stage $stage took $((SECONDS - stage_start)) s"
done
echo "scopetrace test stages [$stages] took $((SECONDS - start)) s"
echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
