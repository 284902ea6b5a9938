import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonReport, runCli, tempTree } from './helpers/cli';

const EVAL = 'x = input()\neval(x)\n';

describe('exit codes', () => {
  it('0 when nothing is found', () => {
    const dir = tempTree({ 'dags/ok.py': 'print("hello")\n' });
    const r = runCli(['check', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No findings in 1 file/);
  });

  it('1 with a finding at or above the threshold, 0 below it', () => {
    const dir = tempTree({ 'a.py': EVAL });
    const r = runCli(['check', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/a\.py:2:1: DG301 \[high\]/);
    expect(runCli(['check', '--fail-on', 'critical', dir]).code).toBe(0);
  });

  it('2 for a missing path, with a message and no stack trace', () => {
    const r = runCli(['check', '/definitely/not/here']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/path does not exist: \/definitely\/not\/here/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('2 for an unknown option or a bad option value', () => {
    expect(runCli(['check', '--bogus']).code).toBe(2);
    expect(runCli(['check', '--fail-on', 'severe', '.']).code).toBe(2);
    expect(runCli(['check', '--format', 'yaml', '.']).code).toBe(2);
    expect(runCli(['check', '--workers', '-3', '.']).code).toBe(2);
  });

  it('2 for an unknown rule selector', () => {
    const dir = tempTree({ 'a.py': EVAL });
    const r = runCli(['check', '--select', 'DG999x', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown rule selector\(s\): DG999x/);
  });
});

describe('configuration', () => {
  it('names an unknown key and exits 2', () => {
    const dir = tempTree({ 'pyproject.toml': '[tool.dag-guard]\nfail_on = "high"\n', 'a.py': EVAL });
    const r = runCli(['check', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown key `fail_on` in \[tool\.dag-guard\]/);
  });

  it('reports broken TOML with exit 2', () => {
    const dir = tempTree({ 'dag-guard.toml': 'fail-on = "high\n', 'a.py': EVAL });
    const r = runCli(['check', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid TOML in .*dag-guard\.toml/);
  });

  it('rejects a wrongly typed value', () => {
    const dir = tempTree({ 'dag-guard.toml': 'fail-on = "severe"\n', 'a.py': EVAL });
    const r = runCli(['check', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fail-on: must be one of info, low, medium, high, critical/);
  });

  it('is discovered upward from the checked path; --no-config and --config override', () => {
    const dir = tempTree({
      'pyproject.toml': '[project]\nname = "dags"\n\n[tool.dag-guard]\nignore = ["DG301"]\n',
      'dags/sub/a.py': EVAL,
      'strict.toml': 'fail-on = "low"\n',
    });
    expect(runCli(['check', path.join(dir, 'dags')]).code).toBe(0);
    expect(runCli(['check', '--no-config', path.join(dir, 'dags')]).code).toBe(1);
    expect(runCli(['check', '--config', path.join(dir, 'strict.toml'), path.join(dir, 'dags')]).code).toBe(1);
    expect(runCli(['check', '--config', path.join(dir, 'missing.toml'), dir]).code).toBe(2);
  });

  it('applies severity overrides, per-file ignores and the fail threshold', () => {
    const dir = tempTree({
      '.dag-guard.toml': 'fail-on = "medium"\n[severity]\nDG301 = "low"\n',
      'a.py': EVAL,
    });
    const r = runCli(['check', '-f', 'json', dir]);
    expect(r.code).toBe(0);
    expect(jsonReport(r).findings[0].severity).toBe('low');

    const dir2 = tempTree({
      '.dag-guard.toml': '[per-file-ignores]\n"**/legacy/*.py" = ["code-injection"]\n',
      'legacy/a.py': EVAL,
      'new/a.py': EVAL,
    });
    const r2 = jsonReport(runCli(['check', '-f', 'json', dir2]));
    expect(r2.findings.map((f: { path: string }) => path.basename(path.dirname(f.path)))).toEqual(['new']);
    expect(r2.summary.suppressed).toBe(1);
  });
});

describe('bad input never passes silently', () => {
  it('reports a binary file under errors, fails the run, and still scans the rest', () => {
    const dir = tempTree({ 'bin.py': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]), 'ok.py': 'print(1)\n' });
    const r = runCli(['check', '-f', 'json', dir]);
    const rep = jsonReport(r);
    expect(r.code).toBe(1);
    expect(rep.errors).toHaveLength(1);
    expect(rep.errors[0].path).toMatch(/bin\.py$/);
    expect(rep.errors[0].message).toMatch(/binary file/);
    expect(rep.summary.filesScanned).toBe(1);
  });

  it('reports a file that is not valid UTF-8', () => {
    const dir = tempTree({ 'latin.py': Buffer.from('name = "caf\xe9"\n', 'latin1') });
    const r = runCli(['check', '-f', 'json', dir]);
    expect(r.code).toBe(1);
    expect(jsonReport(r).errors[0].message).toMatch(/not valid utf-8/);
  });

  it('honours a PEP 263 coding declaration', () => {
    const dir = tempTree({ 'latin.py': Buffer.from('# -*- coding: latin-1 -*-\nname = "caf\xe9"\neval(name)\n', 'latin1') });
    const r = jsonReport(runCli(['check', '-f', 'json', dir]));
    expect(r.errors).toEqual([]);
    expect(r.findings.map((f: { ruleId: string; line: number }) => [f.ruleId, f.line])).toEqual([['DG301', 3]]);
  });

  it('keeps detecting after a syntax error and warns about it', () => {
    const dir = tempTree({ 'broken.py': 'def f(:\n    pass\n\nx = input()\neval(x)\n' });
    const r = runCli(['check', '-f', 'json', dir]);
    const rep = jsonReport(r);
    expect(rep.warnings.some((w: { code: string; line: number }) => w.code === 'DG000' && w.line === 1)).toBe(true);
    expect(rep.findings.some((f: { ruleId: string; line: number }) => f.ruleId === 'DG301' && f.line === 5)).toBe(true);
    expect(r.code).toBe(1);
  });

  it('reports the syntax error of a file no rule had to parse only with --check-syntax or check-syntax = true', () => {
    const dir = tempTree({ 'broken.py': 'def f(:\n    return 1\n' });
    const codes = (r: ReturnType<typeof runCli>) => jsonReport(r).warnings.map((w: { code: string }) => w.code);
    const plain = runCli(['check', '-f', 'json', '--no-config', dir]);
    expect(codes(plain)).toEqual([]);
    expect(plain.code).toBe(0);
    const flag = runCli(['check', '-f', 'json', '--no-config', '--check-syntax', dir]);
    expect(codes(flag)).toEqual(['DG000']);
    expect(flag.code).toBe(0); // a warning, not a finding
    fs.writeFileSync(path.join(dir, '.dag-guard.toml'), 'check-syntax = true\n');
    expect(codes(runCli(['check', '-f', 'json', dir]))).toEqual(['DG000']);
    // a file named on the command line (the pre-commit case) is always parsed
    expect(codes(runCli(['check', '-f', 'json', '--no-config', path.join(dir, 'broken.py')]))).toEqual(['DG000']);
  });

  it('refuses a file over the size limit instead of skipping it silently', () => {
    const dir = tempTree({ '.dag-guard.toml': 'max-file-size-kb = 1\n', 'big.py': `x = 1\n${'# padding\n'.repeat(300)}` });
    const r = runCli(['check', '-f', 'json', dir]);
    expect(r.code).toBe(1);
    expect(jsonReport(r).errors[0].message).toMatch(/over the .* limit/);
  });

  it('scans a large generated file', () => {
    const body = `import os\n${'def f(a):\n    return a * 2\n\n'.repeat(40000)}eval(os.environ["X"])\n`;
    const dir = tempTree({ 'huge.py': body });
    const rep = jsonReport(runCli(['check', '-f', 'json', dir]));
    expect(rep.errors).toEqual([]);
    expect(rep.findings.map((f: { line: number }) => f.line)).toEqual([120002]);
  });
});

describe('suppressions', () => {
  it('honours dag-guard, nosec and noqa comments on any line of a multi-line statement', () => {
    const dir = tempTree({
      'a.py': [
        'import builtins',
        'x = input()',
        'eval(x)  # dag-guard: ignore[DG301] -- the input is a fixture',
        'eval(',
        '    x,  # nosec B307',
        ')',
        'builtins.exec(x)  # noqa: S102',
        'exec(x)  # dag-guard: ignore[exec-of-dynamic-code] -- by name',
        'exec(x)',
        '',
      ].join('\n'),
    });
    const rep = jsonReport(runCli(['check', '-f', 'json', dir]));
    expect(rep.findings.map((f: { line: number }) => f.line)).toEqual([9]);
    expect(rep.summary.suppressed).toBe(4);
  });

  it('reports a suppression that matches nothing', () => {
    const dir = tempTree({ 'a.py': 'print(1)  # dag-guard: ignore[DG301] -- stale\nprint(2)  # nosec\n' });
    const rep = jsonReport(runCli(['check', '-f', 'json', dir]));
    expect(rep.warnings.filter((w: { code: string }) => w.code === 'DG001').map((w: { line: number }) => w.line)).toEqual([1, 2]);
  });

  it('can require a reason: a reason-less suppression is then not applied', () => {
    const dir = tempTree({
      '.dag-guard.toml': 'require-suppression-reason = true\n',
      'a.py': 'x = input()\neval(x)  # dag-guard: ignore[DG301]\nexec(x)  # dag-guard: ignore[DG301] -- reviewed in SEC-12\n',
    });
    const r = runCli(['check', '-f', 'json', dir]);
    const rep = jsonReport(r);
    expect(r.code).toBe(1);
    expect(rep.findings.map((f: { line: number }) => f.line)).toEqual([2]);
    expect(rep.warnings.map((w: { code: string }) => w.code)).toContain('DG002');
  });

  it('ignores # nosec when configured to', () => {
    const dir = tempTree({ '.dag-guard.toml': 'nosec = false\n', 'a.py': 'x = input()\neval(x)  # nosec\n' });
    expect(runCli(['check', dir]).code).toBe(1);
  });
});

describe('file discovery', () => {
  const tree = {
    'dags/a.py': EVAL,
    'dags/.hidden/h.py': EVAL,
    'dags/__pycache__/c.py': EVAL,
    'dags/venv/pyvenv.cfg': 'home = /usr\n',
    'dags/venv/lib/v.py': EVAL,
    'dags/notes.txt': 'eval(x)\n',
    'dags/legacy/old.py': EVAL,
    'dags/tmp_scratch.py': EVAL,
  };
  const scanned = (dir: string, extra: string[] = [], target = dir): string[] =>
    jsonReport(runCli(['check', '-f', 'json', ...extra, target], { cwd: dir }))
      .findings.map((f: { path: string }) => f.path)
      .sort();

  const summary = (dir: string, extra: string[] = []): any => // eslint-disable-line @typescript-eslint/no-explicit-any
    jsonReport(runCli(['check', '-f', 'json', ...extra, dir], { cwd: dir })).summary;

  it('walks every Python file Airflow could load (hidden and cache folders too); virtualenvs only under --enforce', () => {
    const dir = tempTree(tree);
    const all = ['dags/.hidden/h.py', 'dags/__pycache__/c.py', 'dags/a.py', 'dags/legacy/old.py', 'dags/tmp_scratch.py'];
    expect(scanned(dir)).toEqual(all);
    expect(summary(dir).skipped).toEqual({ exclude: 0, include: 0, virtualenv: 1 });
    expect(scanned(dir, ['--enforce'])).toEqual([...all, 'dags/venv/lib/v.py'].sort());
  });

  it('.airflowignore (glob syntax, Airflow 3 default, with negation) chooses DAG entry points but hides nothing from the scan', () => {
    const dir = tempTree({ ...tree, 'dags/.airflowignore': 'legacy/\ntmp_*.py\n!tmp_keep.py\n', 'dags/tmp_keep.py': EVAL });
    expect(scanned(dir)).toEqual(['dags/.hidden/h.py', 'dags/__pycache__/c.py', 'dags/a.py', 'dags/legacy/old.py', 'dags/tmp_keep.py', 'dags/tmp_scratch.py']);
    // legacy/old.py and tmp_scratch.py: scanned, counted, not imported by the sandbox
    expect(summary(dir).airflowIgnored).toBe(2);
  });

  it('.airflowignore in regexp syntax (Airflow 2 default): `airflowignore-syntax` or `airflow-version = "2"`', () => {
    // `tmp_[a-z]+\.py$` is a regexp; as a glob it matches nothing
    const ign = '# old stuff\nlegacy\ntmp_[a-z]+\\.py$\n';
    for (const cfg of ['airflowignore-syntax = "regexp"\n', 'airflow-version = "2.10"\n']) {
      const dir = tempTree({ ...tree, 'dags/.airflowignore': ign, '.dag-guard.toml': cfg });
      expect(scanned(dir)).toContain('dags/tmp_scratch.py');
      expect(summary(dir).airflowIgnored, cfg).toBe(2);
    }
    const glob = tempTree({ ...tree, 'dags/.airflowignore': ign, '.dag-guard.toml': 'airflow-version = "3"\n' });
    expect(summary(glob).airflowIgnored).toBe(1); // `legacy` is a glob too; the regexp line matches nothing as one
  });

  it('reports paths relative to the working directory, walking the folder above it, a sibling or itself', () => {
    const dir = tempTree({ 'dags/a.py': EVAL, 'dags/sub/b.py': EVAL, 'other/c.py': EVAL });
    const paths = (cwd: string, target: string): string[] =>
      jsonReport(runCli(['check', '--no-config', '--no-cache', '-f', 'json', target], { cwd }))
        .findings.map((f: { path: string }) => f.path)
        .sort();
    const dags = path.join(dir, 'dags');
    expect(paths(dags, '.')).toEqual(['a.py', 'sub/b.py']);
    // the walk passes through the working directory itself: its files are not `../dags/…`
    expect(paths(dags, '..')).toEqual(['../other/c.py', 'a.py', 'sub/b.py']);
    expect(paths(path.join(dags, 'sub'), '../..')).toEqual(['../../other/c.py', '../a.py', 'b.py']);
    expect(paths(dags, '../other')).toEqual(['../other/c.py']);
  });

  it('applies --include / --exclude globs and counts what they skipped', () => {
    const dir = tempTree(tree);
    expect(scanned(dir, ['--exclude', 'dags/legacy/**'])).toEqual(['dags/.hidden/h.py', 'dags/__pycache__/c.py', 'dags/a.py', 'dags/tmp_scratch.py']);
    expect(summary(dir, ['--exclude', 'dags/legacy/**']).skipped.exclude).toBe(1);
    expect(scanned(dir, ['--include', 'tmp_*.py'])).toEqual(['dags/tmp_scratch.py']);
    expect(summary(dir, ['--include', 'tmp_*.py']).skipped.include).toBe(4);
  });

  it('skips a non-Python file named explicitly, with a DG005 warning; scans an extension-less file with a python #! line', () => {
    const dir = tempTree({ ...tree, 'bin/run_etl': '#!/usr/bin/env python3\nimport ctypes\n' });
    expect(scanned(dir, [], path.join(dir, 'dags', 'notes.txt'))).toEqual([]);
    const rep = jsonReport(runCli(['check', '-f', 'json', 'dags/notes.txt', 'bin/run_etl'], { cwd: dir }));
    expect(rep.warnings.map((w: { code: string; path: string }) => `${w.code}:${w.path}`)).toEqual(['DG005:dags/notes.txt']);
    expect(rep.findings.map((f: { ruleId: string; path: string }) => `${f.ruleId}:${f.path}`)).toEqual(['DG501:bin/run_etl']);
    expect(rep.summary.filesScanned).toBe(1);
  });
});

describe('reports', () => {
  it('follows the JSON report contract', () => {
    const dir = tempTree({ 'a.py': EVAL, 'b.py': Buffer.from([0, 1, 2]) });
    const rep = jsonReport(runCli(['check', '-f', 'json', dir], { cwd: dir }));
    expect(Object.keys(rep)).toEqual(expect.arrayContaining(['version', 'findings', 'errors', 'summary']));
    expect(typeof rep.version).toBe('string');
    const f = rep.findings[0];
    expect(f).toMatchObject({
      ruleId: 'DG301',
      category: 'code-injection',
      severity: 'high',
      path: 'a.py',
      line: 2,
      column: 1,
      endLine: 2,
      endColumn: 8,
      source: 'static',
    });
    expect(typeof f.message).toBe('string');
    expect(rep.errors[0]).toEqual({ path: 'b.py', message: expect.any(String) });
    expect(rep.summary).toMatchObject({ filesScanned: 1, findings: 1, durationMs: expect.any(Number) });
  });

  it('writes --output files and keeps stdout empty', () => {
    const dir = tempTree({ 'a.py': EVAL });
    const out = path.join(dir, 'report.json');
    const r = runCli(['check', '-f', 'json', '-o', out, dir]);
    expect(r.stdout).toBe('');
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).summary.findings).toBe(1);
  });

  it('lists and explains rules', () => {
    const list = runCli(['rules']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^DG301\s+exec-of-dynamic-code\s+code-injection/m);
    const ex = runCli(['explain', 'dg301']);
    expect(ex.stdout).toMatch(/## What it does[\s\S]*## Why is this bad\?[\s\S]*## Example[\s\S]*## Use instead/);
    expect(runCli(['explain', 'DG999']).code).toBe(2);
  });
});

describe('worker threads', () => {
  it('give the same report as one thread, in the same order, for a repository big enough to use them', () => {
    // 30 copies of every sample (≈ 1 MB): enough for the automatic choice to start workers (one per 256 KiB, per core)
    const samples = path.join(__dirname, '..', 'samples');
    const files: Record<string, string> = { 'dags/broken.py': 'def (:\n' };
    for (const kind of ['clean', 'dangerous']) {
      for (const f of fs.readdirSync(path.join(samples, kind))) {
        const text = fs.readFileSync(path.join(samples, kind, f), 'utf8');
        for (let i = 0; i < 30; i++) files[`dags/${kind}/${i}/${f}`] = text;
      }
    }
    const dir = tempTree(files);
    const report = (workers: string) => {
      const r = jsonReport(runCli(['check', '-f', 'json', '--no-config', '--check-syntax', '--workers', workers, dir]));
      delete r.summary.durationMs;
      return r;
    };
    const one = report('1');
    expect(one.summary.filesScanned).toBe(301);
    expect(one.findings.length).toBeGreaterThan(300);
    expect(one.warnings.map((w: { code: string }) => w.code)).toEqual(['DG000']);
    expect(report('2')).toEqual(one);
    expect(report('0')).toEqual(one); // automatic
  });
});
