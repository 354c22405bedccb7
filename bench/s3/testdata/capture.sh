#!/bin/sh
# Regenerates the warp outputs that _warp_test.ts reads, from a real warp run against a server
# started by `deno task bench:s3 --only minio --keep` (or any S3 endpoint with these credentials).
# Usage: sh bench/s3/testdata/capture.sh 127.0.0.1:PORT
set -eu
host=$1
here=$(cd "$(dirname "$0")" && pwd)
warp=$here/../../.cache/bin/warp-v1.3.1
tmp=$(mktemp -d)
common="--host $host --access-key shalebench --secret-key shalebench-secret-key --json --no-color"
# A run long enough for warp's measured window (whole busy 1 s segments).
"$warp" get $common --obj.size 1MiB --objects 50 --concurrent 4 --duration 5s \
  --benchdata "$tmp/a" >"$here/warp-v1.3.1-get-1MiB.out"
# Four operation types, and too short for a measured window.
"$warp" mixed $common --obj.size 4KiB --objects 200 --concurrent 8 --duration 3s \
  --benchdata "$tmp/b" >"$here/warp-v1.3.1-mixed-4KiB-short.out"
# A fatal error (wrong secret key), as warp reports it with --json.
"$warp" stat --host "$host" --access-key shalebench --secret-key wrong-secret-key --json \
  --no-color --objects 10 --duration 2s --benchdata "$tmp/c" \
  >"$here/warp-v1.3.1-fatal.out" 2>&1 || true
rm -rf "$tmp"
