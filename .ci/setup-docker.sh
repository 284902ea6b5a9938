#!/usr/bin/env bash
# Idempotent: make a Docker engine available for the sandbox tests.
#   - installs Debian's docker.io when dockerd/docker are missing (apt-get update first)
#   - starts dockerd in the background when no engine answers (log: /var/log/dockerd.log)
#   - waits (bounded, DOCKER_WAIT_SEC, default 60 s) until `docker info` works, else fails with the log tail
# A remote/external engine is respected: if DOCKER_HOST is set, nothing is installed or started; we only wait for it.
set -euo pipefail
WAIT="${DOCKER_WAIT_SEC:-60}"
log() { printf '[setup-docker] %s\n' "$*" >&2; }

if [[ -n "${DOCKER_HOST:-}" ]]; then
  log "DOCKER_HOST=$DOCKER_HOST is set: using that engine"
else
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    [[ $(id -u) == 0 ]] || { log "ERROR: docker.io missing and not root"; exit 1; }
    log "installing docker.io"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  if ! docker info >/dev/null 2>&1; then
    if pgrep -x dockerd >/dev/null; then
      log "dockerd is running but not answering yet"
    else
      [[ $(id -u) == 0 ]] || { log "ERROR: no engine and not root: cannot start dockerd"; exit 1; }
      log "starting dockerd"
      nohup dockerd >/var/log/dockerd.log 2>&1 &
    fi
  fi
fi

for ((i = 0; i < WAIT * 2; i++)); do
  if docker info >/dev/null 2>&1; then
    log "engine ready: $(docker version -f 'server {{.Server.Version}}, api {{.Server.APIVersion}}' 2>/dev/null)"
    exit 0
  fi
  sleep 0.5
done
log "ERROR: Docker engine not reachable after ${WAIT}s"
[[ -f /var/log/dockerd.log ]] && tail -20 /var/log/dockerd.log >&2
exit 1
