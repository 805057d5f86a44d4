#!/usr/bin/env bash
# Builds and runs every test of scopetrace, as CI does:
#   1. the whole suite (unit, integration, examples, CLI, HTML report in headless Chromium);
#   2. the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the concurrency tests under ThreadSanitizer;
#   4. each libFuzzer target for a short fixed budget (clang).
# Installs missing Debian packages first. Ends with one line "N passed, M failed".
# SCOPETRACE_TEST_STAGES="main asan tsan fuzz" selects stages; SCOPETRACE_FUZZ_SECONDS
# sets each fuzzer's budget (default 20).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh clang libclang-rt-14-dev chromium || exit 2

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
  local build_start=$SECONDS
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
  echo "== built $dir in $((SECONDS - build_start)) s"
}

start=$SECONDS
for stage in $stages; do
  stage_start=$SECONDS
  case $stage in
    main)
      build build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo && run_ctest build/test
      ;;
    asan)
      build build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCOPETRACE_SANITIZE=address,undefined \
        -DSCOPETRACE_BUILD_BENCHMARKS=OFF &&
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
          run_ctest build/asan -E "_perf_"
      ;;
    tsan)
      # Only what runs threads against each other; the rest gains nothing from TSan.
      build build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCOPETRACE_SANITIZE=thread \
        -DSCOPETRACE_BUILD_BENCHMARKS=OFF -DSCOPETRACE_BUILD_EXAMPLES=OFF \
        -DSCOPETRACE_BUILD_TOOLS=OFF \
        "-DSCOPETRACE_TESTS_MATCHING=ring_buffer|profiler_test|capture_stress|sim_device|device_hub|device_profiler|fault" &&
        TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" run_ctest build/tsan
      ;;
    fuzz)
      bash scripts/fuzz.sh "${SCOPETRACE_FUZZ_SECONDS:-20}"
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
