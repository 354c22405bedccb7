#!/usr/bin/env bash
# Builds MinIO's client `mc` once, pinned, for the `mc admin` end-to-end tests
# (tests/e2e_iam_mc_test.ts) and prints the binary's path on its last line.
#
# How this works: `go install module@version` asks the Go module proxy for the version list (to
# look for a deprecation notice), which this network's proxy refuses, so the pinned module is
# fetched with `go mod download` (it reads only that version) and built with `go build` inside its
# module directory, which also honours mc's own replace directives. Everything goes under
# $SHALE_MC_CACHE (default ~/.cache/shale-mc), outside the work tree so that deno fmt/lint/test
# never walk Go sources. The binary's name carries the version: changing the pin rebuilds.
# A failed build exits non-zero (CI must fail, not skip).
set -euo pipefail

# mc stopped tagging Go-style versions; this is the commit of 2025-07-21 (RELEASE.2025-07-21),
# which declares go 1.24 and builds with Go 1.26.
MC_MODULE=github.com/minio/mc
MC_VERSION=v0.0.0-20250721052808-ee72571936f1

cache=${SHALE_MC_CACHE:-${HOME:-/root}/.cache/shale-mc}
target="${cache}/bin/mc-${MC_VERSION}"
if [ -x "$target" ]; then
  echo "$target"
  exit 0
fi
mkdir -p "${cache}/bin"
export GOPATH="${cache}/go" GOCACHE="${cache}/gocache" GOFLAGS="-modcacherw -buildvcs=false"
export GOTOOLCHAIN=local GONOSUMDB="$MC_MODULE"
started=$(date +%s)
dir=$(go mod download -json "${MC_MODULE}@${MC_VERSION}" | sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p')
if [ -z "$dir" ]; then
  echo "go mod download ${MC_MODULE}@${MC_VERSION} gave no directory" >&2
  exit 1
fi
(cd "$dir" && go build -trimpath -o "${target}.tmp" .)
mv "${target}.tmp" "$target"
echo "built mc ${MC_VERSION} in $(($(date +%s) - started)) s" >&2
echo "$target"
