#!/usr/bin/env bash
# profile.sh: where a Barefoot hop's time goes, under the benchmark's load.
#
#   bash .ci/bench/profile.sh        # from the repository root, after side_by_side.sh; about 1 minute
#
# For each walk (visit, browse) it starts the gateway pinned as side_by_side.sh does, with
# its opt-in profiler (BAREFOOT_PPROF_ADDR), drives it with `barefoot loadgen` (64 phones),
# and over a 10 s window in the middle of the run takes:
#   - a CPU profile, and the difference of two allocation profiles (top costs, flat and cumulative)
#   - allocations and bytes per hop (the Go runtime's counters on /metrics, over the gateway's hops)
#   - Redis round trips per hop (INFO stats total_reads_processed: one read event per request
#     or pipeline) and commands per hop by command (INFO commandstats)
#   - Postgres per hop: transactions, and backends forked (pg_stat_database.sessions), with the
#     gateway's backends sampled each second (pg_stat_activity)
# Writes everything to $BENCH_DIR/profile/ and prints a summary.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/barefoot-bench}
PG=${BENCH_PG:-postgres://barefoot:barefoot@127.0.0.1:5432}
DIRECTORS=${DIRECTORS:-30000} PIN=${PIN:-1} CONNS=${CONNS:-64} WINDOW=${WINDOW:-10}
OUT=$WORK/profile
mkdir -p "$OUT" "$WORK/bin"
export BAREFOOT_DATABASE_URL="$PG/bench_bf?sslmode=disable" BAREFOOT_REDIS_URL=redis://127.0.0.1:6379/3 BAREFOOT_LOG_LEVEL=warn
(cd "$ROOT" && go build -o "$WORK/bin/barefoot" ./cmd/barefoot)
BF=$WORK/bin/barefoot
if [ "$(psql "$PG/postgres" -Atc "SELECT count(*) FROM pg_database WHERE datname = 'bench_bf'")" != 1 ]; then
  psql "$PG/postgres" -qc 'CREATE DATABASE bench_bf'
  "$BF" migrate >/dev/null && "$BF" seed >/dev/null && "$BF" loadgen --seed-directors "$DIRECTORS" | tail -n 1
fi
if [ "$PIN" = 1 ]; then CLIENT_CPU="taskset -c 0"; SERVER_CPU="taskset -c 1"; STORE_CPUS=1
else CLIENT_CPU=""; SERVER_CPU=""; STORE_CPUS=0,1; fi
for p in $(pidof redis-server) $(pgrep -u postgres); do taskset -apc "$STORE_CPUS" "$p" >/dev/null 2>&1 || true; done

PPROF=127.0.0.1:6063 ADDR=127.0.0.1:8083
metric() { curl -s "http://$ADDR/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%.0f\n", s }'; }
redis_stat() { redis-cli INFO stats | tr -d '\r' | sed -n "s/^$1://p"; }
pg_stat() { psql "$BAREFOOT_DATABASE_URL" -Atc "SELECT sessions, xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'bench_bf'"; }
pg_backends() { psql "$BAREFOOT_DATABASE_URL" -Atc "SELECT count(*) FROM pg_stat_activity WHERE datname = 'bench_bf' AND pid <> pg_backend_pid()"; }

for flow in visit browse; do
  redis-cli -n 3 FLUSHDB >/dev/null
  env BAREFOOT_ADDR=$ADDR BAREFOOT_PPROF_ADDR=$PPROF $SERVER_CPU "$BF" serve >"$OUT/$flow.server.log" 2>&1 &
  spid=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://$ADDR/readyz" && break; sleep 0.1; done
  $CLIENT_CPU "$BF" loadgen --url "http://$ADDR" --flow "$flow" --concurrency "$CONNS" --directors "$DIRECTORS" \
    --warmup 3s --duration $((WINDOW + 6))s --quiet >"$OUT/$flow.loadgen.txt" 2>&1 &
  lpid=$!
  sleep 4
  curl -s -o "$OUT/$flow.allocs0.pprof" "http://$PPROF/debug/pprof/allocs"
  redis-cli CONFIG RESETSTAT >/dev/null
  r0=$(redis_stat total_reads_processed)
  h0=$(metric barefoot_hops_total); m0=$(metric go_memstats_mallocs_total); b0=$(metric go_memstats_alloc_bytes_total)
  read -r s0 x0 < <(pg_stat | tr '|' ' ')
  curl -s -o "$OUT/$flow.cpu.pprof" "http://$PPROF/debug/pprof/profile?seconds=$WINDOW" &
  cpid=$!
  : >"$OUT/$flow.backends.txt"
  for _ in $(seq 1 "$WINDOW"); do pg_backends >>"$OUT/$flow.backends.txt"; sleep 1; done
  wait "$cpid"
  h1=$(metric barefoot_hops_total); m1=$(metric go_memstats_mallocs_total); b1=$(metric go_memstats_alloc_bytes_total)
  read -r s1 x1 < <(pg_stat | tr '|' ' ')
  reads=$(( $(redis_stat total_reads_processed) - r0 ))
  redis-cli INFO commandstats | tr -d '\r' | grep '^cmdstat_' >"$OUT/$flow.redis_commands.txt"
  curl -s -o "$OUT/$flow.allocs1.pprof" "http://$PPROF/debug/pprof/allocs"
  wait "$lpid" || true
  kill "$spid"; wait "$spid" 2>/dev/null || true
  go tool pprof -top -nodecount=30 "$BF" "$OUT/$flow.cpu.pprof" >"$OUT/$flow.cpu_flat.txt" 2>/dev/null
  go tool pprof -top -cum -nodecount=45 "$BF" "$OUT/$flow.cpu.pprof" >"$OUT/$flow.cpu_cum.txt" 2>/dev/null
  go tool pprof -top -sample_index=alloc_space -nodecount=25 -base "$OUT/$flow.allocs0.pprof" "$BF" "$OUT/$flow.allocs1.pprof" >"$OUT/$flow.alloc_space.txt" 2>/dev/null
  go tool pprof -top -sample_index=alloc_objects -nodecount=25 -base "$OUT/$flow.allocs0.pprof" "$BF" "$OUT/$flow.allocs1.pprof" >"$OUT/$flow.alloc_objects.txt" 2>/dev/null
  hops=$((h1 - h0))
  {
    echo "== $flow: $hops hops in the ${WINDOW}s window"
    grep '^RESULT' "$OUT/$flow.loadgen.txt"
    awk -v h="$hops" -v m=$((m1 - m0)) -v b=$((b1 - b0)) -v r="$reads" -v s=$((s1 - s0)) -v x=$((x1 - x0)) 'BEGIN {
      printf "per hop: %.0f allocations, %.1f KB allocated, %.2f Redis round trips, %.2f Postgres transactions; Postgres backends forked in the window: %d (%.1f per 1000 hops)\n",
        m / h, b / h / 1024, r / h, x / h, s, 1000 * s / h }'
    echo "gateway backends seen each second: $(paste -sd' ' "$OUT/$flow.backends.txt")"
    echo "Redis commands per hop:"
    awk -F'[:=,]' -v h="$hops" '{ printf "  %-28s %.2f\n", $1, $3 / h }' "$OUT/$flow.redis_commands.txt" | sed 's/cmdstat_//' | sort -k2 -gr
    echo "CPU, flat:"; sed -n '4,20p' "$OUT/$flow.cpu_flat.txt"
    echo "CPU, cumulative:"; sed -n '4,40p' "$OUT/$flow.cpu_cum.txt"
  } | tee "$OUT/$flow.summary.txt"
done
echo "profiles in $OUT"
