#!/usr/bin/env bash
# Latency under load (issue #21 item 3, docs/performance/latency.md): end-to-end p50/p99/p99.9 at 25, 50 and 75 % of
# the measured closed-loop capacity, embedded and in cluster mode (private MariaDB + 1 silo + 1 gateway).
# For each mode the system is started once and kept running for the whole mode:
#   1. capacity: RUNS closed-loop runs (VISITORS visitors / AGENTS agents, as the table's runs); capacity = the median
#      of their delivered msgs/s. The first run warms up WARMUP_FIRST s (gateway/silo JIT), the others WARMUP s (the
#      system is warm by then; only the generator is a fresh process);
#   2. for each LEVEL in LEVELS: RUNS fixed-rate runs at --rate capacity × LEVEL % ÷ 2 (the tool's rate counts VISITOR
#      messages; an agent answers each, so deliveries ≈ 2 × rate = LEVEL % of the capacity).
# Every run writes its figures as JSON (--out); the table and the plot are built from those files by the tool's
# `latency-plot` subcommand (median of the runs with the range), never from console text:
#   .tmp/perf/results/latency.md     the table (+ capacity per mode, + whether the target is met) — also on stdout
#   .tmp/perf/results/latency.json   the same figures
#   docs/performance/latency.svg     the plot (x = % of capacity, y = e2e ms, log scale; bars = min–max; target line)
#   docs/performance/latency.png     the same, rendered by headless Chromium (if that fails the script says so and goes on)
# The runs' own output stays in .tmp/perf/results/latency/ (logs, JSON, runs.tsv = the manifest).
#
# Options (environment):
#   RUNS=3  WARMUP_FIRST=30  WARMUP=10  DURATION=15   runs per figure; seconds of warm-up (first/other runs), measured
#   LEVELS="25 50 75"          load levels in % of the capacity
#   MODES="embedded cluster"   which modes
#   VISITORS=200 AGENTS=20     participants of every run
#   PORT_BASE=47100            ports PORT_BASE+0..+2 (embedded), +10..+13 (cluster); loopback only
#   MARIADB_PORT=33121 MARIADB_DIR=.tmp/mariadb-latency   the private MariaDB for cluster mode (started/stopped here)
#   PNG=1                      0 = no PNG (SVG only)
# Defaults: per mode (1 + 3 levels) × 3 runs × ~27 s + setup ≈ 6 min, ~13 min for both modes on 2 cores.
# Short check: RUNS=1 WARMUP_FIRST=5 WARMUP=3 DURATION=5 docs/performance/measure-latency.sh
# Build first (or it builds): dotnet build -c Release Orleans.sln
# Every process started here is stopped by its PID, also on Ctrl+C or a failure (trap), and so is the MariaDB.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${RUNS:-3} WARMUP_FIRST=${WARMUP_FIRST:-30} WARMUP=${WARMUP:-10} DURATION=${DURATION:-15}
LEVELS=${LEVELS:-25 50 75}
MODES=${MODES:-embedded cluster}
VISITORS=${VISITORS:-200} AGENTS=${AGENTS:-20}
PORT_BASE=${PORT_BASE:-47100}
PNG=${PNG:-1}
export KEFU_MARIADB_PORT=${MARIADB_PORT:-33121} KEFU_MARIADB_DIR=${MARIADB_DIR:-$ROOT/.tmp/mariadb-latency}
R=.tmp/perf/results
OUT=$R/latency
MANIFEST=$OUT/runs.tsv
SVG=docs/performance/latency.svg
PNG_FILE=docs/performance/latency.png
PASSWORD=bench-pass-123
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.log "$MANIFEST"
: > "$MANIFEST"

NAME=measure-latency
source docs/performance/lib.sh   # PIDS, say, stop_pid, cleanup on exit, the built DLLs, wait_http

# No login/visitor rate limits and a high frame limit: the generator is one caller from one address.
LIMITS=(--Kefu:RateLimits:LoginsPerMinute=100000 --Kefu:RateLimits:RestPerMinute=0 --Kefu:RateLimits:VisitorsPerMinute=100000
  --Kefu:WebSocket:FramesPerSecond=100000 --Kefu:WebSocket:FrameBurst=100000
  --Kefu:Bootstrap:AdminPassword=$PASSWORD --Logging:LogLevel:Default=Warning)

GW_URL=""
start_embedded() {
  dotnet "$GW_DLL" --urls "http://127.0.0.1:$PORT_BASE" --Kefu:Silo:SiloPort=$((PORT_BASE + 1)) --Kefu:Silo:GatewayPort=$((PORT_BASE + 2)) \
    "${LIMITS[@]}" > "$OUT/gateway-embedded.log" 2>&1 &
  PIDS+=("$!")
  GW_URL="http://127.0.0.1:$PORT_BASE"
  wait_http "$GW_URL/readyz" 150
}

start_cluster() {
  start_mariadb "$OUT/mariadb.log" || return 1
  local common=(--ConnectionStrings:kefu="$KEFU_MYSQL" --Kefu:Auth:SigningKey=perf-signing-key-0123456789-abcdefghijklmn "${LIMITS[@]}")
  dotnet "$SILO_DLL" --urls "http://127.0.0.1:$((PORT_BASE + 10))" --Kefu:Silo:SiloPort=$((PORT_BASE + 11)) --Kefu:Silo:GatewayPort=$((PORT_BASE + 12)) \
    "${common[@]}" > "$OUT/silo-cluster.log" 2>&1 &
  PIDS+=("$!")
  wait_http "http://127.0.0.1:$((PORT_BASE + 10))/healthz" 150 || return 1
  dotnet "$GW_DLL" --urls "http://127.0.0.1:$((PORT_BASE + 13))" "${common[@]}" > "$OUT/gateway-cluster.log" 2>&1 &
  PIDS+=("$!")
  GW_URL="http://127.0.0.1:$((PORT_BASE + 13))"
  wait_http "$GW_URL/readyz" 300
}

# Stops the mode's processes (gateway, silo) and its MariaDB.
stop_mode() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  stop_mariadb
}

# One load-generator run: MODE KIND LEVEL INDEX ARGS… (KIND capacity|level). In the background and waited for, so
# that Ctrl+C reaches the trap at once and the run is stopped by its PID. Appends its line to the manifest.
run_one() {
  local mode=$1 kind=$2 level=$3 i=$4; shift 4
  local name="$mode-$kind" what="$mode capacity"
  [ "$kind" = level ] && name="$mode-$level" && what="$mode $level %"
  local json="$OUT/$name-$i.json" log="$OUT/$name-$i.log"
  say "$what run $i/$RUNS: $*"
  dotnet "$BENCH_DLL" --url "$GW_URL" --admin-password "$PASSWORD" --no-progress --visitors "$VISITORS" --agents "$AGENTS" \
    "$@" --out "$json" > "$log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  wait "$pid"; local rc=$?
  forget "$pid"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$kind" "$level" "$i" "$rc" "$json" >> "$MANIFEST"
  [ "$rc" = 0 ] || say "$what run $i exited $rc (see $log)"
}

plot() { dotnet "$BENCH_DLL" latency-plot --runs "$MANIFEST" "$@"; }

measure_mode() {
  local mode=$1 i level capacity rate
  for i in $(seq 1 "$RUNS"); do
    local warmup=$WARMUP; [ "$i" = 1 ] && warmup=$WARMUP_FIRST
    run_one "$mode" capacity 0 "$i" --mode closed --warmup "${warmup}s" --duration "${DURATION}s"
  done
  capacity=$(plot --capacity "$mode") || { say "$mode: no capacity measured, its load levels are skipped"; return 1; }
  say "$mode: capacity $capacity delivered msgs/s (median of $RUNS closed-loop runs)"
  for level in $LEVELS; do
    # Visitor messages/s: half the deliveries (each is answered).
    rate=$(awk -v c="$capacity" -v l="$level" 'BEGIN { r = c * l / 200; printf "%.0f", (r < 1 ? 1 : r) }')
    for i in $(seq 1 "$RUNS"); do
      run_one "$mode" level "$level" "$i" --mode rate --rate "$rate" --warmup "${WARMUP}s" --duration "${DURATION}s"
    done
  done
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u +%Y-%m-%dT%H:%MZ)

for mode in $MODES; do
  case $mode in
    embedded) start_embedded || { say "embedded gateway did not start (see $OUT/gateway-embedded.log)"; stop_mode; continue; } ;;
    cluster) start_cluster || { say "cluster did not start (see $OUT/*-cluster.log, $OUT/mariadb.log)"; stop_mode; continue; } ;;
    *) say "unknown mode $mode (embedded, cluster)"; continue ;;
  esac
  measure_mode "$mode"
  stop_mode
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
HEADER="Latency under load, $STARTED, commit $COMMIT: $VISITORS visitors / $AGENTS agents, RUNS=$RUNS, WARMUP_FIRST=${WARMUP_FIRST}s, \
WARMUP=${WARMUP}s, DURATION=${DURATION}s, $(nproc) cores; load average before $LOAD_BEFORE, after $LOAD_AFTER. \
Each figure: median of the runs (min–max). Offered deliveries/s = 2 × the visitors' --rate = the level's share of the capacity. \
Command: docs/performance/measure-latency.sh"
plot --md "$R/latency.md" --json "$R/latency.json" --svg "$SVG" --header "$HEADER" \
  --title "Kefu: end-to-end latency under load ($STARTED, $(nproc) cores)" || { say "latency-plot failed"; exit 1; }

# The PNG: headless Chromium screenshots the SVG at its own size. As root Chromium refuses to start without
# --no-sandbox. A failure here costs the PNG only.
if [ "$PNG" = 1 ]; then
  CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
  if [ -z "$CHROMIUM" ]; then
    say "no chromium: PNG not written (the SVG is $SVG)"
  else
    PROFILE=$(mktemp -d)
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --disable-background-networking \
      --disable-component-update --no-first-run --user-data-dir="$PROFILE" --window-size=960,600 \
      --screenshot="$ROOT/$PNG_FILE" "file://$ROOT/$SVG" > "$OUT/chromium.log" 2>&1 &
    CPID=$!; PIDS+=("$CPID"); wait "$CPID"; CRC=$?; forget "$CPID"
    rm -rf "$PROFILE"
    if [ "$CRC" = 0 ] && [ -s "$PNG_FILE" ]; then say "plot: $PNG_FILE (and $SVG)"; else say "chromium failed ($CRC, see $OUT/chromium.log): PNG not written (the SVG is $SVG)"; fi
  fi
fi
say "table: $R/latency.md"
