/** `dag-guard init`: a starter config that validates, never overwrites, and is found by discovery. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { starterConfig } from '../../src/integrations';
import { runCli, SECRET_DAG, tmpDir, writeTree } from './helpers';

describe('dag-guard init', () => {
  it('writes a commented .dag-guard.toml that passes validation and is discovered by check', () => {
    const dir = tmpDir('dg-init-');
    writeTree(dir, { 'dags/leaky.py': SECRET_DAG });
    const r = runCli(['init'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Created .dag-guard.toml');
    const file = path.join(dir, '.dag-guard.toml');
    const text = fs.readFileSync(file, 'utf8');
    expect(text.split('\n').filter((l) => l.startsWith('#')).length).toBeGreaterThan(10);
    const cfg = loadConfig(file);
    expect(cfg.failOn).toBe('low');
    expect(cfg.source).toBe(file);
    // The CLI discovers and validates it (an invalid config would exit 2).
    const c = runCli(['check', 'dags'], dir);
    expect(c.code, c.stderr).toBe(1);
  });

  it('refuses to overwrite an existing config (exit 2), dedicated or in pyproject', () => {
    const dir = tmpDir('dg-init-');
    writeTree(dir, { '.dag-guard.toml': 'fail-on = "high"\n' });
    const r = runCli(['init'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists; not overwriting/);
    expect(fs.readFileSync(path.join(dir, '.dag-guard.toml'), 'utf8')).toBe('fail-on = "high"\n');

    const d2 = tmpDir('dg-init-');
    writeTree(d2, { 'pyproject.toml': '[tool.dag-guard]\nfail-on = "high"\n' });
    const r2 = runCli(['init', '--pyproject'], d2);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/already has a \[tool\.dag-guard\] section/);
  });

  it('--pyproject appends a [tool.dag-guard] section that validates, keeping the file', () => {
    const dir = tmpDir('dg-init-');
    const original = '[project]\nname = "dags"\nversion = "1"\n\n[tool.ruff]\nline-length = 120\n';
    writeTree(dir, { 'pyproject.toml': original });
    const r = runCli(['init', '--pyproject'], dir);
    expect(r.code, r.stderr).toBe(0);
    const text = fs.readFileSync(path.join(dir, 'pyproject.toml'), 'utf8');
    expect(text.startsWith(original)).toBe(true);
    const cfg = loadConfig(path.join(dir, 'pyproject.toml'));
    expect(cfg.failOn).toBe('low');
    expect(cfg.airflowignoreSyntax).toBe('glob');
  });

  it('every commented-out example in the starter is a valid setting when uncommented', () => {
    const dir = tmpDir('dg-init-');
    const uncommented = starterConfig('dedicated')
      .split('\n')
      .map((l) => (/^# ?[a-z"][\w"*/.-]* = /.test(l) ? l.replace(/^# ?/, '').replace(/\s+#.*$/, '') : l))
      .join('\n');
    expect(uncommented).toContain('select = ["DG"]');
    expect(uncommented).toContain('"tests/**" = ["secret"]');
    fs.writeFileSync(path.join(dir, 'dag-guard.toml'), uncommented);
    const cfg = loadConfig(path.join(dir, 'dag-guard.toml'));
    expect(cfg.sandbox.timeout).toBe(30);
    expect(cfg.perFileIgnores['tests/**']).toEqual(['secret']);
  });
});
