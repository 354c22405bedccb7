#!/bin/sh
# Builds the three WebAssembly cores from rs.c and highwayhash.c with Debian's clang-19/lld-19.
# Usage: sh src/wasm/build.sh [outdir]   (default: src/wasm/). Output is byte-reproducible: no debug
# info, no names or producers sections, sources referred to by relative paths only.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
out=$(cd "$out" && pwd)
CC=${CLANG:-clang-19}
cd "$here"
common="--target=wasm32 -O3 -nostdlib -mbulk-memory -mmutable-globals -msign-ext -mnontrapping-fptoint
  -ffile-prefix-map=$here=. -fno-ident -Wall -Wextra -Werror
  -Wl,--no-entry -Wl,--strip-all -Wl,--export-memory -Wl,--export=__heap_base
  -Wl,-z,stack-size=65536 -Wl,--initial-memory=1048576"
build() {
  name=$1
  shift
  # shellcheck disable=SC2086
  "$CC" $common "$@" -o "$out/core_$name.wasm" rs.c highwayhash.c
}
build scalar
build simd128 -msimd128
build relaxed -msimd128 -mrelaxed-simd
