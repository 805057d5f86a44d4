#!/usr/bin/env bash
# Builds scopetrace and runs the demo: the simulated inference app, profiled, naive and
# tuned, with both summaries, both diagnoses and the speedup. Traces land in out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSCOPETRACE_BUILD_TESTS=OFF -DSCOPETRACE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build/release -j"$jobs" --target inference_app scopetrace_cli >/dev/null
mkdir -p out/demo
PATH="$PWD/build/release:$PATH" build/release/inference_app --out out/demo "$@"
