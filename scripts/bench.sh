#!/usr/bin/env bash
# Builds scopetrace in Release and runs every benchmark, printing one table (markdown):
# hot-path cost against the floor (1 and 2 threads), disabled cost, app overhead beside the
# profiler's own estimate, sustained collection, export and read throughput per format,
# then the Perfetto / analysis / launch benchmarks' figures. Details of each method are at
# the top of its benchmarks/*_benchmark.cc.
#
#   scripts/bench.sh                        # build-bench/, 11 repetitions
#   BUILD_DIR=build-ovh REPS=11 SECONDS_SUSTAINED=5 scripts/bench.sh
#   CLI_EVENTS=10000000 CLI_REPS=1 scripts/bench.sh   # the `scopetrace` command end to end
#
# Figures are CPU time of the measuring threads and ratios within one run: on a shared
# machine wall time mostly measures the neighbours. The load average is printed with them.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-bench}
reps=${REPS:-11}
sustained=${SECONDS_SUSTAINED:-5}
cli_events=${CLI_EVENTS:-10000000}
cli_reps=${CLI_REPS:-1}
jobs=${JOBS:-2}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" -j"$jobs" scope_benchmark app_overhead_benchmark collection_benchmark \
  perfetto_benchmark analysis_benchmark launch_benchmark cli_benchmark scopetrace_cli >/dev/null

echo "# scopetrace benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# command: BUILD_DIR=$build REPS=$reps SECONDS_SUSTAINED=$sustained" \
  "CLI_EVENTS=$cli_events CLI_REPS=$cli_reps scripts/bench.sh"
echo
printf '| %-46s | %14s | %-40s | %-22s | %-4s |\n' measurement value detail target ok
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "$(printf -- '-%.0s' {1..16})" \
  "$(printf -- '-%.0s' {1..42})" "$(printf -- '-%.0s' {1..24})" "$(printf -- '-%.0s' {1..6})"
"$build/scope_benchmark" --reps="$reps"
"$build/app_overhead_benchmark" --reps="$reps" 2>/dev/null
"$build/collection_benchmark" --seconds="$sustained"
# Writes a ~2.2 GB .trace.json to $TMPDIR (removed afterwards); about 2 minutes at 10 M events.
"$build/cli_benchmark" --events="$cli_events" --reps="$cli_reps" --cli="$build/scopetrace"

# The Google Benchmark suites (owned by their authors), as rows of the same table.
for bench in perfetto_benchmark analysis_benchmark launch_benchmark; do
  "$build/$bench" --benchmark_format=json --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true 2>/dev/null |
    python3 -c '
import json, sys
data = json.load(sys.stdin)
for b in data["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    name = b["run_name"].replace("BM_", "")
    parts = []
    value = "%.1f %s" % (b["cpu_time"], b["time_unit"])
    if "events/s" in b:
        value = "%.2f M events/s" % (b["events/s"] / 1e6)
        parts.append("%.1f %s CPU" % (b["cpu_time"], b["time_unit"]))
    for key in ("bytes/event", "MB/s", "bytes/slice", "ns/launch", "events", "peak_rss_mib"):
        if key in b:
            v = b[key]
            if key.startswith("ns/") and v < 1e-3:
                v *= 1e9  # an inverted rate counter is in seconds
            parts.append("%s %.4g" % (key, v))
    print("| %-46s | %14s | %-40s | %-22s | %-4s |" % (
        sys.argv[1] + ": " + name, value, ", ".join(parts), "-", ""))
' "$bench"
done
echo
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
