/** `check --changed-since REF` against real git repositories (a branch, a shallow clone). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLEAN_DAG, commitAll, git, gitInit, runCli, SECRET_DAG, tmpDir, writeTree } from './helpers';

function jsonOf(r: { code: number; stdout: string; stderr: string }): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** main: two leaky legacy DAGs; branch `feature`: adds, modifies, renames and deletes files. */
function repoWithBranch(): string {
  const dir = tmpDir('dg-changed-');
  gitInit(dir);
  writeTree(dir, {
    'dags/legacy_leak.py': SECRET_DAG,
    'dags/to_modify.py': CLEAN_DAG,
    'dags/to_rename.py': CLEAN_DAG.replace('"clean"', '"renamed"'),
    'dags/to_delete.py': SECRET_DAG.replace('conn_id="x"', 'conn_id="y"'),
    'dags/untouched.py': CLEAN_DAG.replace('"clean"', '"untouched"'),
  });
  commitAll(dir, 'main');
  git(dir, 'branch', '-M', 'main');
  git(dir, 'checkout', '-q', '-b', 'feature');
  writeTree(dir, { 'dags/added.py': CLEAN_DAG.replace('"clean"', '"added"') });
  fs.appendFileSync(path.join(dir, 'dags/to_modify.py'), '# touched\n');
  git(dir, 'mv', 'dags/to_rename.py', 'dags/renamed.py');
  git(dir, 'rm', '-q', 'dags/to_delete.py');
  commitAll(dir, 'feature work');
  return dir;
}

describe('--changed-since', () => {
  it('checks only files added, modified or renamed since the merge-base; deleted files are ignored', () => {
    const dir = repoWithBranch();
    // main moves on after the branch point: its new commits must not count as the branch's changes.
    git(dir, 'checkout', '-q', 'main');
    writeTree(dir, { 'dags/main_only.py': SECRET_DAG });
    commitAll(dir, 'main moves on');
    git(dir, 'checkout', '-q', 'feature');

    const r = runCli(['check', '--changed-since', 'main', '-f', 'json', '.'], dir);
    const rep = jsonOf(r);
    expect(r.code, r.stderr).toBe(0);
    expect(rep.summary.filesScanned).toBe(3); // added.py, to_modify.py, renamed.py
    expect(rep.findings).toEqual([]);

    // Whole-tree run for contrast: the legacy leak is there.
    const all = jsonOf(runCli(['check', '-f', 'json', '.'], dir));
    expect(all.findings.map((f: { path: string }) => f.path)).toContain('dags/legacy_leak.py');
  });

  it('a leak introduced on the branch fails the gate, with the file named', () => {
    const dir = repoWithBranch();
    writeTree(dir, { 'dags/new_leak.py': SECRET_DAG });
    commitAll(dir, 'leak');
    const r = runCli(['check', '--changed-since', 'main', '-f', 'json'], dir);
    expect(r.code).toBe(1);
    expect(jsonOf(r).findings.map((f: { path: string }) => f.path)).toEqual(['dags/new_leak.py']);
  });

  it('counts staged, unstaged and untracked working-tree changes (ad hoc runs before committing)', () => {
    const dir = repoWithBranch();
    writeTree(dir, { 'dags/untracked_leak.py': SECRET_DAG });
    fs.writeFileSync(path.join(dir, 'dags/untouched.py'), SECRET_DAG); // unstaged edit
    const r = runCli(['check', '--changed-since', 'main', '-f', 'json'], dir);
    const paths = jsonOf(r).findings.map((f: { path: string }) => f.path).sort();
    expect(paths).toEqual(['dags/untouched.py', 'dags/untracked_leak.py']);
  });

  it('restricts explicit paths further and reports paths relative to the working directory', () => {
    const dir = repoWithBranch();
    writeTree(dir, { 'dags/sub/leak.py': SECRET_DAG, 'other/leak.py': SECRET_DAG });
    commitAll(dir, 'two leaks');
    const r = runCli(['check', '--changed-since', 'main', '-f', 'json', 'sub'], path.join(dir, 'dags'));
    expect(jsonOf(r).findings.map((f: { path: string }) => f.path)).toEqual(['sub/leak.py']);
  });

  it('works from a symlinked path to the repository (git reports the real path)', () => {
    const dir = repoWithBranch();
    writeTree(dir, { 'dags/new_leak.py': SECRET_DAG });
    const link = path.join(tmpDir('dg-link-'), 'repo');
    fs.symlinkSync(dir, link);
    const r = runCli(['check', '--changed-since', 'main', '-f', 'json', 'dags'], link);
    expect(jsonOf(r).findings.map((f: { path: string }) => f.path)).toEqual(['dags/new_leak.py']);
  });

  it('a shallow clone without the merge-base fails with a clear fetch-depth message (exit 2)', () => {
    const origin = repoWithBranch();
    for (let i = 0; i < 3; i++) {
      writeTree(origin, { [`dags/f${i}.py`]: CLEAN_DAG.replace('"clean"', `"f${i}"`) });
      commitAll(origin, `feature ${i}`);
    }
    const clone = tmpDir('dg-shallow-');
    git(clone, 'clone', '-q', '--depth', '1', '--no-single-branch', `file://${origin}`, 'c');
    const c = path.join(clone, 'c');
    git(c, 'checkout', '-q', 'feature');
    const r = runCli(['check', '--changed-since', 'origin/main'], c);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the merge base of origin\/main and HEAD is missing from this shallow clone/);
    expect(r.stderr).toMatch(/fetch-depth: 0/);

    // A single-branch shallow clone (the CI default) does not even have the target branch.
    const single = tmpDir('dg-shallow-');
    git(single, 'clone', '-q', '--depth', '1', '--branch', 'feature', `file://${origin}`, 'c');
    const r1 = runCli(['check', '--changed-since', 'origin/main'], path.join(single, 'c'));
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/revision origin\/main is not in this shallow clone.*fetch-depth: 0/);

    // After fetching the history, the same command works.
    git(c, 'fetch', '-q', '--unshallow');
    const ok = runCli(['check', '--changed-since', 'origin/main', '-f', 'json'], c);
    expect(ok.code, ok.stderr).toBe(0);
    expect(jsonOf(ok).summary.filesScanned).toBe(6);
  });

  it('an unknown revision and a directory outside git are usage errors (exit 2)', () => {
    const dir = repoWithBranch();
    const r = runCli(['check', '--changed-since', 'no-such-branch'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown revision no-such-branch/);
    const plain = tmpDir('dg-nogit-');
    writeTree(plain, { 'a.py': CLEAN_DAG });
    const r2 = runCli(['check', '--changed-since', 'main'], plain, { GIT_CEILING_DIRECTORIES: path.dirname(plain) });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/needs a git repository/);
  });
});
