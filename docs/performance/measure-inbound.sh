#!/usr/bin/env bash
# Inbound business events (POST /api/v1/webhook, issue #14): accepted/s, durable, embedded then cluster (private
# MariaDB + 1 silo + 1 gateway). Build first: dotnet build -c Release Orleans.sln. Ports differ from the other scripts
# so they can run side by side; every process started here is stopped by its PID.
set -u
cd "$(dirname "$0")/../.."
mkdir -p .tmp/perf/results
R=.tmp/perf/results
B="dotnet tests/Benchmarks/bin/Release/net10.0/Kefu.Benchmarks.dll --admin-password bench-pass-123 --no-progress --mode inbound --warmup ${WARMUP:-30s} --duration ${DURATION:-20s}"
cpu() { awk '{print $14+$15}' /proc/$1/stat; }

# Embedded: one process, grain state in memory.
dotnet gateway/bin/Release/net10.0/Kefu.Gateway.dll --urls http://127.0.0.1:5203 --Kefu:Silo:SiloPort=11203 --Kefu:Silo:GatewayPort=30203 --Kefu:Bootstrap:AdminPassword=bench-pass-123 --Kefu:RateLimits:LoginsPerMinute=100000 --Kefu:RateLimits:RestPerMinute=0 --Logging:LogLevel:Default=Warning > .tmp/perf/gw-inbound.log 2>&1 &
GW=$!; for i in $(seq 1 100); do curl -sf 127.0.0.1:5203/readyz >/dev/null && break; sleep 0.2; done
$B --url http://127.0.0.1:5203 --senders 64 --markdown $R/inbound-embedded.md > /dev/null 2>&1
$B --url http://127.0.0.1:5203 --senders 64 --contacts 1000 --markdown $R/inbound-embedded-contacts.md > /dev/null 2>&1
kill $GW; wait $GW 2>/dev/null

# Cluster: MySQL grain state and outbox.
export KEFU_MARIADB_DIR="$PWD/.tmp/mariadb-inbound" KEFU_MARIADB_PORT=33103
eval "$(scripts/mariadb.sh start 2>/dev/null)"
common=(--ConnectionStrings:kefu="$KEFU_MYSQL" --Kefu:Auth:SigningKey=perf-signing-key-0123456789-abcdefghijklmn --Kefu:Bootstrap:AdminPassword=bench-pass-123 --Logging:LogLevel:Default=Warning)
dotnet silo/bin/Release/net10.0/Kefu.Silo.dll --urls http://127.0.0.1:8203 --Kefu:Silo:SiloPort=11213 --Kefu:Silo:GatewayPort=30213 "${common[@]}" > .tmp/perf/silo-inbound.log 2>&1 & SILO=$!
for i in $(seq 1 100); do curl -sf 127.0.0.1:8203/healthz >/dev/null && break; sleep 0.2; done
dotnet gateway/bin/Release/net10.0/Kefu.Gateway.dll --urls http://127.0.0.1:5213 --Kefu:RateLimits:LoginsPerMinute=100000 --Kefu:RateLimits:RestPerMinute=0 "${common[@]}" > .tmp/perf/gwc-inbound.log 2>&1 & GW=$!
for i in $(seq 1 200); do curl -sf 127.0.0.1:5213/readyz >/dev/null && break; sleep 0.2; done
$B --url http://127.0.0.1:5213 --senders 64 --markdown $R/inbound-cluster.md > /dev/null 2>&1 &
BP=$!
sleep $(( ${WARMUP_S:-30} + 10 ))
MDB=$(cat $KEFU_MARIADB_DIR/mysqld.pid)
a=($(cpu $SILO) $(cpu $GW) $(cpu $MDB)); sleep 5; b=($(cpu $SILO) $(cpu $GW) $(cpu $MDB))
echo "cpu% silo=$(( (b[0]-a[0])*100/500 )) gateway=$(( (b[1]-a[1])*100/500 )) mariadb=$(( (b[2]-a[2])*100/500 ))" | tee $R/inbound-cluster-cpu.txt
wait $BP
kill $GW $SILO; wait $GW $SILO 2>/dev/null
scripts/mariadb.sh stop 2>/dev/null; rm -rf "$KEFU_MARIADB_DIR"
echo done
