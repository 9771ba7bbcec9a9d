#!/usr/bin/env bash
# Runs the whole Kefu test suite on a fresh Debian machine: installs and starts what the tests need,
# runs every test project, stops what it started, and prints one "N passed, N failed" line at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (https://dot.net)." >&2; exit 1; }

log=$(mktemp)
cleanup() { scripts/mariadb.sh stop || true; rm -f "$log"; }
trap cleanup EXIT

# Chromium for the browser tests (tests/Kefu.Browser.Tests drive /usr/bin/chromium headless; Playwright never
# downloads a browser). A CJK font so Chinese text renders in screenshots. Without Chromium those tests fail.
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Chromium for the browser tests..."
    export DEBIAN_FRONTEND=noninteractive
    (apt-get install -y chromium fonts-wqy-microhei >/dev/null ||
      { apt-get update >/dev/null && apt-get install -y chromium fonts-wqy-microhei >/dev/null; }) ||
      echo "Could not install Chromium; the browser tests will fail." >&2
  else
    echo "Chromium is missing (apt-get install -y chromium); the browser tests will fail." >&2
  fi
fi

# kcat for the Kafka tests that read conversation_events as an outside consumer (Debian's package).
if ! command -v kcat >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "Installing kcat for the Kafka tests..."
    export DEBIAN_FRONTEND=noninteractive
    (apt-get install -y kcat >/dev/null || { apt-get update >/dev/null && apt-get install -y kcat >/dev/null; }) ||
      echo "Could not install kcat; the kcat tests will fail." >&2
  else
    echo "kcat is missing (apt-get install -y kcat); the kcat tests will fail." >&2
  fi
fi

# The AssemblyScript sample plugin, which tests/Kefu.Plugins.Tests runs through the sandbox (npm from the registry).
if ! command -v npm >/dev/null && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing npm for the sample plugin..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y npm >/dev/null || { apt-get update >/dev/null && apt-get install -y npm >/dev/null; } || true
fi
command -v npm >/dev/null || { echo "npm is required to build samples/plugins/order-triage (apt-get install -y npm)." >&2; exit 1; }
samples/plugins/order-triage/build.sh >/dev/null

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
