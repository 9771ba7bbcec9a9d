#!/usr/bin/env bash
# Builds build/redact.wasm from redact.c with Debian's clang-19, lld-19 and wasi-libc
# (apt-get install -y clang-19 lld-19 wasi-libc). Not part of CI: the documented second authoring path.
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-clang-19}
command -v "$CC" >/dev/null || { echo "$CC is missing: apt-get install -y clang-19 lld-19 wasi-libc" >&2; exit 1; }
[ -f /usr/lib/wasm32-wasi/libc.a ] || { echo "wasi-libc is missing: apt-get install -y wasi-libc" >&2; exit 1; }
mkdir -p build
# -nostartfiles -Wl,--no-entry: a library, not a program (no main, no _start); Kefu calls only alloc and process.
# -nodefaultlibs -lc: Debian's clang also links compiler-rt's wasm32 builtins (package libclang-rt-19-dev-wasm32),
#   which this code does not need; add that package and drop the two flags if yours does (e.g. long double, __int128).
"$CC" --target=wasm32-wasi --sysroot=/usr -O2 -nostartfiles -nodefaultlibs \
  -Wl,--no-entry -Wl,--strip-all -o build/redact.wasm redact.c -lc
echo "built $(pwd)/build/redact.wasm ($(wc -c < build/redact.wasm) bytes)"
