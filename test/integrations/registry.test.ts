/**
 * One registry, one adjustment layer, validated rule options (issue 12): sandbox rules take the same selectors and
 * configuration as static ones, and a typo in the configuration is an error, never a silent no-op.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adjustFindings } from '../../src/adjust';
import { DEFAULT_CONFIG } from '../../src/config';
import { fingerprint } from '../../src/fingerprint';
import type { Finding } from '../../src/report';
import { jsonReport, runCli, tempTree } from '../helpers/cli';

const sandboxFinding = (p: string): Finding => ({
  ruleId: 'DG901',
  category: 'sandbox-violation',
  severity: 'high',
  path: p,
  line: 1,
  column: 1,
  endLine: 1,
  endColumn: 1,
  message: 'Parsing this file attempted network access: connect 203.0.113.7:443',
  source: 'sandbox',
  fingerprint: fingerprint('DG901', p, 'connect 203.0.113.7:443'),
});

describe('one registry for static and sandbox rules', () => {
  it('accepts sandbox rule selectors wherever static ones are accepted, with did-you-mean for unknown ones', () => {
    const dir = tempTree({ 'dags/a.py': 'x = 1\n' });
    for (const args of [['--ignore', 'DG950'], ['--select', 'DG1,DG9'], ['--ignore', 'sandbox-network-attempt']]) {
      const r = runCli(['check', 'dags', '--no-config', '--no-cache', ...args], { cwd: dir });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    fs.writeFileSync(path.join(dir, 'dag-guard.toml'), '[severity]\nDG901 = "critical"\n[per-file-ignores]\n"dags/legacy/**" = ["DG902"]\n');
    expect(runCli(['check', 'dags', '--no-cache'], { cwd: dir }).code).toBe(0);
    const bad = runCli(['check', 'dags', '--no-config', '--no-cache', '--ignore', 'DG9999'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown rule selector.*DG9999.*did you mean `DG909`/);
  });

  it('applies selection, per-file ignores and severity overrides to sandbox findings as to static ones', () => {
    const config = { ...DEFAULT_CONFIG, perFileIgnores: { 'dags/legacy/**': ['sandbox-network-attempt'] }, severity: { DG901: 'critical' as const } };
    const all = new Set(['DG901', 'DG101']);
    const out = adjustFindings([sandboxFinding('dags/new.py'), sandboxFinding('dags/legacy/old.py')], { config, selected: all, cwd: '/repo', base: '/repo' });
    expect(out.findings.map((f) => `${f.path}:${f.severity}`)).toEqual(['dags/new.py:critical']);
    expect(out.dropped).toBe(1);
    const none = adjustFindings([sandboxFinding('dags/new.py')], { config: DEFAULT_CONFIG, selected: new Set(['DG101']), cwd: '/repo', base: '/repo' });
    expect(none.findings).toEqual([]);
  });

  it('gives sandbox findings fingerprints that do not depend on the working directory', () => {
    // the sandbox passes the identity path (relative to the repository top), as the static engine does
    expect(sandboxFinding('dags/a.py').fingerprint).toBe(fingerprint('DG901', 'dags/a.py', 'connect 203.0.113.7:443'));
    expect(fingerprint('DG901', 'dags/a.py', 'x')).not.toBe(fingerprint('DG901', '../repo/dags/a.py', 'x'));
  });
});

describe('rule options', () => {
  const run = (toml: string) => {
    const dir = tempTree({ 'dags/a.py': 'import telnetlib\n', 'dag-guard.toml': toml });
    return runCli(['check', 'dags', '-f', 'json', '--no-cache'], { cwd: dir });
  };
  it('are validated against the rule\'s schema: unknown rule, unknown option, wrong type, a rule without options', () => {
    const cases: [string, RegExp][] = [
      ['[rules.DG501]\nalow = ["telnetlib"]\n', /\[rules\.DG501\]: unknown option `alow` \(did you mean `allow`\?\)/],
      ['[rules.DG999]\nallow = []\n', /\[rules\.DG999\]: unknown rule \(did you mean/],
      ['[rules.DG501]\nallow = 3\n', /\[rules\.DG501\]: .*allow/],
      ['[rules.DG101]\nallow = ["x"]\n', /DG101 takes no options/],
    ];
    for (const [toml, want] of cases) {
      const r = run(toml);
      expect(r.code, toml).toBe(2);
      expect(r.stderr, toml).toMatch(want);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });
  it('take effect when valid, by rule id or name', () => {
    expect(jsonReport(run('')).findings.map((f: { ruleId: string }) => f.ruleId)).toEqual(['DG501']);
    expect(jsonReport(run('[rules.DG501]\nallow = ["telnetlib"]\n')).findings).toEqual([]);
    expect(jsonReport(run('[rules.denied-module]\nallow = "telnetlib"\n')).findings).toEqual([]);
  });
});
