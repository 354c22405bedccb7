#!/bin/sh
# Bundles main.ts into one folder that `deno compile` embeds whole (compile.sh), and that
# `deno run` starts the same way (tests/e2e_bundle_test.ts, bench/startup_bench.ts, .ci/run):
#
#   scripts/bundle.sh [out-dir]        (default build/bundle; DENO=/path/to/deno to pick the binary)
#   SHALE_VERSION=1.2.3 scripts/bundle.sh   stamps `shale --version` (src/config/version.ts)
#
# A relative out-dir is taken from the repository's root. It is emptied first, so it must be
# missing, empty or an earlier bundle (a folder holding main.js); anything else is refused.
#
# Why: a start from ~100 modules pays a file read, cache lookups and a separate compile per module;
# the bundle is main.js plus the chunks of what is loaded on first use (`lazy()` imports stay
# lazy: --code-splitting), ~25 ms less start-up CPU under `deno run` (bench/README.md).
#
# What the bundle folder holds, flat, because the code finds its files next to itself
# (`new URL(name, import.meta.url)`, and every chunk lands in the folder's root):
#   main.js, chunk-*.js and the lazily loaded modules' files;
#   core_*.wasm         the WebAssembly core (src/wasm/core.ts reads VARIANT_FILES);
#   md5_worker.ts       the MD5 worker, bundled on its own (src/object/md5_offload.ts starts
#                       "./md5_worker.ts"; the file is JavaScript, which Deno also runs as .ts).
# --keep-names keeps class and function names (error names, logs) as in the source.
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-build/bundle}
if [ -e "$OUT" ] && [ ! -f "$OUT/main.js" ] && [ -n "$(ls -A "$OUT")" ]; then
  echo "bundle.sh: $OUT is not empty and holds no earlier bundle: not emptied" >&2
  exit 1
fi
case "${SHALE_VERSION:-}" in
*[!A-Za-z0-9._+-]*)
  echo "bundle.sh: SHALE_VERSION may hold only letters, digits and . _ + -" >&2
  exit 1
  ;;
esac
rm -rf "$OUT"
"${DENO:-deno}" bundle --quiet --platform deno --code-splitting --keep-names --outdir "$OUT" main.ts
"${DENO:-deno}" bundle --quiet --platform deno --keep-names --output "$OUT/md5_worker.js" \
  src/object/md5_worker.ts
mv "$OUT/md5_worker.js" "$OUT/md5_worker.ts"
cp src/wasm/core_*.wasm "$OUT/"
if [ -n "${SHALE_VERSION:-}" ]; then
  # Exactly one `var VERSION = "dev";` (src/config/version.ts as bundled), or the stamp failed.
  stamped=$(grep -l '^var VERSION = "dev";$' "$OUT"/*.js || true)
  [ "$(echo "$stamped" | wc -w)" -eq 1 ] || { echo "bundle.sh: VERSION not found once" >&2; exit 1; }
  sed "s/^var VERSION = \"dev\";\$/var VERSION = \"${SHALE_VERSION}\";/" "$stamped" >"$stamped.new"
  mv "$stamped.new" "$stamped"
fi
