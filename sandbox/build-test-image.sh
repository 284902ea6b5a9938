#!/usr/bin/env bash
# Build the local sandbox test image (default tag dag-guard-sandbox:local) WITHOUT any container registry:
#   debootstrap (Debian bookworm minbase, python3.11) -> venv with a pinned apache-airflow installed offline
#   from wheels downloaded on the host with pip -> tar -> `docker import` -> label.
# Flavours (first argument):
#   (none) | airflow3   dag-guard-sandbox:local     apache-airflow 3.1.8 + apache-airflow-providers-standard
#   airflow2            dag-guard-sandbox:airflow2  apache-airflow 2.11.2 + apache-airflow-providers-standard, pinned by
#                       sandbox/airflow2-constraints.txt (Airflow's own constraints files are on GitHub, out of reach)
# Both: same Debian bookworm base, CPython 3.11, /opt/venv, uid 50000 gid 0, AIRFLOW_HOME=/tmp/airflow.
# What differs for the harness (checked in the built images): DagBag is airflow.models.dagbag.DagBag in both
# (3.2+ moves it to airflow.dag_processing.dagbag); airflow.sdk exists only in 3.x; 2.11's `import airflow` runs
# settings.initialize(), which appends [core] dags_folder (after importing airflow_local_settings), the plugins
# folder and $AIRFLOW_HOME/config to sys.path, so the repository must not be the configured dags_folder of a
# process that should not run repository code; 2.x's .airflowignore default syntax is regexp, 3.x's is glob.
# Cached: a recipe hash of every input is stored as the image label `dag-guard.recipe`; when an image with
# that tag and label exists, nothing is rebuilt. Idempotent and safe to call from CI (exit 0 when cached).
#
# Env knobs: DAG_GUARD_IMAGE, AIRFLOW_VERSION, PROVIDERS_STANDARD_VERSION (empty: not installed),
#            AIRFLOW_CONSTRAINTS (a pip constraints file), DEBIAN_MIRROR,
#            DAG_GUARD_CACHE (wheel + rootfs cache dir), DAG_GUARD_FORCE_REBUILD=1.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

case "${1:-airflow3}" in
  airflow3)
    IMAGE="${DAG_GUARD_IMAGE:-dag-guard-sandbox:local}"
    AIRFLOW_VERSION="${AIRFLOW_VERSION:-3.1.8}"
    PROVIDERS_STANDARD_VERSION="${PROVIDERS_STANDARD_VERSION-1.21.0}"
    AIRFLOW_CONSTRAINTS="${AIRFLOW_CONSTRAINTS:-}"
    ;;
  airflow2)
    IMAGE="${DAG_GUARD_IMAGE:-dag-guard-sandbox:airflow2}"
    AIRFLOW_VERSION="${AIRFLOW_VERSION:-2.11.2}"
    # 2.11 has the operators in core (airflow.operators.*) too; the provider (which supports 2.11) makes DAGs
    # written the 3.x way (airflow.providers.standard.*) import on both images, as they do on a 2.11 deployment
    # that installed it ahead of its 3.x upgrade
    PROVIDERS_STANDARD_VERSION="${PROVIDERS_STANDARD_VERSION-1.21.0}"
    AIRFLOW_CONSTRAINTS="${AIRFLOW_CONSTRAINTS-$HERE/airflow2-constraints.txt}"
    ;;
  *) printf '[build-test-image] usage: %s [airflow3|airflow2]\n' "$0" >&2; exit 2 ;;
esac
SUITE=bookworm            # Python 3.11: the wheels below are cp311
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${DAG_GUARD_CACHE:-/var/cache/dag-guard}"
SANDBOX_UID=50000         # same uid as the official apache/airflow image; gid 0 like it

log() { printf '[build-test-image] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v docker >/dev/null || die "docker CLI not found (run .ci/setup-docker.sh first)"
docker info >/dev/null 2>&1 || die "no Docker engine reachable (DOCKER_HOST=${DOCKER_HOST:-unset}); run .ci/setup-docker.sh"

# ---- recipe hash over every input of the image: the build steps (RECIPE_REV: bump it when steps 2-4 change),
# the pins, the suite, the mirror and the architecture. The harness is NOT baked in (bind-mounted at run time),
# so editing it never rebuilds the image.
RECIPE_REV=1
# The constraints file's content is an input too (appended only when there is one, so the 3.x recipe is unchanged).
CONSTRAINTS_HASH=""
if [[ -n "$AIRFLOW_CONSTRAINTS" ]]; then
  [[ -f "$AIRFLOW_CONSTRAINTS" ]] || { printf '[build-test-image] ERROR: constraints file %s not found\n' "$AIRFLOW_CONSTRAINTS" >&2; exit 1; }
  CONSTRAINTS_HASH="$(sha256sum <"$AIRFLOW_CONSTRAINTS" | cut -c1-16)"
fi
RECIPE="$(echo "rev=$RECIPE_REV airflow=$AIRFLOW_VERSION std=$PROVIDERS_STANDARD_VERSION suite=$SUITE mirror=$DEBIAN_MIRROR arch=$(uname -m) uid=$SANDBOX_UID${CONSTRAINTS_HASH:+ constraints=$CONSTRAINTS_HASH}" | sha256sum | cut -c1-16)"
# A second, tiny image without Airflow (plain Debian python3) exercises the harness's no-Airflow fallback.
PLAIN_IMAGE="${DAG_GUARD_PLAIN_IMAGE:-dag-guard-sandbox:plain}"
PLAIN_RECIPE="$(echo "rev=$RECIPE_REV plain suite=$SUITE mirror=$DEBIAN_MIRROR arch=$(uname -m) uid=$SANDBOX_UID" | sha256sum | cut -c1-16)"
label_of() { docker image inspect -f '{{ index .Config.Labels "dag-guard.recipe" }}' "$1" 2>/dev/null || true; }
need_main=1
need_plain=1
if [[ "${DAG_GUARD_FORCE_REBUILD:-0}" != 1 ]]; then
  [[ "$(label_of "$IMAGE")" == "$RECIPE" ]] && need_main=0
  [[ "$(label_of "$PLAIN_IMAGE")" == "$PLAIN_RECIPE" ]] && need_plain=0
  if ((need_main == 0 && need_plain == 0)); then
    log "$IMAGE (recipe $RECIPE) and $PLAIN_IMAGE (recipe $PLAIN_RECIPE) are up to date; nothing to do"
    exit 0
  fi
  ((need_main)) && log "building $IMAGE (recipe $RECIPE; existing label: $(label_of "$IMAGE" | sed 's/^$/none/'))"
fi

# label an imported image through a one-line local build (no registry involved)
label_image() { # <from> <to> <recipe> [extra --label args...]
  local from="$1" to="$2" recipe="$3"
  shift 3
  printf 'FROM %s\n' "$from" | DOCKER_BUILDKIT=0 docker build -q --label "dag-guard.recipe=$recipe" "$@" -t "$to" - >/dev/null 2>&1 \
    || die "docker build (label) of $to failed"
}

[[ $(id -u) == 0 ]] || die "must run as root (debootstrap + chroot)"
need_pkgs=()
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v pip3 >/dev/null || command -v pip >/dev/null || need_pkgs+=(python3-pip)
if ((${#need_pkgs[@]})); then
  log "installing ${need_pkgs[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
PIP="$(command -v pip3 || command -v pip)"

mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock -w 1800 9 || die "another build holds $CACHE/.build.lock"
# a concurrent invocation may have built it while we waited for the lock
if [[ "${DAG_GUARD_FORCE_REBUILD:-0}" != 1 ]]; then
  [[ "$(label_of "$IMAGE")" == "$RECIPE" ]] && need_main=0
  [[ "$(label_of "$PLAIN_IMAGE")" == "$PLAIN_RECIPE" ]] && need_plain=0
  ((need_main || need_plain)) || { log "built meanwhile by another invocation; nothing to do"; exit 0; }
fi

# ---- 1. wheels (cached per pin set), downloaded for cp311 / manylinux x86_64 so they match the image's Python
WHEELS="$CACHE/wheels-airflow-$AIRFLOW_VERSION-std-${PROVIDERS_STANDARD_VERSION:-none}${CONSTRAINTS_HASH:+-c$CONSTRAINTS_HASH}"
pins=("apache-airflow==$AIRFLOW_VERSION")
[[ -n "$PROVIDERS_STANDARD_VERSION" ]] && pins+=("apache-airflow-providers-standard==$PROVIDERS_STANDARD_VERSION")
constraint_args=()
[[ -n "$AIRFLOW_CONSTRAINTS" ]] && constraint_args=(-c "$WHEELS/constraints.txt")
if ((need_main)) && [[ ! -f "$WHEELS/.complete" ]]; then
  log "downloading wheels into $WHEELS"
  mkdir -p "$WHEELS"
  # the copy inside the wheel dir is what the offline install in the chroot reads (/wheels/constraints.txt)
  [[ -n "$AIRFLOW_CONSTRAINTS" ]] && cp "$AIRFLOW_CONSTRAINTS" "$WHEELS/constraints.txt"
  if ! PIP_FIND_LINKS= "$PIP" download -q -d "$WHEELS" --only-binary=:all: "${constraint_args[@]}" \
    --python-version 3.11 --implementation cp --abi cp311 \
    --platform manylinux_2_36_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any "${pins[@]}" 2>"$WHEELS/.download.log"; then
    # Some releases (Airflow 2.10/2.11: python-nvd3) have sdist-only dependencies; pip then reports the binary-only
    # resolution as impossible. Build those wheels with the host's interpreter, which is only valid when it has the
    # image's ABI (CPython 3.11 on the same arch).
    [[ "$(python3 -c 'import sys,platform;print(sys.version_info[:2]==(3,11) and platform.machine())')" == "$(uname -m)" ]] \
      || { cat "$WHEELS/.download.log" >&2; die "sdist-only dependencies need a host CPython 3.11 to build wheels"; }
    log "no binary-only resolution (pip's reason: $WHEELS/.download.log): building wheels with the host's CPython 3.11"
    PIP_FIND_LINKS= "$PIP" wheel -q -w "$WHEELS" "${constraint_args[@]}" "${pins[@]}"
  fi
  touch "$WHEELS/.complete"
fi

# ---- 2. Debian minbase rootfs (cached per suite+mirror)
BASE="$CACHE/rootfs-$SUITE-minbase.tar"
if [[ ! -f "$BASE" ]]; then
  log "debootstrap $SUITE (minbase) from $DEBIAN_MIRROR"
  tmp="$(mktemp -d "$CACHE/deboot.XXXX")"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates "$SUITE" "$tmp" "$DEBIAN_MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log" >&2; rm -rf "$tmp"; die "debootstrap failed"; }
  tar -C "$tmp" -cf "$BASE.part" . && mv "$BASE.part" "$BASE"
  rm -rf "$tmp"
fi

# ---- 2b. the no-Airflow image: the base rootfs as is
if ((need_plain)); then
  docker import --change "USER $SANDBOX_UID:0" --change 'WORKDIR /tmp' --change 'CMD ["python3"]' \
    "$BASE" "dag-guard-sandbox-plain-base:$PLAIN_RECIPE" >/dev/null
  label_image "dag-guard-sandbox-plain-base:$PLAIN_RECIPE" "$PLAIN_IMAGE" "$PLAIN_RECIPE" \
    --label "org.opencontainers.image.description=dag-guard sandbox: Debian $SUITE python3 without Airflow"
  docker rmi "dag-guard-sandbox-plain-base:$PLAIN_RECIPE" >/dev/null 2>&1 || true
  log "built $PLAIN_IMAGE (recipe $PLAIN_RECIPE)"
fi
((need_main)) || exit 0

# ---- 3. install Airflow offline into /opt/venv inside a copy of the rootfs
WORK="$(mktemp -d "$CACHE/image.XXXX")"
cleanup() { for m in proc wheels; do umount "$WORK/root/$m" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$WORK/root"
tar -C "$WORK/root" -xf "$BASE"
mkdir -p "$WORK/root/wheels"
mount --bind "$WHEELS" "$WORK/root/wheels"
mount -t proc proc "$WORK/root/proc"
log "installing ${pins[*]} offline into /opt/venv"
chroot_constraints=""
[[ -n "$AIRFLOW_CONSTRAINTS" ]] && chroot_constraints="-c /wheels/constraints.txt"
check_import="import airflow"
[[ -n "$PROVIDERS_STANDARD_VERSION" ]] && check_import="import airflow, airflow.providers.standard"
chroot "$WORK/root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /bin/sh -ec "
  python3 -m venv /opt/venv
  /opt/venv/bin/pip install -q --no-index --find-links /wheels --no-cache-dir $chroot_constraints ${pins[*]}
  /opt/venv/bin/python -c '$check_import; print(\"airflow\", airflow.__version__)'
  echo 'airflow:x:$SANDBOX_UID:0:dag-guard sandbox:/tmp:/usr/sbin/nologin' >> /etc/passwd
  mkdir -p /opt/airflow/dags /opt/dag-guard
  # trim: docs, apt lists, caches (the image stays read-only at run time)
  rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /var/lib/apt/lists/* /var/cache/apt/* /root/.cache
"
umount "$WORK/root/proc" "$WORK/root/wheels"
rmdir "$WORK/root/wheels"

# ---- 4. import + label (a one-line docker build from the local image: no registry involved)
tmp_tag="dag-guard-sandbox-base:$RECIPE"
tar -C "$WORK/root" -c . | docker import \
  --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV AIRFLOW_HOME=/tmp/airflow' \
  --change "USER $SANDBOX_UID:0" \
  --change 'WORKDIR /tmp' \
  --change 'CMD ["python3"]' \
  - "$tmp_tag" >/dev/null
label_image "$tmp_tag" "$IMAGE" "$RECIPE" --label "dag-guard.airflow=$AIRFLOW_VERSION" \
  --label "org.opencontainers.image.description=dag-guard sandbox test image (Debian $SUITE + apache-airflow $AIRFLOW_VERSION)"
docker rmi "$tmp_tag" >/dev/null 2>&1 || true
log "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'), recipe $RECIPE)"
