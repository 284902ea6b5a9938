/**
 * End to end with the real pre-commit (PyPI): a DAG repository whose .pre-commit-config.yaml points at a clone of
 * this repository. pre-commit installs the hook through its node support (npm install of the clone, whose `prepare`
 * builds dist/) with the system Node, then runs it from `git commit`. Slow: the first install runs npm.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAN_DAG, cleanEnv, commitAll, git, gitInit, preCommitBin, REPO, SECRET, SECRET_DAG, snapshotRepo, tmpDir, writeTree } from './helpers';

const PRE_COMMIT = preCommitBin();
const d = PRE_COMMIT ? describe : describe.skip;

d('pre-commit hook (real pre-commit, node language, system Node)', () => {
  let home: string;
  let hookRepo: { dir: string; rev: string };
  let work: string;
  const timings: Record<string, number> = {};

  const pc = (args: string[], cwd: string) => {
    const r = spawnSync(PRE_COMMIT!, args, { cwd, env: cleanEnv({ PRE_COMMIT_HOME: home }), encoding: 'utf8', timeout: 900_000 });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
  };
  /** `git commit` in the DAG repo: the installed pre-commit hook runs on the staged files. */
  const commit = (msg: string) => {
    const r = spawnSync('git', ['-c', 'commit.gpgsign=false', 'commit', '-m', msg], {
      cwd: work,
      env: cleanEnv({ PRE_COMMIT_HOME: home }),
      encoding: 'utf8',
      timeout: 900_000,
    });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
  };
  const explainInstallFailure = (out: string) => {
    if (/tsc: not found|command sh -c tsc|Cannot find module 'typescript/.test(out)) {
      throw new Error(
        'pre-commit could not build dag-guard: npm prepared the git dependency without its devDependencies ' +
          '(npm 11 leaks `-g` into the nested install). package.json must use `"prepare": "node scripts/prepare.js"`.\n' + out,
      );
    }
  };

  beforeAll(() => {
    home = tmpDir('dg-pchome-');
    hookRepo = snapshotRepo();
    work = tmpDir('dg-dagrepo-');
    gitInit(work);
    // The snippet of docs/integrations.md, as written: only the GitHub URL becomes the local hook repository and
    // `<commit-sha>` its commit (no tag exists; the docs pin a commit).
    const doc = fs.readFileSync(path.join(REPO, 'docs', 'integrations.md'), 'utf8');
    const snippet = /```yaml\n(repos:\n  - repo: https:\/\/github\.com\/dag-guard\/dag-guard\n[\s\S]*?)```/.exec(doc);
    expect(snippet, 'docs/integrations.md has the pre-commit snippet').not.toBeNull();
    expect(snippet![1]).toMatch(/^\s+rev: <commit-sha>/m);
    writeTree(work, {
      '.pre-commit-config.yaml': snippet![1].replace('https://github.com/dag-guard/dag-guard', hookRepo.dir).replace('<commit-sha>', hookRepo.rev),
      'README.md': 'DAGs\n',
    });
    commitAll(work, 'init');
    const t0 = Date.now();
    const inst = pc(['install', '--install-hooks'], work);
    timings.install = Date.now() - t0;
    explainInstallFailure(inst.out);
    expect(inst.code, inst.out).toBe(0);
  }, 900_000);

  afterAll(() => {
    console.log(`pre-commit e2e timings (ms): ${JSON.stringify(timings)}`);
    for (const p of [home, work, hookRepo?.dir]) if (p) fs.rmSync(p, { recursive: true, force: true });
  });

  it('the manifest validates with pre-commit itself, and the sandbox hook is serial and opt-in', () => {
    const r = pc(['validate-manifest', path.join(REPO, '.pre-commit-hooks.yaml')], REPO);
    expect(r.code, r.out).toBe(0);
    const manifest = fs.readFileSync(path.join(REPO, '.pre-commit-hooks.yaml'), 'utf8');
    expect(manifest).toMatch(/- id: dag-guard-sandbox[\s\S]*entry: dag-guard check --sandbox[\s\S]*require_serial: true/);
  });

  it('a clean DAG commits', () => {
    writeTree(work, { 'dags/clean_dag.py': CLEAN_DAG });
    git(work, 'add', 'dags/clean_dag.py');
    const t0 = Date.now();
    const r = commit('add clean DAG');
    timings.cleanCommit = Date.now() - t0;
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/dag-guard \(Airflow DAG security check\)\.+Passed/);
    expect(git(work, 'log', '-1', '--format=%s')).toBe('add clean DAG');
  });

  it('a DAG with a hardcoded password is blocked, named, and the secret is not printed', () => {
    const head = git(work, 'rev-parse', 'HEAD');
    writeTree(work, { 'dags/leaky_dag.py': SECRET_DAG });
    git(work, 'add', 'dags/leaky_dag.py');
    const t0 = Date.now();
    const r = commit('add leaky DAG');
    timings.blockedCommit = Date.now() - t0;
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toMatch(/dag-guard \(Airflow DAG security check\)\.+Failed/);
    expect(r.out).toContain('dags/leaky_dag.py:3:');
    expect(r.out).toContain('DG101');
    expect(r.out).not.toContain(SECRET);
    expect(git(work, 'rev-parse', 'HEAD')).toBe(head); // nothing committed
  });

  it('only staged Python files are checked: an unstaged leaky file does not block an unrelated commit', () => {
    writeTree(work, { 'dags/other.py': CLEAN_DAG.replace('"clean"', '"other"'), 'notes/leak.py': SECRET_DAG });
    git(work, 'reset', '-q'); // unstage the leaky DAG of the previous test
    git(work, 'add', 'dags/other.py');
    const r = commit('add other DAG');
    expect(r.code, r.out).toBe(0);
  });

  it('legacy workflow: with `args: [--baseline, ...]` a baselined leak commits, a new one is still blocked', () => {
    // The baseline is written by this checkout's CLI from the repository root, where pre-commit runs the hook.
    const w = spawnSync(process.execPath, [path.join(REPO, 'bin', 'dag-guard.js'), 'check', '--write-baseline', '.dag-guard-baseline.json', 'dags/leaky_dag.py'], {
      cwd: work,
      env: cleanEnv(),
      encoding: 'utf8',
    });
    expect(w.status, w.stderr).toBe(0);
    writeTree(work, {
      '.pre-commit-config.yaml': `repos:\n  - repo: ${hookRepo.dir}\n    rev: ${hookRepo.rev}\n    hooks:\n      - id: dag-guard\n        args: [--baseline, .dag-guard-baseline.json]\n`,
    });
    git(work, 'add', '.pre-commit-config.yaml', '.dag-guard-baseline.json', 'dags/leaky_dag.py');
    const ok = commit('baseline the legacy leak');
    expect(ok.code, ok.out).toBe(0);

    writeTree(work, { 'dags/new_leak.py': SECRET_DAG.replace('conn_id="x"', 'conn_id="new"') });
    git(work, 'add', 'dags/new_leak.py');
    const blocked = commit('a new leak');
    expect(blocked.code, blocked.out).not.toBe(0);
    expect(blocked.out).toContain('dags/new_leak.py:3:');
    expect(blocked.out).not.toContain('dags/leaky_dag.py:');
  });

  it('data files shipped with the DAGs: a staged .env or SQL file with a password is blocked; Markdown never reaches the hook', () => {
    const head = git(work, 'rev-parse', 'HEAD');
    writeTree(work, { 'dags/.env': `DB_PASSWORD=${SECRET}\n`, 'dags/sql/users.sql': `CREATE USER etl WITH PASSWORD '${SECRET}';\n` });
    git(work, 'add', 'dags/.env', 'dags/sql/users.sql');
    const blocked = commit('add env and sql');
    expect(blocked.code, blocked.out).not.toBe(0);
    expect(blocked.out).toContain('dags/.env:1:');
    expect(blocked.out).toContain('dags/sql/users.sql:1:');
    expect(blocked.out).not.toContain(SECRET);
    expect(git(work, 'rev-parse', 'HEAD')).toBe(head);
    git(work, 'reset', '-q');
    writeTree(work, { 'docs/notes.md': `password: ${SECRET}\n` });
    git(work, 'add', 'docs/notes.md');
    const md = commit('add notes');
    expect(md.code, md.out).toBe(0);
    expect(md.out).toMatch(/dag-guard \(Airflow DAG security check\)\.+\(no files to check\)Skipped/);
  });
});
