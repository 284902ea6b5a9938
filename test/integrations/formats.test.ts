/** --format sarif (validated against the official SARIF 2.1.0 schema), --format github, --output, and output hygiene. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { escapeData, escapeProperty } from '../../src/formatters/github';
import { FINGERPRINT_KEY } from '../../src/formatters/sarif';
import { CLEAN_DAG, runCli, SECRET, SECRET_DAG, tmpDir, writeTree } from './helpers';

const SCHEMA = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'data', 'sarif-schema-2.1.0.json'), 'utf8'));
/** A known-format token (DG103) and a password (DG101) in the same file. */
const TOKEN = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
const TOKEN_DAG = `from airflow.models import Variable

GITHUB_TOKEN = "${TOKEN}"
`;

function validator() {
  // unicodeRegExp: false: the official schema's `language` pattern is not a valid JavaScript /u regular expression.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(SCHEMA);
}

describe('--format sarif', () => {
  let dir: string;
  let log: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  let code: number;
  beforeAll(() => {
    dir = tmpDir('dg-sarif-');
    writeTree(dir, {
      'dags/leaky dag.py': SECRET_DAG,
      'dags/token_dag.py': TOKEN_DAG,
      'dags/clean.py': CLEAN_DAG,
      'dags/broken.py': 'def (:\n',
      'dags/big.py': 'x = 1\n'.repeat(400),
      // check-syntax: the broken file has nothing a rule would parse it for, and its DG000 is the warning under test
      '.dag-guard.toml': 'max-file-size-kb = 1\ncheck-syntax = true\n',
    });
    const r = runCli(['check', '-f', 'sarif', 'dags'], dir);
    code = r.code;
    log = JSON.parse(r.stdout);
  });

  it('is valid against the official SARIF 2.1.0 JSON schema', () => {
    const validate = validator();
    const ok = validate(log);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
    expect(code).toBe(1);
  });

  it('the schema really rejects malformed logs (the validator is not vacuous)', () => {
    const validate = validator();
    const bad = JSON.parse(JSON.stringify(log));
    bad.runs[0].results[0].level = 'fatal';
    delete bad.runs[0].tool.driver.name;
    expect(validate(bad)).toBe(false);
  });

  it('describes every rule with name, descriptions, help from the rule doc, helpUri and security-severity', () => {
    const rules = log.runs[0].tool.driver.rules;
    expect(log.runs[0].tool.driver).toMatchObject({ name: 'dag-guard', informationUri: expect.stringMatching(/^https:/) });
    const dg101 = rules.find((r: { id: string }) => r.id === 'DG101');
    expect(dg101).toMatchObject({
      name: 'hardcoded-password',
      shortDescription: { text: expect.any(String) },
      fullDescription: { text: expect.any(String) },
      help: { text: expect.stringContaining('## Why is this bad?'), markdown: expect.stringContaining('## Use instead') },
      helpUri: expect.stringMatching(/^https:\/\/.*#dg101-hardcoded-password$/),
      properties: { category: 'secret', tags: expect.arrayContaining(['security']), 'security-severity': expect.stringMatching(/^\d+\.\d$/) },
    });
  });

  it('results carry ruleId/ruleIndex, level from severity, relative URIs, regions and stable partialFingerprints', () => {
    const run = log.runs[0];
    const res = run.results.find((r: { ruleId: string }) => r.ruleId === 'DG101');
    expect(run.tool.driver.rules[res.ruleIndex].id).toBe('DG101');
    expect(res.level).toBe('error'); // high
    const loc = res.locations[0].physicalLocation;
    expect(loc.artifactLocation).toEqual({ uri: 'dags/leaky%20dag.py', uriBaseId: '%SRCROOT%' });
    expect(loc.region).toMatchObject({ startLine: 3, startColumn: expect.any(Number) });
    expect(res.partialFingerprints[FINGERPRINT_KEY]).toMatch(/^[0-9a-f]{32}$/);
    expect(run.originalUriBaseIds['%SRCROOT%'].uri).toMatch(/^file:\/\/.*\/$/);

    // Moving the finding down by some lines keeps its fingerprint and changes its region.
    fs.writeFileSync(path.join(dir, 'dags/leaky dag.py'), '\n\n# moved\n' + SECRET_DAG);
    const moved = JSON.parse(runCli(['check', '-f', 'sarif', 'dags'], dir).stdout).runs[0].results.find(
      (r: { ruleId: string }) => r.ruleId === 'DG101',
    );
    expect(moved.locations[0].physicalLocation.region.startLine).toBe(6);
    expect(moved.partialFingerprints).toEqual(res.partialFingerprints);
    fs.writeFileSync(path.join(dir, 'dags/leaky dag.py'), SECRET_DAG);
  });

  it('scan errors and warnings are tool execution notifications; an error marks the invocation unsuccessful', () => {
    const inv = log.runs[0].invocations[0];
    expect(inv.executionSuccessful).toBe(false);
    const notes = inv.toolExecutionNotifications as Array<{ level: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }>;
    const at = (uri: string) => notes.find((n) => n.locations[0].physicalLocation.artifactLocation.uri === uri);
    expect(at('dags/big.py')?.level).toBe('error');
    expect(at('dags/broken.py')?.level).toBe('warning');
  });
});

describe('--format github', () => {
  it('prints one workflow-command annotation per finding, with level, position and title', () => {
    const dir = tmpDir('dg-gh-');
    writeTree(dir, { 'dags/leaky.py': SECRET_DAG });
    const r = runCli(['check', '-f', 'github'], dir);
    expect(r.code).toBe(1);
    const line = r.stdout.split('\n').find((l) => l.startsWith('::error '))!;
    expect(line).toMatch(/^::error file=dags\/leaky\.py,line=3,col=\d+,endLine=3,endColumn=\d+,title=DG101 hardcoded-password \(high\)::/);
    expect(r.stdout).toMatch(/^dag-guard: Found 1 finding \(1 high\) in 1 file \[\d+ ms\]$/m);
    const q = runCli(['check', '-f', 'github', '--quiet'], dir);
    expect(q.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('escapes data and property values as @actions/core does', () => {
    expect(escapeData('50% done\r\nnext')).toBe('50%25 done%0D%0Anext');
    expect(escapeProperty('a,b:c%\n')).toBe('a%2Cb%3Ac%25%0A');
    const dir = tmpDir('dg-gh-');
    writeTree(dir, { 'dags/we,ird:name%.py': SECRET_DAG });
    const r = runCli(['check', '-f', 'github', '--quiet'], dir);
    expect(r.stdout).toContain('file=dags/we%2Cird%3Aname%25.py,');
  });
});

describe('--output and output hygiene', () => {
  it('--output writes any format to a file and nothing to stdout', () => {
    const dir = tmpDir('dg-out-');
    writeTree(dir, { 'dags/leaky.py': SECRET_DAG });
    for (const f of ['text', 'json', 'sarif', 'github']) {
      const r = runCli(['check', '-f', f, '-o', `report.${f}`, 'dags'], dir);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(fs.readFileSync(path.join(dir, `report.${f}`), 'utf8')).toContain('leaky.py');
    }
  });

  it('no format ever prints a full secret; paths are relative to the working directory', () => {
    const dir = tmpDir('dg-hyg-');
    writeTree(dir, { 'repo/dags/token_dag.py': TOKEN_DAG, 'repo/dags/leaky.py': SECRET_DAG });
    const cwd = path.join(dir, 'repo');
    for (const f of ['text', 'json', 'sarif', 'github']) {
      for (const extra of [[], ['--quiet']]) {
        const r = runCli(['check', '-f', f, ...extra, 'dags'], cwd);
        const all = r.stdout + r.stderr;
        expect(r.code, all).toBe(1);
        expect(all, f).not.toContain(TOKEN);
        expect(all, f).not.toContain(TOKEN.slice(4)); // not even without its prefix
        expect(all, f).not.toContain(SECRET);
        expect(all, f).toContain('dags/token_dag.py');
        expect(all, f).not.toContain(`${cwd}/dags`); // relative, never absolute
      }
    }
    // A baseline never holds the secret either.
    runCli(['check', '--write-baseline', 'b.json', 'dags'], cwd);
    const b = fs.readFileSync(path.join(cwd, 'b.json'), 'utf8');
    expect(b).not.toContain(TOKEN.slice(4, 20));
    expect(b).not.toContain(SECRET);
  });

  it('text output ends with a one-line summary; --quiet prints findings only', () => {
    const dir = tmpDir('dg-q-');
    writeTree(dir, { 'dags/leaky.py': SECRET_DAG, 'dags/clean.py': CLEAN_DAG });
    const r = runCli(['check', 'dags'], dir);
    expect(r.stdout.trim().split('\n').pop()).toMatch(/^Found 1 finding \(1 high\) in 2 files/);
    const q = runCli(['check', '--quiet', 'dags'], dir);
    expect(q.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^dags\/leaky\.py:3:\d+: DG101 /)]);
  });
});
