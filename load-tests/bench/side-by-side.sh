#!/usr/bin/env bash
# One side-by-side measurement of the gateway (the ../shared/bench workload: wrk, 8 connections, 100-span OTLP/HTTP
# requests with fresh trace IDs): starts the trace sink and the gateway as their own processes, runs measure.sh
# against the gateway's PID, stops both (by PID). From the repository root, after `mvn package`:
#   load-tests/bench/side-by-side.sh NAME CONFIG [JVM options...]
# env: BENCH (dir of measure.sh, default ../shared/bench), LAUNCH (command that starts the gateway; default plain
# java), DUR, WARM, BODIES, N as for measure.sh.
set -euo pipefail
name=$1; config=$2; shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
bench=${BENCH:-$root/../shared/bench}
export BENCH_HTTP_PORT=${BENCH_HTTP_PORT:-14318} BENCH_GRPC_PORT=${BENCH_GRPC_PORT:-14317}
export BENCH_SINK_PORT=${BENCH_SINK_PORT:-14319} BENCH_ADMIN_PORT=${BENCH_ADMIN_PORT:-14888}
out=${OUT_DIR:-/tmp/bench/out}; mkdir -p "$out"
java -Xmx512m -cp "$root/load-tests/target/benchmarks.jar" dev.telemetry.gateway.loadtest.BenchSink \
  "$BENCH_SINK_PORT" > "$out/$name.sink.txt" 2>&1 &
sink=$!
if [[ -n "${LAUNCH:-}" ]]; then
  JAVA_OPTS="$*" $LAUNCH --config "$config" > "$out/$name.gateway.txt" 2>&1 &
else
  java "$@" -jar "$root/gateway/target/telemetry-gateway.jar" --config "$config" > "$out/$name.gateway.txt" 2>&1 &
fi
gw=$!
trap 'kill $gw $sink 2>/dev/null || true; wait $gw $sink 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$BENCH_ADMIN_PORT/health/ready" >/dev/null 2>&1 && break; sleep 0.2
done
"$bench/measure.sh" "$name" "$BENCH_HTTP_PORT" "$gw"
# CPU seconds by thread group (event loops, GC, JIT, ...) since the start, for finding where the CPU went.
for t in /proc/$gw/task/*; do
  echo "$(tr -d '0-9#' < "$t/comm" | sed 's/-$//; s/ *$//')|$(awk '{print $14+$15}' "$t/stat")"
done | awk -F'|' -v tck="$(getconf CLK_TCK)" '{a[$1]+=$2} END {for (k in a) if (a[k] > 0) printf "%8.1f s  %s\n", a[k]/tck, k}' \
  | sort -rn > "$out/$name.threads.txt"
sleep 3
echo "sink: $(tail -1 "$out/$name.sink.txt")"
