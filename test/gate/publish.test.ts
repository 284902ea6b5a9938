import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { liveVersion, readStatus, runGate, type GateCheck } from '../../src/gate';
import { makeCheck } from '../../src/gate';
import {
  BIN, canMountTmpfs, CLEAN_DAG, FIXED_DAG, listFiles, markerCheck, mountTmpfs, readJson, SECRET_DAG, tmpDir, umount, writeTree,
} from './helpers';

const quiet = { log: () => {} };
const realCheck = makeCheck({ configPath: null });

function source(files: Record<string, string>): string {
  const d = tmpDir('dg-src-');
  writeTree(d, files);
  return d;
}

describe('gate publisher (real check)', () => {
  it('publishes a clean tree, refuses a hardcoded credential (last good stays live), publishes the fix', async () => {
    const pub = tmpDir('dg-pub-');
    const r1 = await runGate({ source: source({ 'dags/etl.py': CLEAN_DAG }), publishTo: pub, check: realCheck, hintRevision: 'rev1', ...quiet });
    expect(r1.exitCode).toBe(0);
    expect(r1.status.verdict).toBe('published');
    expect(fs.readFileSync(path.join(pub, 'current', 'dags', 'etl.py'), 'utf8')).toBe(CLEAN_DAG);
    const good = fs.realpathSync(path.join(pub, 'current'));

    const r2 = await runGate({ source: source({ 'dags/etl.py': CLEAN_DAG, 'dags/wh.py': SECRET_DAG }), publishTo: pub, check: realCheck, failOn: 'high', ...quiet });
    expect(r2.exitCode).toBe(1);
    expect(r2.status.verdict).toBe('rejected');
    expect(fs.realpathSync(path.join(pub, 'current'))).toBe(good);
    expect(fs.existsSync(path.join(pub, 'current', 'dags', 'wh.py'))).toBe(false);
    const st = readJson(path.join(pub, '.dag-guard', 'status.json'));
    expect(st.verdict).toBe('rejected');
    expect(st.revision).toMatch(/^content-/);
    expect(st.findings.failing).toBeGreaterThan(0);
    expect(st.findings.top.some((f: { path: string }) => f.path === 'dags/wh.py')).toBe(true);
    expect(st.message).toContain('dags/wh.py');
    expect(JSON.stringify(st)).not.toContain('Sup3rS3cretValue!');
    expect(st.live.revision).toBe(r1.status.revision);
    // Nothing of the rejected tree is left behind in publish-to.
    expect(fs.readdirSync(path.join(pub, '.dag-guard')).filter((n) => n.startsWith('staging-'))).toEqual([]);

    const r3 = await runGate({ source: source({ 'dags/etl.py': CLEAN_DAG, 'dags/wh.py': FIXED_DAG }), publishTo: pub, check: realCheck, ...quiet });
    expect(r3.status.verdict).toBe('published');
    expect(fs.readFileSync(path.join(pub, 'current', 'dags', 'wh.py'), 'utf8')).toBe(FIXED_DAG);
  });
});

describe('gate publisher', () => {
  it('uses git HEAD of the resolved worktree as the revision, skips work when it is already live, keeps N versions', async () => {
    const pub = tmpDir('dg-pub-');
    const src = source({ 'a.py': 'x = 1\n' });
    spawnSync('git', ['init', '-q', src]);
    const commit = (i: number): string => {
      fs.writeFileSync(path.join(src, 'a.py'), `x = ${i}\n`);
      spawnSync('git', ['-C', src, 'add', '-A']);
      spawnSync('git', ['-C', src, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-qm', `c${i}`]);
      return spawnSync('git', ['-C', src, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
    };
    let calls = 0;
    const counting: GateCheck = async (d) => {
      calls++;
      return markerCheck(d);
    };
    const h1 = commit(1);
    const r1 = await runGate({ source: src, publishTo: pub, check: counting, keep: 2, hintRevision: 'ignored-when-git-says-otherwise', ...quiet });
    expect(r1.status.revision).toBe(h1);
    expect(liveVersion(pub)?.revision).toBe(h1);
    // .git is never published.
    expect(fs.existsSync(path.join(pub, 'current', '.git'))).toBe(false);
    const again = await runGate({ source: src, publishTo: pub, check: counting, keep: 2, ...quiet });
    expect(again.status.verdict).toBe('already-live');
    expect(calls).toBe(1);
    for (let i = 2; i <= 5; i++) {
      commit(i);
      await runGate({ source: src, publishTo: pub, check: counting, keep: 2, ...quiet });
    }
    expect(fs.readdirSync(path.join(pub, '.dag-guard', 'versions'))).toHaveLength(2);
    expect(fs.readFileSync(path.join(pub, 'current', 'a.py'), 'utf8')).toBe('x = 5\n');
    // The link target is relative, so the folder can be mounted anywhere.
    expect(path.isAbsolute(fs.readlinkSync(path.join(pub, 'current')))).toBe(false);
  });

  it('does not re-run the check for a revision it already rejected (git-sync retries failed hooks)', async () => {
    const pub = tmpDir('dg-pub-');
    const src = source({ 'a.py': 'BAD\n' });
    let calls = 0;
    const counting: GateCheck = async (d) => {
      calls++;
      return markerCheck(d);
    };
    const r1 = await runGate({ source: src, publishTo: pub, check: counting, fingerprint: 'f1', ...quiet });
    const r2 = await runGate({ source: src, publishTo: pub, check: counting, fingerprint: 'f1', ...quiet });
    expect([r1.exitCode, r2.exitCode]).toEqual([1, 1]);
    expect(calls).toBe(1);
    await runGate({ source: src, publishTo: pub, check: counting, fingerprint: 'f2', ...quiet });
    expect(calls).toBe(2);
  });

  it('resolves the source link once: a flip during the check does not change what is published', async () => {
    const root = tmpDir('dg-staging-');
    const a = path.join(root, 'wt-a');
    const b = path.join(root, 'wt-b');
    writeTree(a, { 'dag.py': 'rev = "a"\n' });
    writeTree(b, { 'dag.py': 'rev = "b"\nBAD\n' });
    fs.symlinkSync('wt-a', path.join(root, 'link'));
    const pub = tmpDir('dg-pub-');
    const flipping: GateCheck = async (d) => {
      fs.symlinkSync('wt-b', path.join(root, 'link.tmp'));
      fs.renameSync(path.join(root, 'link.tmp'), path.join(root, 'link'));
      return markerCheck(d);
    };
    const r = await runGate({ source: path.join(root, 'link'), publishTo: pub, check: flipping, ...quiet });
    expect(r.status.verdict).toBe('published');
    expect(fs.readFileSync(path.join(pub, 'current', 'dag.py'), 'utf8')).toBe('rev = "a"\n');
    // The next run sees b, rejects it, and a stays live.
    const r2 = await runGate({ source: path.join(root, 'link'), publishTo: pub, check: markerCheck, ...quiet });
    expect(r2.status.verdict).toBe('rejected');
    expect(fs.readFileSync(path.join(pub, 'current', 'dag.py'), 'utf8')).toBe('rev = "a"\n');
  });

  it('reports a missing source clearly, writes status and leaves the live version alone', async () => {
    const pub = tmpDir('dg-pub-');
    await runGate({ source: source({ 'a.py': '1\n' }), publishTo: pub, check: markerCheck, ...quiet });
    const live = liveVersion(pub);
    await expect(runGate({ source: '/nonexistent/dg-src', publishTo: pub, check: markerCheck, ...quiet })).rejects.toThrow(/does not exist/);
    expect(liveVersion(pub)).toEqual(live);
    expect(readStatus(pub)?.verdict).toBe('error');
    const dangling = tmpDir('dg-dangle-');
    fs.symlinkSync('nowhere', path.join(dangling, 'link'));
    await expect(runGate({ source: path.join(dangling, 'link'), publishTo: pub, check: markerCheck, ...quiet })).rejects.toThrow(/dangling|does not exist/);
  });

  const asRoot = process.getuid?.() === 0;
  it.skipIf(!asRoot)('an unreadable source is a clear error (CLI run as an unprivileged user)', () => {
    const src = source({ 'a.py': '1\n' });
    fs.chmodSync(src, 0o700);
    const pub = tmpDir('dg-pub-');
    fs.chmodSync(pub, 0o777);
    fs.chmodSync(path.dirname(BIN), 0o755);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'gate', '--source', src, '--publish-to', pub, '--no-config'], { encoding: 'utf8', cwd: '/' });
    expect(r.stderr).toContain('not readable: permission denied');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(2);
  });

  it('end to end through the CLI: exit codes, --json status, log line', () => {
    const pub = tmpDir('dg-pub-');
    const ok = spawnSync(process.execPath, [BIN, 'gate', '--source', source({ 'dags/etl.py': CLEAN_DAG }), '--publish-to', pub, '--no-config', '--json'], { encoding: 'utf8' });
    expect(ok.stderr).toContain('dag-guard gate: published');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).verdict).toBe('published');
    const bad = spawnSync(process.execPath, [BIN, 'gate', '--source', source({ 'dags/x.py': SECRET_DAG }), '--publish-to', pub, '--no-config'], { encoding: 'utf8' });
    expect(bad.stderr).toMatch(/REJECTED .*dags\/x\.py/);
    expect(bad.status).toBe(1);
    const usage = spawnSync(process.execPath, [BIN, 'gate', '--publish-to', pub], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('--source');
  });
});

const tmpfsOk = canMountTmpfs();
if (!tmpfsOk) console.warn('\n*** SKIPPING tmpfs tests (needs root and mount permission) ***\n');
describe.skipIf(!tmpfsOk)('gate publisher on other filesystems', () => {
  const mounts: string[] = [];
  afterAll(() => mounts.forEach(umount));

  it('source on another filesystem: copies into publish-to and renames there', async () => {
    const src = mountTmpfs('8m');
    mounts.push(src);
    writeTree(src, { 'dags/a.py': CLEAN_DAG });
    const pub = tmpDir('dg-pub-');
    expect(fs.statSync(src).dev).not.toBe(fs.statSync(pub).dev);
    const r = await runGate({ source: src, publishTo: pub, check: markerCheck, ...quiet });
    expect(r.status.verdict).toBe('published');
    expect(fs.readFileSync(path.join(pub, 'current', 'dags', 'a.py'), 'utf8')).toBe(CLEAN_DAG);
  });

  it('publish-to on another (tmpfs) filesystem than the source and the temp dir', async () => {
    const pub = mountTmpfs('8m');
    mounts.push(pub);
    const r = await runGate({ source: source({ 'a.py': '1\n' }), publishTo: pub, check: markerCheck, ...quiet });
    expect(r.status.verdict).toBe('published');
    expect(fs.readFileSync(path.join(pub, 'current', 'a.py'), 'utf8')).toBe('1\n');
  });

  it('disk full: a clear error, the last good version untouched, no leftovers', async () => {
    const pub = mountTmpfs('1m');
    mounts.push(pub);
    await runGate({ source: source({ 'a.py': 'small = 1\n' }), publishTo: pub, check: markerCheck, ...quiet });
    const before = listFiles(path.join(pub, 'current'));
    const big = source({ 'a.py': 'small = 2\n', 'data/blob.py': `# ${'x'.repeat(3 * 1024 * 1024)}\n` });
    const r = spawnSync(process.execPath, [BIN, 'gate', '--source', big, '--publish-to', pub, '--no-config'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no space left on the filesystem of --publish-to');
    expect(r.stderr).toContain('live stays');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(listFiles(path.join(pub, 'current'))).toEqual(before);
    expect(fs.readdirSync(path.join(pub, '.dag-guard')).filter((n) => n.startsWith('staging-'))).toEqual([]);
  });
});

describe('atomicity', () => {
  it('a reader listing and reading the published folder during many promotions never sees a mix or a missing file', async () => {
    const pub = tmpDir('dg-pub-');
    const N_FILES = 25;
    const tree = (rev: number): Record<string, string> =>
      Object.fromEntries(Array.from({ length: N_FILES }, (_, i) => [`dags/sub${i % 5}/f${i}.py`, `REV = ${rev}\n${'# pad\n'.repeat(200)}`]));
    await runGate({ source: source(tree(0)), publishTo: pub, check: markerCheck, keep: 3, ...quiet });
    const reader = spawn(process.execPath, ['-e', READER, path.join(pub, 'current'), String(N_FILES)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    reader.stdout.on('data', (d) => (out += d));
    const done = new Promise<void>((r) => reader.on('exit', () => r()));
    await new Promise((r) => setTimeout(r, 200));
    const PROMOTIONS = 60;
    for (let rev = 1; rev <= PROMOTIONS; rev++) {
      const r = await runGate({ source: source(tree(rev)), publishTo: pub, check: markerCheck, keep: 3, ...quiet });
      expect(r.status.verdict).toBe('published');
    }
    fs.writeFileSync(path.join(pub, 'STOP'), '');
    await done;
    const res = JSON.parse(out);
    expect(res.problems).toEqual([]);
    expect(res.iterations).toBeGreaterThan(50);
    expect(res.revisionsSeen).toBeGreaterThan(5);
  }, 120_000);
});

// Runs in a separate process: resolve the link once (as git-sync's contract asks of consumers), list, read every file.
const READER = `
const fs = require('fs'), path = require('path');
const link = process.argv[1], want = Number(process.argv[2]);
const stop = path.join(path.dirname(link), 'STOP');
const problems = []; const seen = new Set(); let iterations = 0;
function walk(d, acc) { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p, acc); else acc.push(p); } return acc; }
const t0 = Date.now();
while (!fs.existsSync(stop) && Date.now() - t0 < 100000) {
  iterations++;
  try {
    const root = fs.realpathSync(link);
    const files = walk(root, []);
    if (files.length !== want) problems.push('saw ' + files.length + ' files in ' + root);
    const revs = new Set(files.map((f) => fs.readFileSync(f, 'utf8').split('\\n')[0]));
    if (revs.size !== 1) problems.push('mixed revisions ' + [...revs].join(','));
    revs.forEach((r) => seen.add(r));
    // Through the link itself, file by file: each file whole, never missing.
    const direct = fs.readFileSync(path.join(link, 'dags/sub0/f0.py'), 'utf8');
    if (!direct.startsWith('REV = ') || !direct.endsWith('# pad\\n')) problems.push('partial file');
  } catch (e) { problems.push(String(e.code || e.message)); }
  if (problems.length > 20) break;
}
process.stdout.write(JSON.stringify({ problems, iterations, revisionsSeen: seen.size }));
`;
