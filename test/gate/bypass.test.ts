/**
 * Issue 11: the seven ways a committer got a reverse shell past the gate into the published folder. Each case
 * commits to a real git repository, flips a git-sync-style link to a real `git worktree` of each revision, runs
 * `dag-guard gate` through the CLI as git-sync's exechook would, and polls the published folder every 50 ms
 * throughout (following links, as Airflow would): the hostile marker must never be readable there, the revision
 * must be refused, and the status must say why.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gateRevisionsPolling, REVERSE_SHELL, storedZip, type PolledGating } from './bypass-helpers';
import { BIN, CLEAN_DAG, tmpDir } from './helpers';


const CLEAN = { 'dags/etl.py': CLEAN_DAG };

/** The shared verdict: first revision live, every hostile one refused with `why` in the status, marker never seen. */
function expectRefused(g: PolledGating, why: RegExp): void {
  const [first, ...rest] = g.runs;
  expect(first.exitCode, first.stderr).toBe(0);
  expect(first.status.verdict).toBe('published');
  for (const r of rest) {
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.status.verdict).toBe('rejected');
    expect(r.status.live.revision).toBe(first.revision);
    expect(JSON.stringify({ message: r.status.message, findings: r.status.findings, links: r.status.links })).toMatch(why);
  }
  expect(g.sightings).toEqual([]);
  expect(g.links).toEqual([]);
  expect(g.polls).toBeGreaterThan(5);
}

describe('gate bypasses (issue 11)', () => {
  it('5. symlink escape: `h/up -> ../../..` + `h/evil.py -> up/<publish-to>/current/dags/payload.txt`, payload swapped after the check', async () => {
    const marker = 'HOSTILE-SYMLINK-5';
    const g = await gateRevisionsPolling({
      marker,
      revisions: [
        () => ({ ...CLEAN, 'dags/payload.txt': 'x = 1\n' }),
        // Harmless at check time: evil.py resolves (through the published folder) to the live, harmless payload.
        ({ pub }) => ({
          'h/up': { symlink: '../'.repeat(30).slice(0, -1) },
          'h/evil.py': { symlink: `up/../${pub.slice(1)}/current/dags/payload.txt` },
        }),
        // The swap: payload.txt is not Python, so nothing scans it; through the link it becomes evil.py.
        () => ({ 'dags/payload.txt': REVERSE_SHELL(marker) }),
      ],
    });
    expectRefused(g, /GATE-SYMLINK/);
    for (const r of g.runs.slice(1)) {
      const rejected = r.status.links.rejected.map((l: { path: string }) => l.path).sort();
      expect(rejected).toEqual(['h/evil.py', 'h/up']);
      expect(r.status.links.rejected[0].reason).toMatch(/resolves outside the checked tree/);
    }
    expect(fs.readFileSync(path.join(g.pub, 'current', 'dags', 'payload.txt'), 'utf8')).toBe('x = 1\n');
  }, 120_000);

  it('a clean revision with in-tree symlinks is published without a single symlink in the published folder', async () => {
    const g = await gateRevisionsPolling({
      marker: 'never-present-marker',
      revisions: [
        () => ({
          ...CLEAN,
          'lib/helpers.py': 'def helper():\n    return 1\n',
          'dags/helpers.py': { symlink: '../lib/helpers.py' },
          'dags/lib': { symlink: '../lib' },
        }),
      ],
    });
    expect(g.runs[0].exitCode, g.runs[0].stderr).toBe(0);
    expect(g.runs[0].status.verdict).toBe('published');
    expect(g.runs[0].status.links.materialised.map((l: { path: string }) => l.path).sort()).toEqual(['dags/helpers.py', 'dags/lib']);
    expect(g.links).toEqual([]);
    const live = fs.realpathSync(path.join(g.pub, 'current'));
    const walk = (d: string): string[] =>
      fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isSymbolicLink() ? [path.join(d, e.name)] : e.isDirectory() ? walk(path.join(d, e.name)) : [],
      );
    expect(walk(live)).toEqual([]);
    expect(fs.readFileSync(path.join(live, 'dags', 'lib', 'helpers.py'), 'utf8')).toContain('def helper');
  }, 60_000);

  it('1. a config file committed in the tree (.dag-guard.toml excluding the folder) is not used by the gate', async () => {
    const marker = 'HOSTILE-CONFIG-1';
    const g = await gateRevisionsPolling({
      marker,
      revisions: [
        () => CLEAN,
        () => ({ '.dag-guard.toml': 'exclude = ["dags/ops/**"]\nfail-on = "critical"\nignore = ["DG6", "DG5"]\n', 'dags/ops/healthcheck.py': REVERSE_SHELL(marker) }),
      ],
    });
    expectRefused(g, /dags\/ops\/healthcheck\.py/);
  }, 60_000);

  it('--config inside the checked source is refused (exit 2), also anywhere under git-sync\'s root', () => {
    const base = fs.realpathSync(tmpDir('dg-cfg-'));
    const wt = path.join(base, 'root', '.worktrees', 'abc');
    fs.mkdirSync(wt, { recursive: true });
    fs.writeFileSync(path.join(wt, 'dag-guard.toml'), 'fail-on = "critical"\n');
    fs.mkdirSync(path.join(base, 'root', '.worktrees', 'other'));
    fs.writeFileSync(path.join(base, 'root', '.worktrees', 'other', 'x.toml'), 'fail-on = "critical"\n');
    fs.symlinkSync('.worktrees/abc', path.join(base, 'root', 'repo'));
    for (const cfg of [path.join(base, 'root', 'repo', 'dag-guard.toml'), path.join(wt, 'dag-guard.toml'), path.join(base, 'root', '.worktrees', 'other', 'x.toml')]) {
      const r = spawnSync(process.execPath, [BIN, 'gate', '--source', path.join(base, 'root', 'repo'), '--publish-to', path.join(base, 'pub'), '--config', cfg], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--config .* lies inside the checked source/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(fs.existsSync(path.join(base, 'pub', 'current'))).toBe(false);
    // Before git-sync's first sync the link does not exist yet: its folder (git-sync's --root) is refused too.
    const early = path.join(base, 'root3', '.worktrees', 'old', 'dag-guard.toml');
    fs.mkdirSync(path.dirname(early), { recursive: true });
    fs.writeFileSync(early, 'fail-on = "critical"\n');
    const r = spawnSync(process.execPath, [BIN, 'gate', '--source', path.join(base, 'root3', 'repo'), '--publish-to', path.join(base, 'pub'), '--config', early], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--config .* lies inside the checked source/);
  });

  it('1b. a [tool.dag-guard] table in a committed pyproject.toml is not used by the gate', async () => {
    const marker = 'HOSTILE-PYPROJECT-1';
    const g = await gateRevisionsPolling({
      marker,
      revisions: [() => CLEAN, () => ({ 'pyproject.toml': '[tool.dag-guard]\nexclude = ["dags/ops/**"]\n', 'dags/ops/healthcheck.py': REVERSE_SHELL(marker) })],
    });
    expectRefused(g, /dags\/ops\/healthcheck\.py/);
  }, 60_000);

  it('2. inline suppressions (`# dag-guard: ignore[...]`, `# nosec`, `# noqa`) are not honoured for non-suppressible rules', async () => {
    const marker = 'HOSTILE-SUPPRESS-2';
    const suppressed = REVERSE_SHELL(marker)
      .split('\n')
      .map((l) => (/^(import|s\.|os\.|pty\.|s = )/.test(l) ? `${l}  # dag-guard: ignore[DG501,DG601,DG607,DG608] -- reviewed  # nosec  # noqa: S602` : l))
      .join('\n');
    const g = await gateRevisionsPolling({ marker, revisions: [() => CLEAN, () => ({ 'dags/healthcheck.py': suppressed })] });
    expectRefused(g, /dags\/healthcheck\.py/);
  }, 60_000);

  it('3. a file hidden by .airflowignore (`*_dag.py`) is still checked', async () => {
    const marker = 'HOSTILE-AIRFLOWIGNORE-3';
    const g = await gateRevisionsPolling({
      marker,
      revisions: [() => CLEAN, () => ({ 'dags/.airflowignore': '*_dag.py\n', 'dags/healthcheck_dag.py': REVERSE_SHELL(marker) })],
    });
    expectRefused(g, /dags\/healthcheck_dag\.py/);
  }, 60_000);

  it('4. a reverse shell inside a .zip archive in the DAG folder is checked', async () => {
    const marker = 'HOSTILE-ZIP-4';
    const g = await gateRevisionsPolling({
      marker,
      revisions: [() => CLEAN, () => ({ 'dags/packaged.zip': storedZip({ 'healthcheck.py': REVERSE_SHELL(marker) }) })],
    });
    expectRefused(g, /packaged\.zip/);
  }, 60_000);

  it('6. a compiled __pycache__/*.pyc beside a benign .py is refused', async () => {
    const marker = 'HOSTILE-PYC-6';
    // Magic of CPython 3.11, flags 1 (unchecked hash): Airflow would run it instead of the .py.
    const pyc = Buffer.concat([Buffer.from([0xa7, 0x0d, 0x0d, 0x0a, 1, 0, 0, 0]), Buffer.alloc(8), Buffer.from(`\xe3${marker}`, 'latin1')]);
    const g = await gateRevisionsPolling({
      marker,
      revisions: [() => CLEAN, () => ({ 'dags/__pycache__/etl.cpython-311.pyc': pyc })],
    });
    expectRefused(g, /__pycache__\/etl\.cpython-311\.pyc/);
  }, 60_000);

  it('7. airflow_local_settings.py in the DAG folder, hidden with .airflowignore, is refused', async () => {
    const marker = 'HOSTILE-LOCAL-SETTINGS-7';
    const g = await gateRevisionsPolling({
      marker,
      revisions: [() => CLEAN, () => ({ '.airflowignore': 'airflow_local_settings\\.py\nairflow_local_settings.py\n', 'airflow_local_settings.py': REVERSE_SHELL(marker) })],
    });
    expectRefused(g, /airflow_local_settings\.py/);
  }, 60_000);
});
