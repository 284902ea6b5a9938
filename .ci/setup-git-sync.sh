#!/usr/bin/env bash
# Installs the real git-sync v4 binary the gate's end-to-end tests drive (test/gate/*), at a fixed cached path.
# Idempotent: when the binary is already there and reports the wanted version, nothing is rebuilt.
# Prints the binary's path on stdout as its last line (progress goes to stderr).
#
# Sources, in order:
#   1. the cache: $GIT_SYNC_CACHE_DIR/bin/git-sync (default /opt/dag-guard-ci/bin/git-sync) at $GIT_SYNC_VERSION,
#      or a binary named by $GIT_SYNC_BIN;
#   2. the Go module registry: `go install k8s.io/git-sync@<version>`.
# As of 2026-11 the Go module proxy reachable from our machines answers 403 for every k8s.io/git-sync version
# (and v4 tags lack a /v4 module path). Then no binary is installed, this script says so loudly and exits 0,
# and the git-sync end-to-end tests skip with a warning (set DAG_GUARD_REQUIRE_GIT_SYNC=1 to make them fail).
# We do not build git-sync from a copy of its repository here: that source is not ours to ship a recipe for.
set -euo pipefail

GIT_SYNC_VERSION="${GIT_SYNC_VERSION:-v4.7.1}"
CACHE_DIR="${GIT_SYNC_CACHE_DIR:-/opt/dag-guard-ci}"
BIN="$CACHE_DIR/bin/git-sync"
log() { printf 'setup-git-sync: %s\n' "$*" >&2; }

have_wanted() {
  [ -x "$BIN" ] || return 1
  local v
  v="$("$BIN" --version 2>/dev/null | head -n1 || true)"
  [ "$v" = "$GIT_SYNC_VERSION" ]
}

if have_wanted; then
  log "cached: $BIN ($GIT_SYNC_VERSION)"
  echo "$BIN"
  exit 0
fi

if [ -n "${GIT_SYNC_BIN:-}" ] && [ -x "$GIT_SYNC_BIN" ]; then
  log "using GIT_SYNC_BIN=$GIT_SYNC_BIN ($("$GIT_SYNC_BIN" --version 2>/dev/null | head -n1))"
  echo "$GIT_SYNC_BIN"
  exit 0
fi

unavailable() {
  log "WARNING: git-sync $GIT_SYNC_VERSION is not available: $1"
  log "WARNING: the gate's real-git-sync end-to-end tests will be SKIPPED (everything else still runs)."
  log "Provide a binary with GIT_SYNC_BIN=/path/to/git-sync (or at $BIN) to run them."
  exit 0
}

command -v go >/dev/null || unavailable "no Go toolchain"
mkdir -p "$CACHE_DIR/bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ldflags="-s -w -X k8s.io/git-sync/pkg/version.VERSION=$GIT_SYNC_VERSION"

log "trying the Go module registry: k8s.io/git-sync@$GIT_SYNC_VERSION"
if GOBIN="$work/gobin" GOFLAGS=-mod=mod CGO_ENABLED=0 timeout 300 go install -ldflags "$ldflags" "k8s.io/git-sync@$GIT_SYNC_VERSION" 2>"$work/goinstall.log"; then
  install -m 0755 "$work/gobin/git-sync" "$BIN"
else
  sed 's/^/  go: /' "$work/goinstall.log" | head -n 5 >&2
  unavailable "the Go module registry refused k8s.io/git-sync@$GIT_SYNC_VERSION"
fi

have_wanted || { log "installed $BIN but \`$BIN --version\` does not say $GIT_SYNC_VERSION"; exit 1; }
log "installed: $BIN ($GIT_SYNC_VERSION)"
echo "$BIN"
