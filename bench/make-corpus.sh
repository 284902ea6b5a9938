#!/usr/bin/env bash
# Builds the real-repository benchmark / false-positive corpus OUTSIDE the repository.
#
#   bench/make-corpus.sh [CORPUS_DIR]        (default /work/corpus)
#
# Layout: CORPUS_DIR/<owner>__<name>/<original paths>.py — only *.py files, one directory per
# repository, extracted from the pinned commit below (never commit this code: it is third-party).
# CORPUS_DIR/MANIFEST.tsv lists repo, commit, subpaths, file count and bytes.
#
# Sources: a bare git directory per repo under $MIRRORS/<owner>+<name>/repo (how our tooling
# fetches snapshots), else `git clone --bare --filter=blob:none` from GitHub (network; optional —
# the benchmark itself never needs this corpus: see bench/gen-corpus.js for a synthetic one).
set -euo pipefail
OUT=${1:-/work/corpus}
MIRRORS=${MIRRORS:-/work/.mirror}
TMP=${TMPDIR:-/tmp}/dag-guard-corpus-clones

# owner/name            commit                                    subpaths (space-separated, "." = whole repo)
REPOS=$(cat <<'LIST'
Yanan-Gao/airflow-dags             6038f7a3eeb6fb6d75ab1c480d0f3fd7ba34244c .
arenadata/airflow                  7d29a786407295ceb82c9f84913b10e476af1d29 airflow/example_dags providers
sul-dlss/libsys-airflow            1432b3e08906df0593a81e7a22d4714c7b86f382 .
Amsterdam/dataservices-airflow     54606a638626a26bec24e5fafb4242488638e4d9 .
elifesciences/data-hub-core-airflow-dags 14cedacd615399360414b170f2a3762f77949a35 .
wangxia514/dea-airflow             9aaa84386a3560f1ba6f3e9d6a666fddbe367045 .
mozilla/telemetry-airflow          a5be2ecbbf7f894e52d414573090fe2d1b93898d .
cityofaustin/atd-airflow           16c7a0823f56e7e661d43a423e2b662c9e8833d7 .
stellar/stellar-etl-airflow        c23b34e1514c3152456e2460fb4a2ecc0bdb413b .
gip-inclusion/pilotage-airflow     4f69095f997e8019362230753b33f4ee8108cf62 .
blockchain-etl/ethereum-etl-airflow 27d0fb037cbe8b9ba62880f99c155823ab2e4a35 .
LIST
)

mkdir -p "$OUT"
printf 'repo\tcommit\tsubpaths\tfiles\tbytes\n' > "$OUT/MANIFEST.tsv"
while read -r repo commit subs; do
  [ -z "$repo" ] && continue
  git_dir="$MIRRORS/${repo/\//+}/repo"
  if [ ! -d "$git_dir" ]; then
    git_dir="$TMP/${repo/\//+}.git"
    [ -d "$git_dir" ] || git clone -q --bare --filter=blob:none "https://github.com/$repo" "$git_dir"
  fi
  dest="$OUT/${repo/\//__}"
  rm -rf "$dest"; mkdir -p "$dest"
  # arenadata/airflow (an apache/airflow fork, 2025): keep only example DAGs and providers' system tests
  # (the DAG-shaped part of Airflow), not the framework itself.
  paths=()
  if [ "$subs" = "." ]; then
    mapfile -t paths < <(git --git-dir="$git_dir" ls-tree -r --name-only "$commit" | grep '\.py$')
  else
    mapfile -t paths < <(git --git-dir="$git_dir" ls-tree -r --name-only "$commit" -- $subs \
      | grep -E '\.py$' | grep -E '(^|/)(example_dags|tests/system)/')
  fi
  # One blob at a time (snapshots may lack large non-Python blobs, which makes `git archive` fail).
  for p in "${paths[@]}"; do
    mkdir -p "$dest/$(dirname "$p")"
    git --git-dir="$git_dir" cat-file blob "$commit:$p" > "$dest/$p" 2>/dev/null || { rm -f "$dest/$p"; echo "skip (blob absent): $repo $p" >&2; }
  done
  n=$(find "$dest" -name '*.py' -type f | wc -l)
  b=$(find "$dest" -name '*.py' -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
  printf '%s\t%s\t%s\t%s\t%s\n' "$repo" "$commit" "$subs" "$n" "$b" >> "$OUT/MANIFEST.tsv"
  echo "$repo: $n files, $b bytes"
done <<< "$REPOS"
column -t -s "$(printf "\t")" "$OUT/MANIFEST.tsv"
