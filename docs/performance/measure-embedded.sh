#!/usr/bin/env bash
# Embedded mode: closed loop vs the raw relay, fixed rates, idle connections. Build first: dotnet build -c Release Orleans.sln
set -u
cd "$(dirname "$0")/../.."
B="dotnet tests/Benchmarks/bin/Release/net10.0/Kefu.Benchmarks.dll --admin-password bench-pass-123 --no-progress"
start_gw() {
  dotnet gateway/bin/Release/net10.0/Kefu.Gateway.dll --urls http://127.0.0.1:5190 --Kefu:Silo:SiloPort=11190 --Kefu:Silo:GatewayPort=30190 --Kefu:Bootstrap:AdminPassword=bench-pass-123 --Kefu:WebSocket:FramesPerSecond=100000 --Kefu:WebSocket:FrameBurst=100000 --Kefu:RateLimits:LoginsPerMinute=100000 --Kefu:RateLimits:VisitorsPerMinute=100000 --Logging:LogLevel:Default=Warning "$@" > .tmp/perf/gw-m.log 2>&1 &
  GW=$!; for i in $(seq 1 100); do curl -sf 127.0.0.1:5190/readyz >/dev/null && break; sleep 0.2; done
}
mkdir -p .tmp/perf/results
start_gw; $B --url http://127.0.0.1:5190 --visitors 200 --agents 20 --mode closed --warmup 30s --duration 20s --compare-relay --gateway-pid $GW --out .tmp/perf/results/embedded-closed.json --markdown .tmp/perf/results/embedded-closed.md > /dev/null 2>&1; kill $GW; wait $GW 2>/dev/null
start_gw; $B --url http://127.0.0.1:5190 --visitors 200 --agents 20 --mode rate --rate 5000 --warmup 30s --duration 20s --out .tmp/perf/results/embedded-rate10k.json --markdown .tmp/perf/results/embedded-rate10k.md > /dev/null 2>&1; kill $GW; wait $GW 2>/dev/null
start_gw; $B --url http://127.0.0.1:5190 --visitors 200 --agents 20 --mode rate --rate 2500 --warmup 30s --duration 20s --out .tmp/perf/results/embedded-rate5k.json --markdown .tmp/perf/results/embedded-rate5k.md > /dev/null 2>&1; kill $GW; wait $GW 2>/dev/null
start_gw; $B --url http://127.0.0.1:5190 --mode idle --connections 19500 --connections-per-visitor 100 --source-addresses 4 --duration 20s --gateway-pid $GW --out .tmp/perf/results/embedded-idle.json --markdown .tmp/perf/results/embedded-idle.md > /dev/null 2>&1; kill $GW; wait $GW 2>/dev/null
echo done
