#!/usr/bin/env bash
# Idempotent: make gVisor available to the local Docker engine as the runtime `runsc`, so the sandbox suite can run
# under it as well as under runc (`docker run --runtime runsc ...`, dag-guard `--runtime runsc`).
#   - installs Debian's `runsc` package when the binary is missing (apt-get update first)
#   - merges a `runsc` entry into /etc/docker/daemon.json, keeping every other key already there
#   - SIGHUPs dockerd (a config reload: running containers are untouched; dockerd is never restarted) or starts it
#     when none runs, then waits (bounded, RUNSC_WAIT_SEC, default 30 s) until `docker info` lists the runtime
#   - smoke-tests a container under runsc with a local image (no registry pull)
#
# Why these runtimeArgs:
#   --platform=ptrace  gVisor's ptrace platform intercepts syscalls with ptrace(2) and needs no virtualisation
#                      support. It is the default of Debian bookworm's build (0.0~20221219); naming it keeps newer
#                      builds (default `systrap`) on the platform CI measured. On the CI VM `--platform=kvm` hangs
#                      (`runsc do` did not finish in 20 s) although /dev/kvm exists.
#   --network=none     on the CI VM runsc refuses to start a sandbox with its own network stack:
#                      "cannot run with network enabled in root network namespace". The sandbox never has a
#                      network anyway (`docker run --network none`), so gVisor's own network is switched off too:
#                      the container sees loopback only. Consequence: under runsc EVERY container has no network,
#                      whatever `docker run --network` says; runsc is only fit for network-less workloads.
# A remote engine (DOCKER_HOST set) is left alone: we only check that it already lists `runsc`.
set -euo pipefail
WAIT="${RUNSC_WAIT_SEC:-30}"
CONF=/etc/docker/daemon.json
RUNTIME_ARGS='["--platform=ptrace", "--network=none"]'
SMOKE_IMAGE="${RUNSC_SMOKE_IMAGE:-}"
log() { printf '[setup-runsc] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
has_runtime() { docker info -f '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; }
# true once the engine serves runsc with exactly our runtimeArgs (a reload is asynchronous: an older entry
# without --network=none would otherwise pass the wait below)
has_our_runtime() {
  docker info -f '{{json .Runtimes.runsc}}' 2>/dev/null \
    | python3 -c 'import json,sys; r=json.load(sys.stdin) or {}; sys.exit(r.get("runtimeArgs") != json.loads(sys.argv[1]))' "$RUNTIME_ARGS" 2>/dev/null
}

if [[ -n "${DOCKER_HOST:-}" ]]; then
  has_runtime || die "DOCKER_HOST=$DOCKER_HOST has no runtime 'runsc'; register it on that engine"
  log "DOCKER_HOST=$DOCKER_HOST lists runsc"
  exit 0
fi
[[ $(id -u) == 0 ]] || die "must run as root (apt-get, $CONF, signalling dockerd)"

# ---- 1. binary
RUNSC="$(command -v runsc || true)"
if [[ -z "$RUNSC" ]]; then
  log "installing Debian's runsc package"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >/dev/null
  RUNSC="$(command -v runsc)" || die "runsc not found after apt-get install"
fi
log "runsc: $RUNSC ($(dpkg-query -W -f '${Version}' runsc 2>/dev/null || echo 'not from dpkg'))"

# ---- 2. daemon.json: merge, never clobber (an unreadable file is an error, not something to overwrite)
mkdir -p "$(dirname "$CONF")"
changed="$(python3 - "$CONF" "$RUNSC" "$RUNTIME_ARGS" <<'PY'
import json, os, sys
conf, path, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
try:
    with open(conf) as f:
        text = f.read()
    data = json.loads(text) if text.strip() else {}
except FileNotFoundError:
    data = {}
except ValueError as e:
    sys.exit(f"[setup-runsc] ERROR: {conf} is not valid JSON ({e}); fix it by hand")
if not isinstance(data, dict):
    sys.exit(f"[setup-runsc] ERROR: {conf} is not a JSON object")
want = {"path": path, "runtimeArgs": args}
runtimes = data.setdefault("runtimes", {})
if runtimes.get("runsc") == want:
    print("no")
    sys.exit(0)
runtimes["runsc"] = want
tmp = conf + ".dag-guard.tmp"
with open(tmp, "w") as f:
    json.dump(data, f, indent=2)
    f.write("\n")
os.replace(tmp, conf)
print("yes")
PY
)"

# ---- 3. reload (or start) dockerd until it lists the runtime with our args
if [[ "$changed" == yes ]] || ! has_our_runtime; then
  pid="$(pgrep -xo dockerd || true)"
  if [[ -n "$pid" ]]; then
    log "registered runsc in $CONF; reloading dockerd (SIGHUP to pid $pid)"
    kill -HUP "$pid"
  else
    log "no dockerd running: starting it (log /var/log/dockerd.log)"
    nohup dockerd >>/var/log/dockerd.log 2>&1 &
  fi
fi
for ((i = 0; i < WAIT * 2; i++)); do
  has_our_runtime && break
  sleep 0.5
done
has_our_runtime || { tail -20 /var/log/dockerd.log >&2 2>/dev/null || true; die "dockerd does not list runtime runsc with runtimeArgs $RUNTIME_ARGS after ${WAIT}s (is $CONF overridden by dockerd flags?)"; }
log "dockerd lists runtime runsc: $(docker info -f '{{json .Runtimes.runsc}}')"

# ---- 4. smoke test with a local image (any of the sandbox images; no pull)
if [[ -z "$SMOKE_IMAGE" ]]; then
  for img in dag-guard-sandbox:plain dag-guard-sandbox:local dag-guard-sandbox:airflow2; do
    docker image inspect "$img" >/dev/null 2>&1 && { SMOKE_IMAGE="$img"; break; }
  done
fi
if [[ -z "$SMOKE_IMAGE" ]]; then
  log "no local image for a smoke test yet (build sandbox images first); skipping it"
  exit 0
fi
t0=$(date +%s%N)
out="$(docker run --rm --runtime runsc --network none --entrypoint python3 "$SMOKE_IMAGE" -c 'print(6*7)' 2>&1)" \
  || die "smoke test under runsc failed: $out"
[[ "$out" == 42 ]] || die "smoke test under runsc printed '$out', expected 42"
log "smoke test under runsc OK with $SMOKE_IMAGE ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
