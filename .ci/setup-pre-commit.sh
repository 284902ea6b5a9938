#!/usr/bin/env bash
# Installs the real pre-commit (from PyPI) that test/integrations/precommit.test.ts drives, into a cached venv.
# Idempotent: when the venv already has pre-commit at a version >= $PRE_COMMIT_MIN, nothing is installed.
# Prints the pre-commit executable's path on stdout as its last line (progress goes to stderr).
#
#   PRE_COMMIT_VENV  venv location (default /opt/dag-guard-ci/pre-commit-venv)
#   PRE_COMMIT_SPEC  pip requirement to install (default "pre-commit>=4,<5")
#   PYTHON           interpreter for the venv (default python3)
set -euo pipefail

VENV="${PRE_COMMIT_VENV:-/opt/dag-guard-ci/pre-commit-venv}"
SPEC="${PRE_COMMIT_SPEC:-pre-commit>=4,<5}"
PY="${PYTHON:-python3}"
BIN="$VENV/bin/pre-commit"
log() { printf 'setup-pre-commit: %s\n' "$*" >&2; }

if [ -x "$BIN" ] && "$VENV/bin/python" - "$SPEC" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
from packaging.requirements import Requirement
req = Requirement(sys.argv[1])
sys.exit(0 if req.specifier.contains(version(req.name), prereleases=True) else 1)
PY
then
  log "cached: $BIN ($("$BIN" --version))"
  echo "$BIN"
  exit 0
fi

command -v "$PY" >/dev/null || { log "$PY not found: pre-commit needs Python >= 3.9"; exit 1; }
log "creating $VENV and installing '$SPEC' from PyPI"
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv --clear "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SPEC" packaging >&2
log "installed: $("$BIN" --version)"
echo "$BIN"
