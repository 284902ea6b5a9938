/** Baselines: --write-baseline records today's findings, --baseline reports only new ones. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, SECRET, tmpDir, writeTree } from './helpers';

const V1 = `from airflow.models import Connection
from airflow import DAG


def helper(a):
    return a


conn = Connection(conn_id="x", password="${SECRET}")
`;

/** Same finding; lines moved, code around it renamed, re-indented into a function, a docstring added above. */
const V2 = `"""Warehouse DAG."""
import logging

from airflow import DAG
from airflow.models import Connection

log = logging.getLogger(__name__)


def make_value(value):
    log.info("value %s", value)
    return value


def build_connection():
    warehouse_connection = Connection(conn_id="x", password="${SECRET}")
    return warehouse_connection
`;

const NEW_SECRET = 'An0ther-Pr0d-Passw0rd-42';

function json(r: { code: number; stdout: string; stderr: string }): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

describe('baseline', () => {
  it('suppresses a known finding across line moves and renames around it; a new finding still fails', () => {
    const dir = tmpDir('dg-baseline-');
    writeTree(dir, { 'dags/warehouse.py': V1 });

    const w = runCli(['check', '--write-baseline', '.dag-guard-baseline.json', 'dags'], dir);
    expect(w.code, w.stdout + w.stderr).toBe(0);
    expect(w.stdout).toMatch(/^Recorded 1 finding from 1 file in baseline \.dag-guard-baseline\.json: accepted; runs with --baseline \.dag-guard-baseline\.json report only new ones/m);
    expect(w.stdout).not.toMatch(/No findings/);
    const file = JSON.parse(fs.readFileSync(path.join(dir, '.dag-guard-baseline.json'), 'utf8'));
    expect(file.findings).toEqual([{ ruleId: 'DG101', path: 'dags/warehouse.py', fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) }]);
    expect(JSON.stringify(file)).not.toContain(SECRET);

    // Without the baseline the legacy finding fails the run; with it, it is suppressed.
    expect(runCli(['check', 'dags'], dir).code).toBe(1);
    const same = json(runCli(['check', '-f', 'json', '--baseline', '.dag-guard-baseline.json', 'dags'], dir));
    expect(same.findings).toEqual([]);
    expect(same.summary.suppressed).toBe(1);

    // Unrelated edits: lines move, names around the finding change, the statement is re-indented.
    fs.writeFileSync(path.join(dir, 'dags/warehouse.py'), V2);
    const before = json(runCli(['check', '-f', 'json', 'dags'], dir));
    expect(before.findings).toHaveLength(1);
    expect(before.findings[0].line).not.toBe(9); // it really moved
    const moved = runCli(['check', '-f', 'json', '--baseline', '.dag-guard-baseline.json', 'dags'], dir);
    expect(moved.code, moved.stdout).toBe(0);
    expect(json(moved).summary.suppressed).toBe(1);

    // A new secret in the same file fails, and only it is reported.
    fs.appendFileSync(path.join(dir, 'dags/warehouse.py'), `\nbackup = Connection(conn_id="y", password="${NEW_SECRET}")\n`);
    const added = runCli(['check', '-f', 'json', '--baseline', '.dag-guard-baseline.json', 'dags'], dir);
    expect(added.code).toBe(1);
    const rep = json(added);
    expect(rep.findings).toHaveLength(1);
    expect(rep.findings[0]).toMatchObject({ ruleId: 'DG101', path: 'dags/warehouse.py', line: 19 });
    expect(rep.summary.suppressed).toBe(1);
  });

  it('matching is a multiset: a second copy of a baselined finding is new; a new file is new', () => {
    const dir = tmpDir('dg-baseline-');
    writeTree(dir, { 'dags/warehouse.py': V1 });
    runCli(['check', '--write-baseline', 'b.json', 'dags'], dir);
    fs.appendFileSync(path.join(dir, 'dags/warehouse.py'), `conn2 = Connection(conn_id="x", password="${SECRET}")\n`);
    writeTree(dir, { 'dags/duplicate.py': V1 });
    const rep = json(runCli(['check', '-f', 'json', '--baseline', 'b.json', 'dags'], dir));
    expect(rep.findings.map((f: { path: string }) => f.path).sort()).toEqual(['dags/duplicate.py', 'dags/warehouse.py']);
    expect(rep.summary.suppressed).toBe(1);
  });

  it('a missing or malformed baseline is a usage error (exit 2) naming the file', () => {
    const dir = tmpDir('dg-baseline-');
    writeTree(dir, { 'dags/warehouse.py': V1, 'bad.json': '{"findings": 3}', 'broken.json': '{' });
    const missing = runCli(['check', '--baseline', 'nope.json', 'dags'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--baseline nope\.json: no such file .*--write-baseline/);
    expect(runCli(['check', '--baseline', 'bad.json', 'dags'], dir).stderr).toMatch(/not a dag-guard baseline/);
    expect(runCli(['check', '--baseline', 'broken.json', 'dags'], dir).stderr).toMatch(/not valid JSON/);
  });

  it('rewriting the baseline is deterministic (no timestamps, sorted): no churn in version control', () => {
    const dir = tmpDir('dg-baseline-');
    writeTree(dir, { 'dags/a.py': V1, 'dags/b.py': V1.replace('conn_id="x"', 'conn_id="z"') });
    runCli(['check', '--write-baseline', 'b1.json', 'dags'], dir);
    fs.writeFileSync(path.join(dir, 'dags/a.py'), '\n\n' + V1);
    runCli(['check', '--write-baseline', 'b2.json', 'dags'], dir);
    expect(fs.readFileSync(path.join(dir, 'b2.json'), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'b1.json'), 'utf8'));
  });

  it('warns when run from another directory than the one that wrote it (fingerprints use cwd-relative paths)', () => {
    const dir = tmpDir('dg-baseline-');
    writeTree(dir, { 'dags/warehouse.py': V1 });
    runCli(['check', '--write-baseline', 'b.json', 'dags'], dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'b.json'), 'utf8')).cwd).toBe('.');
    const ok = runCli(['check', '--baseline', 'b.json', 'dags'], dir);
    expect(ok.stderr).not.toContain('warning');
    const elsewhere = runCli(['check', '--baseline', '../b.json', '.'], path.join(dir, 'dags'));
    expect(elsewhere.stderr).toMatch(/warning: baseline \.\.\/b\.json was written from \.\., not from this directory/);
  });

  it('--write-baseline with --changed-since is refused (a partial baseline), exit 2', () => {
    const dir = tmpDir('dg-baseline-');
    writeTree(dir, { 'dags/warehouse.py': V1 });
    const r = runCli(['check', '--write-baseline', 'b.json', '--changed-since', 'HEAD', 'dags'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--write-baseline records the whole scan/);
    expect(fs.existsSync(path.join(dir, 'b.json'))).toBe(false);
  });
});
