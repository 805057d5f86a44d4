#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined; the library
# with coverage instrumentation) and runs each for a fixed budget, seeded with the traces
# in tests/fuzz/corpus/. Usage: scripts/fuzz.sh [seconds per target, default 20]
# A crash, leak or timeout fails the run and leaves the reproducer in build/fuzz/artifacts.
# SCOPETRACE_FUZZ_BUILD_DIR=DIR runs the *_fuzzer binaries already built in DIR (configured
# with -DSCOPETRACE_SANITIZE=address,undefined,fuzzer-no-link -DSCOPETRACE_BUILD_FUZZERS=ON,
# as scripts/test.sh's asan stage does) instead of building build/fuzz.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
bash scripts/install-deps.sh clang libclang-rt-14-dev || exit 2
dir=${SCOPETRACE_FUZZ_BUILD_DIR:-build/fuzz}
mkdir -p "$dir/artifacts" build/test-logs
if [[ -z ${SCOPETRACE_FUZZ_BUILD_DIR:-} ]]; then
  # Line tables only (-g1): enough for the crash stacks, much cheaper to compile than -g.
  # The library in unity batches, as scripts/test.sh builds it: about half the compile time.
  if ! CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" -DSCOPETRACE_UNITY_BUILD=ON \
      -DSCOPETRACE_SANITIZE=address,undefined,fuzzer-no-link -DSCOPETRACE_BUILD_FUZZERS=ON \
      -DSCOPETRACE_BUILD_TESTS=OFF -DSCOPETRACE_BUILD_BENCHMARKS=OFF \
      -DSCOPETRACE_BUILD_EXAMPLES=OFF -DSCOPETRACE_BUILD_TOOLS=OFF >build/test-logs/fuzz.configure.log 2>&1; then
    tail -n 20 build/test-logs/fuzz.configure.log
    exit 1
  fi
  if ! cmake --build "$dir" -j"$(nproc)" >build/test-logs/fuzz.build.log 2>&1; then
    grep -E "error|FAILED" build/test-logs/fuzz.build.log | head -n 40
    exit 1
  fi
fi
fuzzers=("$dir"/*_fuzzer)
if [[ ! -x ${fuzzers[0]} ]]; then
  echo "scopetrace: no *_fuzzer binaries in $dir" >&2
  exit 1
fi
status=0
for fuzzer in "${fuzzers[@]}"; do
  name=$(basename "$fuzzer")
  corpus="$dir/corpus/$name"
  mkdir -p "$corpus"
  # Each target is seeded with the traces of its format (the JSON target skips nothing,
  # but binary seeds would only teach it to start with '{').
  case $name in
    json_*) seeds=(tests/fuzz/corpus/*.json) ;;
    perfetto_*) seeds=(tests/fuzz/corpus/*.pftrace tests/fuzz/corpus/*.pftrace.zst) ;;
    *) seeds=(tests/fuzz/corpus/*) ;;
  esac
  for seed in "${seeds[@]}"; do
    [[ -f $seed ]] && cp -n "$seed" "$corpus"/
  done
  echo "== $name for ${seconds}s"
  if ! "$fuzzer" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$dir/artifacts/$name-" -print_final_stats=1 \
      >"build/test-logs/$name.log" 2>&1; then
    echo "$name FAILED:"
    tail -n 40 "build/test-logs/$name.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build/test-logs/$name.log"
  fi
done
exit $status
