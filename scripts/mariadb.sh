#!/usr/bin/env bash
# A private MariaDB for tests and development: loopback only, its own data directory under .tmp/mariadb.
#   scripts/mariadb.sh start    installs mariadb-server if missing, starts a fresh instance, creates the `kefu`
#                               database and user, applies deploy/mysql/*.sql, and prints `export KEFU_MYSQL=…`
#                               lines (use: eval "$(scripts/mariadb.sh start)")
#   scripts/mariadb.sh stop     stops the instance this script started (by its PID)
#   scripts/mariadb.sh restart  stops and starts the same instance, keeping its data
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="${KEFU_MARIADB_DIR:-$root/.tmp/mariadb}"
port="${KEFU_MARIADB_PORT:-33061}"
sock="$dir/mysqld.sock"
pidfile="$dir/mysqld.pid"

say() { echo "mariadb.sh: $*" >&2; }

install() {
  if ! command -v mariadbd >/dev/null 2>&1; then
    say "installing mariadb-server"
    export DEBIAN_FRONTEND=noninteractive
    local aptlog; aptlog=$(mktemp)
    if ! { apt-get update -qq && apt-get install -y -qq mariadb-server; } >"$aptlog" 2>&1; then
      tail -30 "$aptlog" >&2; say "installing mariadb-server failed"; return 1
    fi
    rm -f "$aptlog"
  fi
}

launch() {
  mariadbd --no-defaults --user=root --datadir="$dir/data" --socket="$sock" --port="$port" \
    --bind-address=127.0.0.1 --pid-file="$pidfile" --log-error="$dir/error.log" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-flush-log-at-trx-commit=1 --max-connections=500 >/dev/null 2>&1 &
  for _ in $(seq 1 100); do
    if mariadb-admin --socket="$sock" ping >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  say "MariaDB did not start; see $dir/error.log"; tail -20 "$dir/error.log" >&2 || true
  return 1
}

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
    install
    halt
    rm -rf "$dir"; mkdir -p "$dir"
    # Once more on failure (a machine busy with many parallel test clusters has failed it once); then say why.
    for attempt in 1 2; do
      rm -rf "$dir/data"
      if mariadb-install-db --no-defaults --user=root --datadir="$dir/data" --auth-root-authentication-method=normal \
        --skip-test-db >"$dir/install.log" 2>&1; then
        break
      fi
      if [ "$attempt" -eq 2 ]; then
        say "mariadb-install-db failed:"; tail -20 "$dir/install.log" >&2; exit 1
      fi
    done
    launch
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    mariadb --socket="$sock" -uroot <<SQL
CREATE DATABASE kefu CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'kefu'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO 'kefu'@'127.0.0.1';
SQL
    for f in "$root"/deploy/mysql/*.sql; do
      [ -e "$f" ] || continue
      mariadb --socket="$sock" -uroot kefu < "$f"
    done
    echo "$password" > "$dir/password"
    echo "export KEFU_MYSQL='Server=127.0.0.1;Port=$port;User ID=kefu;Password=$password;Database=kefu'"
    echo "export KEFU_MARIADB_SCRIPT='$root/scripts/mariadb.sh'"
    say "started on 127.0.0.1:$port (pid $(cat "$pidfile"))"
    ;;
  stop)
    halt
    say "stopped"
    ;;
  restart)
    halt
    launch
    say "restarted (pid $(cat "$pidfile"))"
    ;;
  *)
    echo "usage: $0 start|stop|restart" >&2
    exit 2
    ;;
esac
