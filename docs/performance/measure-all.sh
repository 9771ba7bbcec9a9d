#!/usr/bin/env bash
# Every integration path in one harness (issue #21): inbound events (POST /api/v1/webhook), webhook deliveries (to a
# loopback receiver inside the tool), Kafka in and Kafka out (librdkafka's mock cluster in the tool's process), gRPC
# fan-out — embedded, and in cluster mode (private MariaDB + 1 silo + 1 gateway) for the runs that load a gateway by
# URL (inbound, webhooks; the others host their silo/gateway in the tool's process, so they have no cluster mode).
# Kafka in runs twice per RUNS: a backlog produced at once (its row: applied events/s, no latency, since the last event
# waits for all the others) and a fixed-rate run, KAFKA_IN_RATE events/s (its own row, "Kafka in, N/s": produce →
# inbound.received p50/p99; the rate is ~30 % of the backlog's throughput on the idle machine, so the consumer keeps up
# and the latency is the path's, not a queue's). See docs/performance/paths.md for what each row's latency measures.
# Each figure is the median of RUNS runs with the range (min–max). Each run writes its figures as JSON (--out for
# inbound, --result for the others); the table is built from those files, never from console text.
# Writes ONE markdown table to .tmp/perf/results/measure-all.md and stdout; the runs' own output is kept next to it
# (.tmp/perf/results/all/) for the details.
#
# Options (environment):
#   RUNS=3              runs per figure (median and range)
#   WARMUP=10           seconds of warm-up for the timed runs (inbound, webhooks; gRPC: WARMUP × GRPC_RATE events)
#   DURATION=10         seconds measured (inbound, webhooks; gRPC: DURATION × GRPC_RATE events)
#   MODES="embedded cluster"   which modes to run
#   PATHS="inbound webhooks kafka-in kafka-out grpc-fanout"   which paths to run
#   WEBHOOK_RATE=1000 WEBHOOK_RATE_CLUSTER=300   messages/s offered (each makes one delivery)
#   INBOUND_SENDERS=64  KAFKA_IN_EVENTS=5000  KAFKA_OUT_EVENTS=50000  GRPC_SUBSCRIBERS=100  GRPC_RATE=200
#   KAFKA_IN_RATE=1500  events/s of the Kafka-in latency run (WARMUP × rate warm-up events, DURATION × rate measured);
#                       0 = no rate run (the backlog only)
#   KAFKA_IN_FETCH_WAIT_MS=10  the rate run's fetch.wait.max.ms: librdkafka's mock broker holds every fetch that long
#                       even when records arrive meanwhile (a real broker answers as soon as there are any), so with
#                       the default 500 the latency is mostly that wait; empty = librdkafka's default (docs/performance/paths.md)
#   PORT_BASE=46000     ports used: PORT_BASE+0..+3 (embedded), +10..+13 (cluster); loopback only
#   MARIADB_PORT=33112 MARIADB_DIR=.tmp/mariadb-all   the private MariaDB for cluster mode (started and stopped here)
# Defaults take ~14–17 min with RUNS=3 on 2 cores. Every process started here is stopped by its PID, also on
# Ctrl+C or a failure (trap).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${RUNS:-3} WARMUP=${WARMUP:-10} DURATION=${DURATION:-10}
MODES=${MODES:-embedded cluster}
PATHS=${PATHS:-inbound webhooks kafka-in kafka-out grpc-fanout}
WEBHOOK_RATE=${WEBHOOK_RATE:-1000} WEBHOOK_RATE_CLUSTER=${WEBHOOK_RATE_CLUSTER:-300}
INBOUND_SENDERS=${INBOUND_SENDERS:-64} KAFKA_IN_EVENTS=${KAFKA_IN_EVENTS:-5000} KAFKA_OUT_EVENTS=${KAFKA_OUT_EVENTS:-50000}
GRPC_SUBSCRIBERS=${GRPC_SUBSCRIBERS:-100} GRPC_RATE=${GRPC_RATE:-200}
KAFKA_IN_RATE=${KAFKA_IN_RATE:-1500} KAFKA_IN_FETCH_WAIT_MS=${KAFKA_IN_FETCH_WAIT_MS-10}
PORT_BASE=${PORT_BASE:-46000}
export KEFU_MARIADB_PORT=${MARIADB_PORT:-33112} KEFU_MARIADB_DIR=${MARIADB_DIR:-$ROOT/.tmp/mariadb-all}
R=.tmp/perf/results
OUT=$R/all
PASSWORD=bench-pass-123
mkdir -p "$OUT" .tmp/perf
rm -f "$OUT"/*.json "$OUT"/*.log "$OUT"/runs.tsv

NAME=measure-all
source docs/performance/lib.sh   # PIDS, say, stop_pid, cleanup on exit, the built DLLs, wait_http

# Settings both modes need: no REST/login/visitor rate limits and a high frame limit (the benchmarks are one caller
# from one address), webhooks may target the loopback receiver.
LIMITS=(--Kefu:RateLimits:LoginsPerMinute=100000 --Kefu:RateLimits:RestPerMinute=0 --Kefu:RateLimits:VisitorsPerMinute=100000
  --Kefu:WebSocket:FramesPerSecond=100000 --Kefu:WebSocket:FrameBurst=100000 --Kefu:Webhooks:AllowPrivateTargets=true
  --Kefu:Bootstrap:AdminPassword=$PASSWORD --Logging:LogLevel:Default=Warning)

GW_URL=""
start_embedded() {
  dotnet "$GW_DLL" --urls "http://127.0.0.1:$PORT_BASE" --Kefu:Silo:SiloPort=$((PORT_BASE + 1)) --Kefu:Silo:GatewayPort=$((PORT_BASE + 2)) \
    "${LIMITS[@]}" > "$OUT/gateway-embedded.log" 2>&1 &
  EMB_GW=$!; PIDS+=("$EMB_GW")
  GW_URL="http://127.0.0.1:$PORT_BASE"
  wait_http "$GW_URL/readyz" 150
}
stop_embedded() { stop_pid "$EMB_GW"; }

start_cluster() {
  start_mariadb "$OUT/mariadb.log" || return 1
  local common=(--ConnectionStrings:kefu="$KEFU_MYSQL" --Kefu:Auth:SigningKey=perf-signing-key-0123456789-abcdefghijklmn "${LIMITS[@]}")
  dotnet "$SILO_DLL" --urls "http://127.0.0.1:$((PORT_BASE + 10))" --Kefu:Silo:SiloPort=$((PORT_BASE + 11)) --Kefu:Silo:GatewayPort=$((PORT_BASE + 12)) \
    "${common[@]}" > "$OUT/silo-cluster.log" 2>&1 &
  CL_SILO=$!; PIDS+=("$CL_SILO")
  wait_http "http://127.0.0.1:$((PORT_BASE + 10))/healthz" 150 || return 1
  dotnet "$GW_DLL" --urls "http://127.0.0.1:$((PORT_BASE + 13))" "${common[@]}" > "$OUT/gateway-cluster.log" 2>&1 &
  CL_GW=$!; PIDS+=("$CL_GW")
  GW_URL="http://127.0.0.1:$((PORT_BASE + 13))"
  wait_http "$GW_URL/readyz" 300
}
stop_cluster() {
  stop_pid "$CL_GW"; stop_pid "$CL_SILO"
  scripts/mariadb.sh stop >/dev/null 2>&1; rm -rf "$KEFU_MARIADB_DIR"; MARIADB_UP=0
}

# One run: PATH MODE INDEX RESULT-KIND ARGS… (RESULT-KIND: out = the load generator's --out JSON, result = --result).
# Runs in the background and is waited for, so that Ctrl+C reaches the trap at once and the run is stopped by PID.
run_one() {
  local path=$1 mode=$2 i=$3 kind=$4; shift 4
  local json="$OUT/$path-$mode-$i.json" log="$OUT/$path-$mode-$i.log"
  if [ "$kind" = out ]; then set -- "$@" --out "$json"; else set -- "$@" --result "$json"; fi
  # The command shown (log and table): without the per-run file and the password.
  local shown="${*/$PASSWORD/…}"; shown=${shown% --out *}; shown="Kefu.Benchmarks ${shown% --result *}"
  say "$path $mode run $i/$RUNS: $shown"
  dotnet "$BENCH_DLL" "$@" > "$log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  wait "$pid"; local rc=$?
  local keep=() p; for p in "${PIDS[@]}"; do [ "$p" != "$pid" ] && keep+=("$p"); done; PIDS=("${keep[@]}")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$path" "$mode" "$i" "$kind" "$rc" "$json" "$shown" >> "$OUT/runs.tsv"
  [ "$rc" = 0 ] || say "$path $mode run $i exited $rc (see $log)"
}

wants() { case " $PATHS " in *" $1 "*) return 0;; esac; return 1; }

# The gateway-loading runs (they take a URL).
http_paths() {
  local mode=$1 rate=$2 i
  for i in $(seq 1 "$RUNS"); do
    wants inbound && run_one inbound "$mode" "$i" out --url "$GW_URL" --admin-password "$PASSWORD" --no-progress --mode inbound \
      --senders "$INBOUND_SENDERS" --warmup "${WARMUP}s" --duration "${DURATION}s"
    wants webhooks && run_one webhooks "$mode" "$i" result webhooks --url "$GW_URL" --admin-password "$PASSWORD" \
      --visitors 100 --rate "$rate" --warmup "$WARMUP" --duration "$DURATION"
  done
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u +%Y-%m-%dT%H:%MZ)

case " $MODES " in *" embedded "*)
  if wants inbound || wants webhooks; then
    # A gateway that does not start costs this mode's HTTP rows (the table says which are missing), not the pass.
    if start_embedded; then
      http_paths embedded "$WEBHOOK_RATE"
      stop_embedded
    else
      say "embedded gateway did not start: inbound/webhooks embedded skipped (see $OUT/gateway-embedded.log)"; cleanup
    fi
  fi
  for i in $(seq 1 "$RUNS"); do
    wants kafka-in && run_one kafka-in embedded "$i" result kafka-in --events "$KAFKA_IN_EVENTS" --contacts 0
    wants kafka-in && [ "$KAFKA_IN_RATE" -gt 0 ] && run_one kafka-in-rate embedded "$i" result kafka-in --rate "$KAFKA_IN_RATE" \
      --warmup $((WARMUP * KAFKA_IN_RATE)) --events $((DURATION * KAFKA_IN_RATE)) --contacts 0 ${KAFKA_IN_FETCH_WAIT_MS:+--fetch-wait-ms "$KAFKA_IN_FETCH_WAIT_MS"}
    wants kafka-out && run_one kafka-out embedded "$i" result kafka-out --events "$KAFKA_OUT_EVENTS"
    wants grpc-fanout && run_one grpc-fanout embedded "$i" result grpc-fanout --subscribers "$GRPC_SUBSCRIBERS" --rate "$GRPC_RATE" \
      --warmup $((WARMUP * GRPC_RATE)) --events $((DURATION * GRPC_RATE))
  done
;; esac

case " $MODES " in *" cluster "*)
  if wants inbound || wants webhooks; then
    if start_cluster; then
      http_paths cluster "$WEBHOOK_RATE_CLUSTER"
      stop_cluster
    else
      say "cluster did not start: cluster mode skipped (see $OUT/*-cluster.log, $OUT/mariadb.log)"; cleanup
    fi
  fi
;; esac

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

# The table: one row per path and mode, each figure the median of its runs with (min–max).
python3 - "$OUT/runs.tsv" "$R/measure-all.md" "$RUNS" "$WARMUP" "$DURATION" "$LOAD_BEFORE" "$LOAD_AFTER" "$STARTED" "$COMMIT" "$MODES" "$PATHS" "$KAFKA_IN_RATE" <<'PY'
import json, statistics, sys
from collections import OrderedDict
tsv, md, runs, warmup, duration, load_before, load_after, started, commit, modes, paths, kafka_in_rate = sys.argv[1:]
rows = OrderedDict()
try:
    lines = open(tsv, encoding="utf-8").read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    path, mode, _, kind, rc, jpath, cmd = line.split("\t")
    row = rows.setdefault((path, mode), {"t": [], "p50": [], "p99": [], "ok": 0, "n": 0, "cmd": cmd, "unit": "", "lat": ""})
    row["n"] += 1
    try:
        data = json.load(open(jpath, encoding="utf-8"))
    except (OSError, ValueError):
        continue  # the run failed before writing its figures: counted in n, not in ok
    if kind == "out":
        inbound = data["inbound"]
        t, p50, p99 = inbound["acceptedPerSecond"], inbound["latency"]["p50Us"] / 1000, inbound["latency"]["p99Us"] / 1000
        ok = rc == "0" and inbound["errors"] == 0
        row["unit"], row["lat"] = "events accepted", "POST → 202"
    else:
        t, p50, p99, ok = data["throughput"], data["p50Ms"], data["p99Ms"], data["ok"] and rc == "0"
        row["unit"], row["lat"] = data["unit"], data["latency"] or ""
    row["t"].append(t)
    if p50 is not None: row["p50"].append(p50)
    if p99 is not None: row["p99"].append(p99)
    row["ok"] += 1 if ok else 0

def fig(values, digits):
    if not values:
        return "—"
    f = lambda v: f"{v:,.{digits}f}".replace(",", " ")
    med = statistics.median(values)
    return f(med) if len(values) == 1 else f"{f(med)} ({f(min(values))}–{f(max(values))})"

names = {"inbound": "inbound events (HTTP webhook in)", "webhooks": "webhook deliveries (out)", "kafka-in": "Kafka in (customer_events)",
         "kafka-out": "Kafka out (conversation_events relay)", "grpc-fanout": "gRPC fan-out (100 subscribers)",
         "kafka-in-rate": f"Kafka in, {kafka_in_rate}/s (latency)"}
# kafka-in is two rows: the backlog (throughput) and, unless KAFKA_IN_RATE=0, the fixed-rate run (latency).
row_paths = [q for p in paths.split() for q in ([p, "kafka-in-rate"] if p == "kafka-in" and kafka_in_rate != "0" else [p])]
out = [f"Integration paths, {started}, commit {commit}: RUNS={runs}, WARMUP={warmup}s, DURATION={duration}s; "
       f"load average before {load_before}, after {load_after}. Each figure: median of the runs (min–max).", "",
       "| path | mode | throughput (/s) | p50 ms | p99 ms | latency measured | runs ok | command |",
       "|---|---|---:|---:|---:|---|---|---|"]
# Every asked-for path and mode has a row: measured, not applicable, or not run (a start failed: see the logs).
for mode in modes.split():
    for path in row_paths:
        r = rows.get((path, mode))
        if r is not None:
            out.append(f"| {names.get(path, path)} | {mode} | {fig(r['t'], 0)} {r['unit']} | {fig(r['p50'], 1)} | {fig(r['p99'], 1)} | "
                       f"{r['lat'] or '—'} | {r['ok']}/{r['n']} | `{r['cmd']}` |")
        elif mode == "cluster" and path in ("kafka-in", "kafka-in-rate", "kafka-out", "grpc-fanout"):
            out.append(f"| {names[path]} | cluster | n/a | | | | | the run hosts its silo/gateway in the tool's process (no --url) |")
        else:
            out.append(f"| {names.get(path, path)} | {mode} | not run | | | | 0/0 | a process did not start: see .tmp/perf/results/all/*.log |")
text = "\n".join(out) + "\n"
open(md, "w", encoding="utf-8").write(text)
print(text)
PY
