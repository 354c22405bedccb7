#!/bin/sh
# Builds the single `shale` binary with `deno compile`.
#
#   ./compile.sh                       # every target below
#   TARGETS=x86_64-unknown-linux-gnu ./compile.sh
#   DENORT_BIN=/path/to/denort ./compile.sh   # offline build hosts (deno compile reads DENORT_BIN)
#   DIST=/elsewhere BUNDLE=/tmp/b ./compile.sh  # other output and bundle folders
#
# Output: $DIST/shale-<version>-<target> (default dist/), compiled from the folder
# scripts/bundle.sh makes. The permissions are the narrowest the server needs and must stay
# identical to `deno task shale` in deno.json (tests/systemd_test.ts checks it and runs this script
# to the end; tests/e2e_bundle_test.ts runs the bundle with these flags).
set -eu
cd "$(dirname "$0")"

VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
TARGETS=${TARGETS:-"x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin"}
DIST=${DIST:-dist}
# Network for the listeners, read/write for drives and credentials, env for configuration, sys for
# hostname and free-space figures. No --allow-run, no --allow-ffi, no --allow-all.
PERMISSIONS="--allow-net --allow-read --allow-write --allow-env --allow-sys"
# What is compiled is scripts/bundle.sh's folder (main.js and its chunks: fewer, larger modules
# start faster). The WebAssembly core is read next to its loader at start-up and the MD5 worker is
# not in main.js's graph, so the whole folder is embedded; the chunks are in the graph anyway.
BUNDLE=${BUNDLE:-build/bundle}
INCLUDES="--include $BUNDLE/"
# systemd readiness (READY=1 / STOPPING=1 to NOTIFY_SOCKET) needs a Unix datagram socket, which
# Deno offers only as the unstable Deno.listenDatagram. Same flag as `deno task shale`.
UNSTABLE="--unstable-net"
# The bundle is generated JavaScript: the sources were type-checked (`deno task check`), and the
# JSDoc type imports left in bundled npm code name files that no longer exist.
CHECK="--no-check"

if [ -n "${DENORT_BIN:-}" ]; then
  export DENORT_BIN
fi

# The version is stamped into the bundle; the sources stay as they are.
SHALE_VERSION="$VERSION" scripts/bundle.sh "$BUNDLE"
mkdir -p "$DIST"
for target in $TARGETS; do
  out="$DIST/shale-${VERSION}-${target}"
  echo "compiling ${out}"
  # shellcheck disable=SC2086
  deno compile $PERMISSIONS $INCLUDES $UNSTABLE $CHECK --target "$target" --output "$out" "$BUNDLE/main.js"
done
