#!/usr/bin/env bash
# Cluster mode on this machine: private MariaDB + 1 silo + 1 gateway, then the load generator (closed loop), with
# the CPU each process used. Build first: dotnet build -c Release Orleans.sln
set -u
cd "$(dirname "$0")/../.."
mkdir -p .tmp/perf/results
export KEFU_MARIADB_DIR="$PWD/.tmp/mariadb-perf" KEFU_MARIADB_PORT=33095
eval "$(scripts/mariadb.sh start 2>/dev/null)"
common=(${EXTRA:-} --ConnectionStrings:kefu="$KEFU_MYSQL" --Kefu:Auth:SigningKey=perf-signing-key-0123456789-abcdefghijklmn --Kefu:Bootstrap:AdminPassword=bench-pass-123 --Logging:LogLevel:Default=Warning)
dotnet silo/bin/Release/net10.0/Kefu.Silo.dll --urls http://127.0.0.1:8195 --Kefu:Silo:SiloPort=11195 --Kefu:Silo:GatewayPort=30195 "${common[@]}" > .tmp/perf/silo.log 2>&1 & SILO=$!
for i in $(seq 1 100); do curl -sf 127.0.0.1:8195/healthz >/dev/null && break; sleep 0.2; done
dotnet gateway/bin/Release/net10.0/Kefu.Gateway.dll --urls http://127.0.0.1:5195 --Kefu:WebSocket:FramesPerSecond=100000 --Kefu:WebSocket:FrameBurst=100000 --Kefu:RateLimits:LoginsPerMinute=100000 --Kefu:RateLimits:VisitorsPerMinute=100000 "${common[@]}" > .tmp/perf/gwc.log 2>&1 & GW=$!
for i in $(seq 1 200); do curl -sf 127.0.0.1:5195/readyz >/dev/null && break; sleep 0.2; done
B="dotnet tests/Benchmarks/bin/Release/net10.0/Kefu.Benchmarks.dll --admin-password bench-pass-123 --no-progress --url http://127.0.0.1:5195"
$B --visitors 200 --agents 20 --mode closed --warmup 30s --duration 20s --markdown .tmp/perf/results/cluster-closed.md > /dev/null 2>&1 &
BP=$!
sleep 42
MDB=$(cat $KEFU_MARIADB_DIR/mysqld.pid); BENCH=$(pgrep -f "Kefu.Benchmarks.dll" | head -1)
t() { awk '{print $14+$15}' /proc/$1/stat; }
a=($(t $SILO) $(t $GW) $(t $MDB) $(t $BENCH)); sleep 5; b=($(t $SILO) $(t $GW) $(t $MDB) $(t $BENCH))
echo "cpu% silo=$(( (b[0]-a[0])*100/500 )) gateway=$(( (b[1]-a[1])*100/500 )) mariadb=$(( (b[2]-a[2])*100/500 )) bench=$(( (b[3]-a[3])*100/500 ))" | tee .tmp/perf/results/cluster-cpu.txt
wait $BP
# CPU µs per delivered message per process: clock ticks (1/100 s) over the 5 s sample ÷ the run's delivered msgs/s.
rate=$(awk -F'|' '$2 ~ /kefu/ {gsub(/ /, "", $3); print $3}' .tmp/perf/results/cluster-closed.md)
awk -v r="$rate" -v s=$((b[0]-a[0])) -v g=$((b[1]-a[1])) -v m=$((b[2]-a[2])) -v c=$((b[3]-a[3])) 'BEGIN {
  if (r <= 0) exit; u = 1e6 / 100 / 5 / r;
  printf "cpu us per delivered message at %.0f msgs/s: silo=%.0f gateway=%.0f mariadb=%.0f bench=%.0f total-server=%.0f\n", r, s*u, g*u, m*u, c*u, (s+g+m)*u }' |
  tee -a .tmp/perf/results/cluster-cpu.txt
# Fixed rate on the same (now warm) processes: 2 500 visitor messages/s, each answered = 5 000 deliveries/s.
$B --visitors 200 --agents 20 --mode rate --rate 2500 --warmup 30s --duration 20s --markdown .tmp/perf/results/cluster-rate5k.md > /dev/null 2>&1

kill $GW $SILO; wait $GW $SILO 2>/dev/null
scripts/mariadb.sh stop 2>/dev/null; rm -rf "$KEFU_MARIADB_DIR"
echo done
