#!/usr/bin/env bash
# A Kafka cluster for development and tests with nothing installed: librdkafka's mock cluster, kept alive by a small
# process (tests/KafkaMock), loopback only. Topics are created on first use with 4 partitions.
#   scripts/kafka.sh start    builds the tool if needed, starts the cluster and prints `export KEFU_KAFKA=host:port,…`
#                             (use: eval "$(scripts/kafka.sh start)"); point Kefu, kcat or any client at it
#   scripts/kafka.sh stop     stops the cluster this script started (by its PID); its topics are gone with it
# KEFU_KAFKA_DIR (default .tmp/kafka) holds the PID and log, so several clusters can run side by side.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="${KEFU_KAFKA_DIR:-$root/.tmp/kafka}"
pidfile="$dir/kafka.pid"
tool="$root/tests/KafkaMock/bin/Release/net10.0/Kefu.KafkaMock.dll"

say() { echo "kafka.sh: $*" >&2; }

halt() {
  if [ -f "$pidfile" ]; then
    local pid; pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

case "${1:-}" in
  start)
    halt
    mkdir -p "$dir"
    if [ ! -f "$tool" ]; then
      say "building tests/KafkaMock"
      dotnet build "$root/tests/KafkaMock" -c Release >"$dir/build.log" 2>&1 || { tail -20 "$dir/build.log" >&2; exit 1; }
    fi
    : >"$dir/out"
    nohup dotnet "$tool" >"$dir/out" 2>"$dir/log" </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 200); do
      line=$(grep -m1 '^KEFU_KAFKA=' "$dir/out" || true)
      if [ -n "$line" ]; then
        say "started (pid $(cat "$pidfile"))"
        echo "export ${line%%=*}='${line#*=}'"
        exit 0
      fi
      kill -0 "$(cat "$pidfile")" 2>/dev/null || break
      sleep 0.1
    done
    say "the mock cluster did not start; see $dir/log"; tail -20 "$dir/log" >&2 || true
    halt
    exit 1
    ;;
  stop)
    halt
    say "stopped"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
