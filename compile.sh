#!/bin/sh
# Builds the single `shale` binary with `deno compile`.
#
#   ./compile.sh                       # every target below
#   TARGETS=x86_64-unknown-linux-gnu ./compile.sh
#   DENORT_BIN=/path/to/denort ./compile.sh   # offline build hosts (deno compile reads DENORT_BIN)
#
# Output: dist/shale-<version>-<target>. The permissions are the narrowest the server needs and
# must stay identical to `deno task shale` in deno.json (tests/compile_flags_test.ts checks it).
set -eu
cd "$(dirname "$0")"

VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
TARGETS=${TARGETS:-"x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin"}
# Network for the listeners, read/write for drives and credentials, env for configuration, sys for
# hostname and free-space figures. No --allow-run, no --allow-ffi, no --allow-all.
PERMISSIONS="--allow-net --allow-read --allow-write --allow-env --allow-sys"
# The WebAssembly core is read next to its loader at start-up, so it must be embedded; so must the
# MD5 worker's module (src/object/md5_worker.ts): a Worker's entry point is not in main.ts's graph.
INCLUDES="--include src/wasm/ --include src/object/md5_worker.ts"
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

mkdir -p dist
for target in $TARGETS; do
  out="dist/shale-${VERSION}-${target}"
  echo "compiling ${out}"
  # shellcheck disable=SC2086
  deno compile $PERMISSIONS $INCLUDES $UNSTABLE --target "$target" --output "$out" main.ts
done
