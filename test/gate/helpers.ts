import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GateCheck } from '../../src/gate';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(REPO_ROOT, 'bin', 'dag-guard.js');
export const CACHED_GIT_SYNC = '/opt/dag-guard-ci/bin/git-sync';

export const CLEAN_DAG = `from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("clean", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    EmptyOperator(task_id="noop")
`;

/** A DAG with a hardcoded credential passed to Connection(password=...). */
export const SECRET_DAG = `from airflow.models import Connection

password = "Sup3rS3cretValue!"
conn = Connection(conn_id="warehouse", conn_type="postgres", host="db.internal", login="etl", password=password)
`;

export const FIXED_DAG = `import os
from airflow.models import Connection

conn = Connection(conn_id="warehouse", conn_type="postgres", host="db.internal", login="etl", password=os.environ["WAREHOUSE_PASSWORD"])
`;

/**
 * The git-sync v4 binary, or null (the tests then skip, loudly). The Go module proxy our machines reach refuses
 * k8s.io/git-sync (403), so a fresh CI machine may have no binary: see .ci/setup-git-sync.sh. Set
 * DAG_GUARD_REQUIRE_GIT_SYNC=1 to make a missing binary a failure instead.
 */
export function gitSyncBin(): string | null {
  const cands = [process.env.GIT_SYNC_BIN, CACHED_GIT_SYNC].filter(Boolean) as string[];
  for (const c of cands) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  const msg = `git-sync binary not found (GIT_SYNC_BIN=${process.env.GIT_SYNC_BIN ?? ''}, ${CACHED_GIT_SYNC}); run .ci/setup-git-sync.sh`;
  if (process.env.DAG_GUARD_REQUIRE_GIT_SYNC === '1') throw new Error(`${msg} -- required by DAG_GUARD_REQUIRE_GIT_SYNC=1`);
  console.warn(`\n*** SKIPPING real git-sync tests: ${msg} ***\n`);
  return null;
}

export function tmpDir(prefix = 'dg-gate-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'T',
  GIT_AUTHOR_EMAIL: 't@example.invalid',
  GIT_COMMITTER_NAME: 'T',
  GIT_COMMITTER_EMAIL: 't@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'safe.directory=*', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...GIT_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** A bare repository plus a working clone to commit from. */
export function makeRepo(): { bare: string; work: string; commit: (files: Record<string, string | null>, msg: string) => string } {
  const base = tmpDir('dg-repo-');
  const bare = path.join(base, 'dags.git');
  const work = path.join(base, 'work');
  git(base, 'init', '-q', '--bare', bare);
  git(base, 'init', '-q', work);
  git(work, 'remote', 'add', 'origin', bare);
  const commit = (files: Record<string, string | null>, msg: string): string => {
    for (const [rel, content] of Object.entries(files)) {
      const p = path.join(work, rel);
      if (content === null) fs.rmSync(p, { force: true });
      else {
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, content);
      }
    }
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', msg);
    git(work, 'push', '-q', '-f', 'origin', 'HEAD:refs/heads/main');
    return git(work, 'rev-parse', 'HEAD');
  };
  return { bare, work, commit };
}

export async function waitFor<T>(what: string, fn: () => T | null | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function readJson(p: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch {
    return null;
  }
}

/** A check that fails whenever a file contains the marker BAD (fast, for atomicity and I/O tests). */
export const markerCheck: GateCheck = async (dir) => {
  const findings = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && fs.readFileSync(p, 'utf8').includes('BAD')) {
        findings.push({
          ruleId: 'TEST1', category: 'malicious' as const, severity: 'high' as const, path: path.relative(dir, p), line: 1, column: 1,
          endLine: 1, endColumn: 2, message: 'marker', source: 'static' as const,
        });
      }
    }
  };
  walk(dir);
  return {
    report: { version: '1.0', findings, errors: [], summary: { filesScanned: 1, findings: findings.length, durationMs: 0 } },
    exitCode: findings.length ? 1 : 0,
  };
};

export function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const d = tmpDir('dg-mnt-probe-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', d]);
  if (r.status !== 0) return false;
  spawnSync('umount', [d]);
  return true;
}

export function mountTmpfs(size: string): string {
  const d = tmpDir('dg-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', d]);
  return d;
}

export function umount(d: string): void {
  spawnSync('umount', ['-l', d]);
}

export function listFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out[r] = fs.readFileSync(path.join(d, e.name), 'utf8');
    }
  };
  walk(dir, '');
  return out;
}
