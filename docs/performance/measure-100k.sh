#!/usr/bin/env bash
# 100 000 concurrent WebSockets on one machine (issue #21 item 1; docs/performance/100k.md). One process may open only
# 20 000 files here, so: a private MariaDB, ONE silo and G gateway processes in cluster mode (same signing key, so a
# visitor token works on every gateway), then P generator processes of `Kefu.Benchmarks --mode idle`, each opening
# CONNECTIONS/P connections spread round-robin over all gateways (one visitor's connections land on every gateway),
# bound to source addresses of its own (127.0.0.2… in disjoint ranges) so the ephemeral ports suffice.
#
# Coordination: each generator writes a ready file once its connections are open and waits at a barrier file; the
# script creates the barrier when EVERY generator is ready (or has died), so all connections are open at the same
# time before the hold starts. During the hold (HOLD s) each generator pings a rotating sample; at the end, each
# generator's DELIVER_SAMPLE visitors send one message on one connection, and every other connection of those visitors
# (on any gateway) must receive it within 10 s. A connection closed by the server counts as dropped.
# Each generator writes its figures as JSON (--result); `Kefu.Benchmarks idle-merge` sums them (ping histograms are
# added, so p50/p99 are exact over all generators) with the RSS this script reads from /proc/PID/status (VmRSS) of
# every gateway and of the silo: before the generators start, when all are open, and the highest during the hold.
# RSS per connection = sum over gateways of (RSS all open − RSS before) ÷ connections open at that moment (the sum of
# the generators' ready files, so a generator that fails later still counts); the silo's growth is reported separately.
#
# Writes ONE markdown table to .tmp/perf/results/100k.md (+ 100k.json) and prints it; the processes' logs and the
# generators' JSON stay in .tmp/perf/results/100k/. If a limit of the machine stops it short (ports, memory, open
# files, a process that died), the table still shows the number reached and the notes under it say why.
#
# Options (environment):
#   CONNECTIONS=100000  total connections          G=6  gateway processes       P=6  generator processes
#   HOLD=60             seconds all are held       PER_VISITOR=100   connections sharing one visitor
#   PING_SAMPLE=200 PING_INTERVAL=5s   per generator: connections pinged per interval (rotating)
#   DELIVER_SAMPLE=20   per generator: visitors that send one message at the end (each reaching PER_VISITOR−1 others)
#   SOURCE_ADDRESSES=4  per generator (generator p binds 127.0.0.(2+p·N)…; ~28 000 ports per address and target)
#   CONNECT_CONCURRENCY=64  per generator          SETUP_TIMEOUT=600  seconds for visitors + connects (+ barrier)
#   PORT_BASE=47000     silo PORT_BASE+0..2, gateways PORT_BASE+10..; loopback only
#   MARIADB_PORT=33120 MARIADB_DIR=.tmp/mariadb-100k
# Small check: CONNECTIONS=3000 G=2 P=2 HOLD=10 docs/performance/measure-100k.sh
# Needs a Release build (dotnet build -c Release Orleans.sln; built here if missing). Every process started here is
# stopped by its PID, also on Ctrl+C or a failure (trap). Exit code: 0 when the run is ok, 3 when not, 1 on setup failure.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
CONNECTIONS=${CONNECTIONS:-100000} G=${G:-6} P=${P:-6} HOLD=${HOLD:-60}
PER_VISITOR=${PER_VISITOR:-100} PING_SAMPLE=${PING_SAMPLE:-200} PING_INTERVAL=${PING_INTERVAL:-5s}
DELIVER_SAMPLE=${DELIVER_SAMPLE:-20} SOURCE_ADDRESSES=${SOURCE_ADDRESSES:-4}
CONNECT_CONCURRENCY=${CONNECT_CONCURRENCY:-64} SETUP_TIMEOUT=${SETUP_TIMEOUT:-600}
PORT_BASE=${PORT_BASE:-47000}
export KEFU_MARIADB_PORT=${MARIADB_PORT:-33120} KEFU_MARIADB_DIR=${MARIADB_DIR:-$ROOT/.tmp/mariadb-100k}
R=.tmp/perf/results
OUT=$R/100k
PASSWORD=bench-pass-123
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.log "$OUT"/barrier "$R/100k.md" "$R/100k.json"

NAME=measure-100k
NOTES=()
source docs/performance/lib.sh   # PIDS, say, stop_pid, cleanup on exit, the built DLLs, wait_http
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
alive() { kill -0 "$1" 2>/dev/null; }
join() { local IFS=,; echo "$*"; }

# --- The machine's limits, checked up front (a run that cannot reach the target still runs and says why) ---
ulimit -n "$(ulimit -Hn)" 2>/dev/null
FDS=$(ulimit -n)
PER_GW=$(( (CONNECTIONS + G - 1) / G )); PER_GEN=$(( (CONNECTIONS + P - 1) / P ))
[ $((PER_GW + 1000)) -gt "$FDS" ] && NOTES+=("each gateway needs ~$PER_GW sockets but a process may open $FDS files: raise G")
[ $((PER_GEN + 1000)) -gt "$FDS" ] && NOTES+=("each generator needs ~$PER_GEN sockets but a process may open $FDS files: raise P")
read -r PORT_LO PORT_HI < /proc/sys/net/ipv4/ip_local_port_range
PER_ADDRESS=$(( PER_GEN / (SOURCE_ADDRESSES > 0 ? SOURCE_ADDRESSES : 1) ))
[ "$PER_ADDRESS" -gt $((PORT_HI - PORT_LO)) ] && NOTES+=("~$PER_ADDRESS connections per source address but only $((PORT_HI - PORT_LO)) ephemeral ports: raise SOURCE_ADDRESSES")
[ $((2 + P * SOURCE_ADDRESSES)) -gt 255 ] && { say "P × SOURCE_ADDRESSES must stay under 253"; exit 1; }
MEM_START_KB=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "$CONNECTIONS connections, $G gateways, $P generators, hold ${HOLD}s; open files per process $FDS, MemAvailable $((MEM_START_KB / 1024)) MiB, load $LOAD_START"

# --- MariaDB, silo, gateways ---
start_mariadb "$OUT/mariadb.log" || exit 1
COMMON=(--ConnectionStrings:kefu="$KEFU_MYSQL" --Kefu:Auth:SigningKey=perf-signing-key-0123456789-abcdefghijklmn
  --Kefu:Bootstrap:AdminPassword=$PASSWORD --Logging:LogLevel:Default=Warning)
# One caller (the generators, from loopback) creates thousands of visitors and connections: no per-address limits,
# frames unlimited, and one visitor may hold PER_VISITOR sockets on a gateway.
LIMITS=(--Kefu:RateLimits:LoginsPerMinute=1000000 --Kefu:RateLimits:VisitorsPerMinute=1000000 --Kefu:RateLimits:RestPerMinute=0
  --Kefu:WebSocket:FramesPerSecond=100000 --Kefu:WebSocket:FrameBurst=100000 --Kefu:WebSocket:MaxConnectionsPerParticipant=$PER_VISITOR)
dotnet "$SILO_DLL" --urls "http://127.0.0.1:$PORT_BASE" --Kefu:Silo:SiloPort=$((PORT_BASE + 1)) --Kefu:Silo:GatewayPort=$((PORT_BASE + 2)) \
  "${COMMON[@]}" > "$OUT/silo.log" 2>&1 &
SILO=$!; PIDS+=("$SILO")
wait_http "127.0.0.1:$PORT_BASE/healthz" 300 || exit 1
GWS=(); URLS=()
for i in $(seq 0 $((G - 1))); do
  port=$((PORT_BASE + 10 + i))
  dotnet "$GW_DLL" --urls "http://127.0.0.1:$port" "${COMMON[@]}" "${LIMITS[@]}" > "$OUT/gateway-$((i + 1)).log" 2>&1 &
  GWS+=($!); PIDS+=($!); URLS+=("http://127.0.0.1:$port")
done
for u in "${URLS[@]}"; do wait_http "${u#http://}/readyz" 600 || exit 1; done
sleep 2 # let the start-up allocations settle before the "before" reading
RSS_GW_BEFORE=(); for p in "${GWS[@]}"; do RSS_GW_BEFORE+=("$(rss "$p")"); done
RSS_SILO_BEFORE=$(rss "$SILO")

# --- Generators ---
GENS=(); RESULTS=(); READY_FILES=(); DONE=()
START=$(date +%s.%N)
for p in $(seq 0 $((P - 1))); do
  share=$(( CONNECTIONS / P + (p < CONNECTIONS % P ? 1 : 0) ))
  # Rotate the gateway list so each generator creates its visitors on a different gateway.
  urls=("${URLS[@]:$((p % G))}" "${URLS[@]:0:$((p % G))}")
  dotnet "$BENCH_DLL" --mode idle --admin-password $PASSWORD --url "$(join "${urls[@]}")" --connections "$share" \
    --connections-per-visitor "$PER_VISITOR" --source-addresses "$SOURCE_ADDRESSES" --source-address-first $((2 + p * SOURCE_ADDRESSES)) \
    --connect-concurrency "$CONNECT_CONCURRENCY" --setup-timeout "${SETUP_TIMEOUT}s" --duration "${HOLD}s" \
    --ping-sample "$PING_SAMPLE" --ping-interval "$PING_INTERVAL" --deliver-sample "$DELIVER_SAMPLE" \
    --ready "$OUT/ready-$((p + 1)).json" --barrier "$OUT/barrier" --result "$OUT/generator-$((p + 1)).json" \
    > "$OUT/generator-$((p + 1)).log" 2>&1 &
  GENS+=($!); PIDS+=($!); RESULTS+=("$OUT/generator-$((p + 1)).json"); READY_FILES+=("$OUT/ready-$((p + 1)).json"); DONE+=(0)
done

# Wait until every generator is ready (or gone): then all connections are open at once.
deadline=$(( $(date +%s) + SETUP_TIMEOUT + 60 ))
while :; do
  ready=0; gone=0
  for p in $(seq 0 $((P - 1))); do
    if [ -f "$OUT/ready-$((p + 1)).json" ]; then ready=$((ready + 1)); elif ! alive "${GENS[$p]}"; then gone=$((gone + 1)); fi
  done
  [ $((ready + gone)) -ge "$P" ] && break
  [ "$(date +%s)" -ge "$deadline" ] && { NOTES+=("only $ready of $P generators ready after ${SETUP_TIMEOUT}s"); break; }
  sleep 0.5
done
OPEN_SECONDS=$(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
RSS_GW_OPEN=(); for p in "${GWS[@]}"; do RSS_GW_OPEN+=("$(rss "$p")"); done
RSS_SILO_OPEN=$(rss "$SILO")
MEM_OPEN_KB=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
say "$ready of $P generators ready after ${OPEN_SECONDS}s; MemAvailable $((MEM_OPEN_KB / 1024)) MiB; releasing the barrier"
touch "$OUT/barrier"

# The hold: the highest RSS of each process while every connection is held.
RSS_GW_PEAK=("${RSS_GW_OPEN[@]}"); RSS_SILO_PEAK=$RSS_SILO_OPEN
hold_end=$(( $(date +%s) + HOLD ))
while [ "$(date +%s)" -lt "$hold_end" ]; do
  for i in "${!GWS[@]}"; do
    v=$(rss "${GWS[$i]}"); [ -n "$v" ] && [ -n "${RSS_GW_PEAK[$i]}" ] && [ "$v" -gt "${RSS_GW_PEAK[$i]}" ] && RSS_GW_PEAK[$i]=$v
  done
  v=$(rss "$SILO"); [ -n "$v" ] && [ -n "$RSS_SILO_PEAK" ] && [ "$v" -gt "$RSS_SILO_PEAK" ] && RSS_SILO_PEAK=$v
  sleep 2
done

# Wait for the generators (delivery check, then closing), bounded.
deadline=$(( $(date +%s) + 180 ))
for p in $(seq 0 $((P - 1))); do
  pid=${GENS[$p]}
  while alive "$pid" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.5; done
  if alive "$pid"; then NOTES+=("generator $((p + 1)) did not finish in time (stopped)"); stop_pid "$pid"; continue; fi
  wait "$pid"; code=$?
  keep=(); for q in "${PIDS[@]}"; do [ "$q" != "$pid" ] && keep+=("$q"); done; PIDS=("${keep[@]}")
  if [ "$code" -ne 0 ]; then
    why=$(grep -m1 '^error' "$OUT/generator-$((p + 1)).log" | cut -c1-200)
    [ -z "$why" ] && [ "$code" = 3 ] && why="errors were counted (samples below)"
    NOTES+=("generator $((p + 1)) exit code $code: $why")
  fi
done
for i in "${!GWS[@]}"; do
  alive "${GWS[$i]}" || NOTES+=("gateway $((i + 1)) exited during the run: $(tail -1 "$OUT/gateway-$((i + 1)).log" | cut -c1-200)")
done
alive "$SILO" || NOTES+=("the silo exited during the run: $(tail -1 "$OUT/silo.log" | cut -c1-200)")
[ "$MEM_OPEN_KB" -lt $((MEM_START_KB / 10)) ] && NOTES+=("memory was short: MemAvailable $((MEM_OPEN_KB / 1024)) MiB with all open")

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
NOTE_ARGS=(); for n in "${NOTES[@]}"; do NOTE_ARGS+=(--note "$n"); done
NOTE_ARGS+=(--note "$(date -u +%FT%TZ), load average $LOAD_START at the start, $LOAD_END at the end; MemAvailable $((MEM_START_KB / 1024)) → $((MEM_OPEN_KB / 1024)) MiB with all open; $PER_VISITOR connections per visitor, $SOURCE_ADDRESSES source addresses per generator")
dotnet "$BENCH_DLL" idle-merge --results "$(join "${RESULTS[@]}")" --requested "$CONNECTIONS" \
  --gateway-rss-before "$(join "${RSS_GW_BEFORE[@]}")" --gateway-rss-open "$(join "${RSS_GW_OPEN[@]}")" \
  --gateway-rss-peak "$(join "${RSS_GW_PEAK[@]}")" --silo-rss "$RSS_SILO_BEFORE,$RSS_SILO_OPEN,$RSS_SILO_PEAK" \
  --open-seconds "$OPEN_SECONDS" --ready "$(join "${READY_FILES[@]}")" --title "measure-100k: $CONNECTIONS connections over $G gateways (cluster mode, 1 silo), $P generators, held ${HOLD}s." \
  "${NOTE_ARGS[@]}" --markdown "$R/100k.md" --out "$R/100k.json"
exit $?
