#!/usr/bin/env bash
# One cluster run at 5 000 deliveries/s of the build in REPO (private MariaDB with that build's schema, 1 silo,
# 1 gateway; the load of measure-before-after.sh: 200 visitors, 20 agents, 30 s warm-up, 20 s measured), for repeated
# alternating pairs: p99 at this rate varies 2–10× from run to run here, so one pair says little (docs/performance.md,
# issue #13 "Third round"). Usage: docs/performance/measure-cluster-5k.sh REPO LABEL [extra silo options…], e.g.
#   for i in 1 2 3; do docs/performance/measure-cluster-5k.sh ../before before-$i; docs/performance/measure-cluster-5k.sh . after-$i; done
# Prints "LABEL: msgs/s | e2e p50 | p99 | p99.9 | max | ack p50 | p99 | p99.9 | max"; tables in .tmp/perf/before-after/.
set -u
REPO=$(cd "$1" && pwd); LABEL=$2; shift 2
AFTER=$(cd "$(dirname "$0")/../.." && pwd); OUT="$AFTER/.tmp/perf/before-after"; mkdir -p "$OUT"
B="dotnet $AFTER/tests/Benchmarks/bin/Release/net10.0/Kefu.Benchmarks.dll --admin-password bench-pass-123 --no-progress --visitors 200 --agents 20 --warmup 30s --duration 20s"
LIMITS=(--Kefu:WebSocket:FramesPerSecond=100000 --Kefu:WebSocket:FrameBurst=100000 --Kefu:RateLimits:LoginsPerMinute=100000 --Kefu:RateLimits:VisitorsPerMinute=100000 --Kefu:Bootstrap:AdminPassword=bench-pass-123 --Logging:LogLevel:Default=Warning)
wait_for() { for i in $(seq 1 200); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done; return 1; }
export KEFU_MARIADB_DIR="$AFTER/.tmp/mariadb-c5k" KEFU_MARIADB_PORT=33097
eval "$(cd "$REPO" && scripts/mariadb.sh start 2>/dev/null)"
common=(--ConnectionStrings:kefu="$KEFU_MYSQL" --Kefu:Auth:SigningKey=perf-signing-key-0123456789-abcdefghijklmn "${LIMITS[@]}")
(cd "$REPO" && exec dotnet silo/bin/Release/net10.0/Kefu.Silo.dll --urls http://127.0.0.1:8197 --Kefu:Silo:SiloPort=11197 --Kefu:Silo:GatewayPort=30197 "${common[@]}" "$@" > "$OUT/$LABEL-silo.log" 2>&1) & SILO=$!
wait_for 127.0.0.1:8197/healthz
(cd "$REPO" && exec dotnet gateway/bin/Release/net10.0/Kefu.Gateway.dll --urls http://127.0.0.1:5197 "${common[@]}" > "$OUT/$LABEL-gw.log" 2>&1) & GW=$!
wait_for 127.0.0.1:5197/readyz
$B --url http://127.0.0.1:5197 --mode rate --rate 2500 --markdown "$OUT/$LABEL.md" > /dev/null 2>&1
kill $GW $SILO 2>/dev/null; wait $GW $SILO 2>/dev/null
(cd "$REPO" && scripts/mariadb.sh stop 2>/dev/null); rm -rf "$KEFU_MARIADB_DIR"
echo "$LABEL: $(grep '^| kefu' $OUT/$LABEL.md | cut -d'|' -f3,6-13)"
