#!/usr/bin/env bash
# Builds build/order-triage.wasm from assembly/index.ts with the AssemblyScript compiler pinned in package-lock.json.
# Quiet on success; `npm ci` runs only when node_modules does not match the lock file.
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "npm is required to build the AssemblyScript sample (Debian: apt-get install -y npm)." >&2; exit 1; }
if [ ! -x node_modules/.bin/asc ] || ! cmp -s package-lock.json node_modules/.package-lock.json.copy 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json node_modules/.package-lock.json.copy
fi
node_modules/.bin/asc assembly/index.ts --target release
echo "built $(pwd)/build/order-triage.wasm ($(wc -c < build/order-triage.wasm) bytes)"
