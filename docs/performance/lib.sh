# Shared by the measure-*.sh scripts (sourced, not run): every process a script starts is recorded in PIDS and stopped
# by its PID — on success, on a failure and on Ctrl+C — and a private MariaDB it started (MARIADB_UP=1) is stopped and
# its data directory removed. The sourcing script sets NAME (the prefix of its messages) first and runs from the
# repository's root.
PIDS=()          # every process the script started and has not stopped yet
MARIADB_UP=0
say() { echo "$NAME: $*" >&2; }

forget() { local keep=() p; for p in "${PIDS[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done; PIDS=("${keep[@]}"); }

# Stops one process by its PID (TERM, then KILL after 10 s) and forgets it.
stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  forget "$pid"
}

# Starts the script's private MariaDB (KEFU_MARIADB_DIR/PORT set by the script) and exports KEFU_MYSQL.
start_mariadb() { # log file
  local exports
  exports=$(scripts/mariadb.sh start 2>>"$1") || { say "MariaDB did not start (see $1)"; return 1; }
  MARIADB_UP=1; eval "$exports"
}

stop_mariadb() {
  if [ "$MARIADB_UP" = 1 ]; then scripts/mariadb.sh stop >/dev/null 2>&1; rm -rf "$KEFU_MARIADB_DIR"; MARIADB_UP=0; fi
}

cleanup() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  stop_mariadb
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

GW_DLL=gateway/bin/Release/net10.0/Kefu.Gateway.dll
SILO_DLL=silo/bin/Release/net10.0/Kefu.Silo.dll
BENCH_DLL=tests/Benchmarks/bin/Release/net10.0/Kefu.Benchmarks.dll
if [ ! -f "$GW_DLL" ] || [ ! -f "$SILO_DLL" ] || [ ! -f "$BENCH_DLL" ]; then
  say "building (dotnet build -c Release Orleans.sln)"
  dotnet build -c Release Orleans.sln -v q -nologo >&2 || { say "build failed"; exit 1; }
fi

wait_http() { # URL, tries of 0.2 s
  local i
  for i in $(seq 1 "$2"); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done
  say "$1 did not answer"; return 1
}
