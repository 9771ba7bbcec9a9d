#!/usr/bin/env bash
# The same loads against two builds, back to back on this machine (issue #13: the cost of committing events with every
# change). Usage: docs/performance/measure-before-after.sh BEFORE_REPO AFTER_REPO — both built with
# `dotnet build -c Release Orleans.sln`. The load generator of AFTER_REPO drives both. For each build: embedded closed
# loop and 5 000 deliveries/s, then cluster (private MariaDB with that build's schema, 1 silo, 1 gateway) closed loop
# and 5 000 deliveries/s. Results: .tmp/perf/before-after/<label>-<run>.md in AFTER_REPO.
# Environment: MODES="embedded cluster" (default) or one of them; TAG=-2 suffixes the labels of a repeated run;
# CLUSTER_RUNS="closed rate5k" (default) or one of them.
set -u
BEFORE=$(cd "$1" && pwd); AFTER=$(cd "$2" && pwd)
OUT="$AFTER/.tmp/perf/before-after"; mkdir -p "$OUT"
B="dotnet $AFTER/tests/Benchmarks/bin/Release/net10.0/Kefu.Benchmarks.dll --admin-password bench-pass-123 --no-progress --visitors 200 --agents 20 --warmup 30s --duration 20s"
LIMITS=(--Kefu:WebSocket:FramesPerSecond=100000 --Kefu:WebSocket:FrameBurst=100000 --Kefu:RateLimits:LoginsPerMinute=100000 --Kefu:RateLimits:VisitorsPerMinute=100000 --Kefu:Bootstrap:AdminPassword=bench-pass-123 --Logging:LogLevel:Default=Warning)

wait_for() { for i in $(seq 1 200); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done; return 1; }

embedded() { # repo label
  for run in closed rate5k; do
    (cd "$1" && dotnet gateway/bin/Release/net10.0/Kefu.Gateway.dll --urls http://127.0.0.1:5191 --Kefu:Silo:SiloPort=11191 --Kefu:Silo:GatewayPort=30191 "${LIMITS[@]}" > "$OUT/$2-embedded-gw.log" 2>&1) & GW=$!
    wait_for 127.0.0.1:5191/readyz
    if [ $run = closed ]; then mode=(--mode closed); else mode=(--mode rate --rate 2500); fi
    $B --url http://127.0.0.1:5191 "${mode[@]}" --markdown "$OUT/$2-embedded-$run.md" > /dev/null 2>&1
    pkill -P $GW; kill $GW 2>/dev/null; wait $GW 2>/dev/null
  done
}

cluster() { # repo label
  export KEFU_MARIADB_DIR="$AFTER/.tmp/mariadb-before-after" KEFU_MARIADB_PORT=33096
  eval "$(cd "$1" && scripts/mariadb.sh start 2>/dev/null)"
  common=(--ConnectionStrings:kefu="$KEFU_MYSQL" --Kefu:Auth:SigningKey=perf-signing-key-0123456789-abcdefghijklmn "${LIMITS[@]}")
  (cd "$1" && exec dotnet silo/bin/Release/net10.0/Kefu.Silo.dll --urls http://127.0.0.1:8196 --Kefu:Silo:SiloPort=11196 --Kefu:Silo:GatewayPort=30196 "${common[@]}" > "$OUT/$2-silo.log" 2>&1) & SILO=$!
  wait_for 127.0.0.1:8196/healthz
  (cd "$1" && exec dotnet gateway/bin/Release/net10.0/Kefu.Gateway.dll --urls http://127.0.0.1:5196 "${common[@]}" > "$OUT/$2-cluster-gw.log" 2>&1) & GW=$!
  wait_for 127.0.0.1:5196/readyz
  case " ${CLUSTER_RUNS:-closed rate5k} " in *" closed "*) $B --url http://127.0.0.1:5196 --mode closed --markdown "$OUT/$2-cluster-closed.md" > /dev/null 2>&1;; esac
  case " ${CLUSTER_RUNS:-closed rate5k} " in *" rate5k "*) $B --url http://127.0.0.1:5196 --mode rate --rate 2500 --markdown "$OUT/$2-cluster-rate5k.md" > /dev/null 2>&1;; esac
  kill $GW $SILO 2>/dev/null; wait $GW $SILO 2>/dev/null
  (cd "$1" && scripts/mariadb.sh stop 2>/dev/null); rm -rf "$KEFU_MARIADB_DIR"
}

# MODES="cluster" (or "embedded") runs one half only; TAG names a repeated run in the result files.
TAG=${TAG:-}
for m in ${MODES:-embedded cluster}; do $m "$BEFORE" "before$TAG"; $m "$AFTER" "after$TAG"; done
grep -H "msgs/s\|p99" "$OUT"/*.md | head -80
echo done
