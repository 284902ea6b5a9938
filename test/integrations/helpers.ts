import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const BIN = path.join(REPO, 'bin', 'dag-guard.js');
export const CACHED_PRE_COMMIT = '/opt/dag-guard-ci/pre-commit-venv/bin/pre-commit';

/** A hardcoded password passed to Connection: DG101 reports it. */
export const SECRET = 'Sup3r-S3cret-Passw0rd';
export const SECRET_DAG = `from airflow.models import Connection

conn = Connection(conn_id="x", password="${SECRET}")
`;
export const CLEAN_DAG = `from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("clean", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    EmptyOperator(task_id="noop")
`;

const made: string[] = [];
process.once('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A temporary directory, removed when the test process exits (KEEP_TEST_TMP=1 keeps them for debugging). */
export function tmpDir(prefix = 'dg-int-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (!process.env.KEEP_TEST_TMP) made.push(dir);
  return dir;
}

export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

/** An environment for child git/npm/pre-commit processes: no GIT_* from a surrounding hook, no npm_* from `npm test`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(GIT_|npm_|NPM_CONFIG_|PRE_COMMIT)/i.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    GIT_AUTHOR_NAME: 'dag-guard test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'dag-guard test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    GIT_CONFIG_NOSYSTEM: '1',
    NO_COLOR: '1',
    FORCE_COLOR: '',
    ...extra,
  };
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    env: cleanEnv(),
    encoding: 'utf8',
  }).trim();
}

export function gitInit(dir: string): void {
  git(dir, 'init', '-q');
}

export function commitAll(dir: string, message: string): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The real pre-commit, or null. Under CI=true a missing pre-commit is a failure, never a skip. */
export function preCommitBin(): string | null {
  const cands = [process.env.PRE_COMMIT_BIN, CACHED_PRE_COMMIT].filter(Boolean) as string[];
  for (const c of cands) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  const onPath = spawnSync('pre-commit', ['--version'], { encoding: 'utf8' });
  if (!onPath.error && onPath.status === 0) return 'pre-commit';
  const msg = `pre-commit not found (PRE_COMMIT_BIN=${process.env.PRE_COMMIT_BIN ?? ''}, ${CACHED_PRE_COMMIT}, PATH); run .ci/setup-pre-commit.sh`;
  if (process.env.CI === 'true') throw new Error(`${msg} -- required under CI=true`);
  console.warn(`\n*** SKIPPING real pre-commit tests: ${msg} ***\n`);
  return null;
}

/**
 * A git repository holding the current working tree of dag-guard (tracked and untracked, not ignored files: what a
 * commit of it would contain), committed; returns its path and commit. pre-commit clones it like any hook repository.
 */
export function snapshotRepo(): { dir: string; rev: string } {
  const dir = tmpDir('dg-hookrepo-');
  const list = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO,
    env: cleanEnv(),
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const rel of list) {
    const src = path.join(REPO, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(src);
    } catch {
      continue; // deleted in the working tree
    }
    if (!st.isFile() && !st.isSymbolicLink()) continue;
    const dst = path.join(dir, rel);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.copyFileSync(src, dst);
    fs.chmodSync(dst, st.mode & 0o777);
  }
  gitInit(dir);
  const rev = commitAll(dir, 'snapshot of the dag-guard working tree');
  return { dir, rev };
}
