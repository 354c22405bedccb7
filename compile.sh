#!/bin/sh
# Builds the single `shale` binary with `deno compile`.
#
#   ./compile.sh                       # every target below
#   TARGETS=x86_64-unknown-linux-gnu ./compile.sh
#   DENORT_BIN=/path/to/denort ./compile.sh   # offline build hosts (deno compile reads DENORT_BIN)
#
# Output: dist/shale-<version>-<target>, compiled from the folder scripts/bundle.sh makes. The
# permissions are the narrowest the server needs and must stay identical to `deno task shale` in
# deno.json (tests/systemd_test.ts checks it; tests/e2e_bundle_test.ts runs the bundle with them).
set -eu
cd "$(dirname "$0")"

VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
TARGETS=${TARGETS:-"x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin"}
# Network for the listeners, read/write for drives and credentials, env for configuration, sys for
# hostname and free-space figures. No --allow-run, no --allow-ffi, no --allow-all.
PERMISSIONS="--allow-net --allow-read --allow-write --allow-env --allow-sys"
# What is compiled is scripts/bundle.sh's folder (main.js and its chunks: fewer, larger modules
# start faster). The WebAssembly core is read next to its loader at start-up and the MD5 worker is
# not in main.js's graph, so the whole folder is embedded; the chunks are in the graph anyway.
BUNDLE=build/bundle
INCLUDES="--include $BUNDLE/"
# systemd readiness (READY=1 / STOPPING=1 to NOTIFY_SOCKET) needs a Unix datagram socket, which
# Deno offers only as the unstable Deno.listenDatagram. Same flag as `deno task shale`.
UNSTABLE="--unstable-net"

if [ -n "${DENORT_BIN:-}" ]; then
  export DENORT_BIN
fi

# Stamp the version into the compiled graph, and put the source file back whatever happens.
cp src/config/version.ts src/config/version.ts.orig
trap 'mv src/config/version.ts.orig src/config/version.ts' EXIT INT TERM
sed "s/export const VERSION = \"dev\";/export const VERSION = \"${VERSION}\";/" \
  src/config/version.ts.orig >src/config/version.ts

scripts/bundle.sh "$BUNDLE"
mkdir -p dist
for target in $TARGETS; do
  out="dist/shale-${VERSION}-${target}"
  echo "compiling ${out}"
  # shellcheck disable=SC2086
  deno compile $PERMISSIONS $INCLUDES $UNSTABLE --target "$target" --output "$out" "$BUNDLE/main.js"
done
