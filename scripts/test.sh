#!/usr/bin/env bash
# Runs the whole Kefu test suite on a fresh Debian machine: installs and starts what the tests need,
# runs every test project, stops what it started, and prints one "N passed, N failed" line at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (https://dot.net)." >&2; exit 1; }

log=$(mktemp)
cleanup() { scripts/mariadb.sh stop || true; rm -f "$log"; }
trap cleanup EXIT

# MariaDB for the storage and cluster tests: a private instance on loopback with our schema applied.
eval "$(scripts/mariadb.sh start)"

status=0
dotnet test Orleans.sln -c Release --blame-hang-timeout 10m 2>&1 | tee "$log" || status=$?

# dotnet test prints one summary per test project; add them up into one closing line.
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "No test ran." >&2
  exit 1
fi
exit "$status"
