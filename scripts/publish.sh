#!/usr/bin/env bash
# Publishes the gateway as ONE self-contained executable: the whole embedded system (gateway + silo, in-memory) for a
# server without .NET. Everything is inside the file: the .NET runtime, every assembly, the browser pages (embedded
# resources) and the native libraries (Wasmtime for plugins, librdkafka), which it extracts on first start.
#   scripts/publish.sh [RID] [OUTPUT]     defaults: linux-x64, dist/kefu-<RID>
# The result: OUTPUT/kefu (the executable), OUTPUT/appsettings.json (optional: log levels and defaults; the
# executable runs without it) and OUTPUT.tar.gz. Run it: docs/deployment.md, "One binary".
set -euo pipefail
cd "$(dirname "$0")/.."

rid=${1:-linux-x64}
out=${2:-dist/kefu-$rid}
command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required to publish (not to run the result)." >&2; exit 1; }

rm -rf "$out"
# IncludeNativeLibrariesForSelfExtract: the native libraries go into the file too (extracted once to
#   $DOTNET_BUNDLE_EXTRACT_BASE_DIR, default ~/.net). The managed code runs straight from the file.
# KefuNativeRid (Directory.Build.targets) keeps only this platform's Wasmtime library.
# DebugType=none: no .pdb files next to the executable.
dotnet publish gateway/Kefu.Gateway.csproj -c Release -r "$rid" --self-contained \
  -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true \
  -p:DebugType=none -p:KefuNativeRid="$rid" -o "$out" >&2

exe=Kefu.Gateway; [[ "$rid" == win-* ]] && exe=Kefu.Gateway.exe
[ -f "$out/$exe" ] || { echo "publish produced no $out/$exe" >&2; exit 1; }
# Development settings (Kafka and gRPC ports for `dotnet run`) do not belong on a server; the static web assets
# manifest is for development hosting only.
rm -f "$out/appsettings.Development.json" "$out"/*.staticwebassets.*.json
target=kefu; [[ "$rid" == win-* ]] && target=kefu.exe
mv "$out/$exe" "$out/$target"

tar -czf "$out.tar.gz" -C "$(dirname "$out")" "$(basename "$out")"
echo "$out/$target ($(du -h "$out/$target" | cut -f1)), $out.tar.gz" >&2
ls "$out"
