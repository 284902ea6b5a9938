/**
 * The gate's lock must not outlive its holder. In a container the gate is PID 1, and so is the restarted gate:
 * a `{"pid":1}` lock looked alive forever (issue 11: one OOM kill = an hour without publishing and no alarm).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  acquireLock, assessHealth, procStartTime, readOwner, readStatus, runGate, selfIdentity, startGateService,
} from '../../src/gate';
import { BIN, markerCheck, tmpDir, waitFor, writeTree } from './helpers';

const quiet = { log: () => {} };
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

function bigTree(files: number): string {
  const d = tmpDir('dg-big-');
  const body = Array.from({ length: 150 }, (_, i) => `def f${i}(x):\n    y = x + ${i}\n    return [y * k for k in range(10) if k % 3]\n`).join('\n');
  for (let i = 0; i < files; i++) writeTree(d, { [`dags/m${i}.py`]: `"""module ${i}"""\nimport os\n${body}` });
  return d;
}

function writeLock(stateDir: string, record: object): string {
  fs.mkdirSync(stateDir, { recursive: true });
  const p = path.join(stateDir, 'lock');
  fs.writeFileSync(p, JSON.stringify(record));
  return p;
}

describe('gate lock', () => {
  it('a lock left by a dead process in the same PID namespace is taken over at once', async () => {
    const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid, require("fs").readFileSync(`/proc/${process.pid}/stat`, "utf8").split(") ")[1].split(" ")[19])'], { encoding: 'utf8' });
    const [pid, starttime] = child.stdout.trim().split(' ');
    const me = selfIdentity();
    const state = path.join(tmpDir('dg-pub-'), '.dag-guard');
    writeLock(state, { token: 'dead', pid: Number(pid), starttime, bootId: me.bootId, pidNs: me.pidNs, host: me.host, since: new Date().toISOString(), leaseUntil: Date.now() + 3_600_000 });
    const t0 = Date.now();
    const lock = await acquireLock(state, { timeoutMs: 5000 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(readOwner(lock.path)?.pid).toBe(process.pid);
    await lock.release();
    expect(fs.existsSync(lock.path)).toBe(false);
  });

  it('the same pid alive but started at another time (pid reused, e.g. PID 1 of the next container) is not the holder', async () => {
    const me = selfIdentity();
    const state = path.join(tmpDir('dg-pub-'), '.dag-guard');
    writeLock(state, { token: 'old', pid: process.pid, starttime: String(Number(me.starttime) - 12345), bootId: me.bootId, pidNs: me.pidNs, host: me.host, since: '2026-01-01T00:00:00Z', leaseUntil: Date.now() + 3_600_000 });
    const lock = await acquireLock(state, { timeoutMs: 2000 });
    expect(readOwner(lock.path)?.token).not.toBe('old');
    await lock.release();
  });

  it('a live holder keeps the lock; a holder we cannot see keeps it while its lease is renewed, loses it once the lease runs out', async () => {
    const state = path.join(tmpDir('dg-pub-'), '.dag-guard');
    fs.mkdirSync(state, { recursive: true });
    const held = await acquireLock(state, { timeoutMs: 1000, leaseMs: 400 });
    // Renewed by its timer: after several leases it still holds.
    await new Promise((r) => setTimeout(r, 1200));
    await expect(acquireLock(state, { timeoutMs: 500, leaseMs: 400 })).rejects.toThrow(/another gate holds .*pid \d+/);
    expect(held.stillOurs()).toBe(true);
    await held.release();

    // Another container (other PID namespace): only the lease speaks.
    const me = selfIdentity();
    const foreign = { token: 'foreign', pid: 1, starttime: '5', bootId: me.bootId, pidNs: 'pid:[1]', host: 'other-pod', since: new Date().toISOString(), leaseUntil: Date.now() + 1500 };
    writeLock(state, foreign);
    const t0 = Date.now();
    const lock = await acquireLock(state, { timeoutMs: 10_000 });
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThan(1000);
    expect(waited).toBeLessThan(4000);
    await lock.release();
  });

  it('the lease is renewed even while the gate\'s main thread is busy (a long synchronous copy)', async () => {
    const state = path.join(tmpDir('dg-pub-'), '.dag-guard');
    fs.mkdirSync(state, { recursive: true });
    const held = await acquireLock(state, { timeoutMs: 1000, leaseMs: 400 });
    await new Promise((r) => setTimeout(r, 200)); // the renewer thread starts
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      /* busy: no timer of this thread can run */
    }
    expect(readOwner(held.path)!.leaseUntil).toBeGreaterThan(Date.now());
    await held.release();
    await new Promise((r) => setTimeout(r, 300));
    expect(fs.existsSync(held.path)).toBe(false); // the renewer stopped: it did not recreate the record
  });

  it('the lock directory an older dag-guard left ({"pid":1}) does not block beyond a lease', async () => {
    const state = path.join(tmpDir('dg-pub-'), '.dag-guard');
    fs.mkdirSync(path.join(state, 'lock'), { recursive: true });
    fs.writeFileSync(path.join(state, 'lock', 'owner'), JSON.stringify({ pid: 1, host: 'x', since: new Date().toISOString() }));
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(state, 'lock'), old, old);
    const lock = await acquireLock(state, { timeoutMs: 2000 });
    expect(readOwner(lock.path)?.pid).toBe(process.pid);
    await lock.release();
  });

  it('procStartTime reads field 22 even when the command name holds spaces and parentheses', () => {
    const p = spawn(process.execPath, ['-e', 'process.title = "a) b (c"; setTimeout(() => {}, 5000)']);
    procs.push(p);
    const st = procStartTime(p.pid!);
    expect(st).toMatch(/^\d+$/);
    expect(procStartTime(2 ** 22 + 17)).toBeNull();
  });
});

const asRoot = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

/** Host pid of the process that is PID 1 inside the namespace `unshare --fork` created. */
function nsInit(unsharePid: number): number | null {
  try {
    const kids = fs.readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim();
    return kids ? Number(kids.split(/\s+/)[0]) : null;
  } catch {
    return null;
  }
}

describe.skipIf(!asRoot)('gate killed with SIGKILL as PID 1 of a PID namespace (a container OOM kill)', () => {
  it('the next gate, PID 1 of a new namespace too, publishes within 30 s', async () => {
    const src = bigTree(600);
    const pub = tmpDir('dg-pub-');
    const lockPath = path.join(pub, '.dag-guard', 'lock');
    const gateInNs = (rev: string): ChildProcess => {
      const p = spawn('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, BIN, 'gate', '--source', src, '--publish-to', pub, '--no-config', '--revision', rev], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      procs.push(p);
      return p;
    };

    const first = gateInNs('r1');
    // Mid-run: the lock is taken (it is taken before the copy and the check, held until after publication).
    const owner = await waitFor('the first gate holds the lock', () => readOwner(lockPath), 30_000);
    expect(owner.pid).toBe(1); // the case that fooled the pid-only lock
    const init = nsInit(first.pid!);
    expect(init).toBeGreaterThan(1);
    process.kill(init!, 'SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(fs.existsSync(path.join(pub, 'current'))).toBe(false); // killed before publishing
    expect(readOwner(lockPath)?.token).toBe(owner.token); // the dead gate's lock is still there

    const t0 = Date.now();
    const second = gateInNs('r2');
    let log = '';
    second.stderr!.on('data', (d) => (log += d));
    let takenOver = 0;
    const watch = setInterval(() => {
      const o = readOwner(lockPath);
      if (!takenOver && o && o.token !== owner.token) takenOver = Date.now() - t0;
    }, 20);
    const code = await new Promise<number | null>((r) => second.once('exit', (c) => r(c)));
    const recovery = Date.now() - t0;
    clearInterval(watch);
    console.log(`gate lock after SIGKILL of PID 1: taken over after ${takenOver} ms, next revision published after ${recovery} ms`);
    expect(code, log).toBe(0);
    // Either the new namespace reused the dead one's inode (then PID 1's start time differs) or the lease ran out.
    expect(log).toMatch(/taking over a stale lock: holder pid 1 .*(is gone|stopped renewing its lease)/);
    expect(fs.readlinkSync(path.join(pub, 'current'))).toContain('r2.');
    expect(recovery).toBeLessThan(30_000);
    expect(readStatus(pub)?.verdict).toBe('published');
    expect(fs.existsSync(lockPath)).toBe(false);
    // No leftovers of the killed run's copy.
    expect(fs.readdirSync(path.join(pub, '.dag-guard')).filter((n) => n.startsWith('staging-'))).toEqual([]);
  }, 90_000);
});

describe('gate health', () => {
  it('/healthz is 503 while publication is blocked by a held lock, and status.json says so; ok once published; 503 when rejected', async () => {
    const src = tmpDir('dg-src-');
    writeTree(src, { 'dags/a.py': 'a = 1\n' });
    const pub = tmpDir('dg-pub-');
    const state = path.join(pub, '.dag-guard');
    fs.mkdirSync(state, { recursive: true });
    const holder = await acquireLock(state, { timeoutMs: 1000 }); // a live, stuck gate
    let rev = 'r1';
    const svc = await startGateService({
      source: src,
      publishTo: pub,
      run: () => runGate({ source: src, publishTo: pub, check: markerCheck, hintRevision: rev, lockReportMs: 500, lockTimeoutMs: 60_000, ...quiet }),
      serve: { host: '127.0.0.1', port: 0 },
      ...quiet,
    });
    try {
      const blocked = await waitFor('a blocked status', () => (readStatus(pub)?.verdict === 'blocked' ? readStatus(pub) : null), 10_000);
      expect(blocked!.message).toMatch(new RegExp(`waiting \\d+s for the gate lock held by pid ${process.pid}`));
      expect(blocked!.health?.ok).toBe(false);
      const res = await fetch(`${svc.url}/healthz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { ok: boolean; problems: string[] };
      expect(body.ok).toBe(false);
      expect(body.problems.join('\n')).toMatch(/blocked: publication blocked: waiting/);
      expect((await fetch(`${svc.url}/livez`)).status).toBe(200);

      await holder.release();
      await svc.idle();
      expect(readStatus(pub)?.verdict).toBe('published');
      expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);

      writeTree(src, { 'dags/b.py': 'BAD\n' });
      rev = 'r2';
      await fetch(`${svc.url}/`, { method: 'POST' });
      await svc.idle();
      expect(readStatus(pub)?.verdict).toBe('rejected');
      const rej = await fetch(`${svc.url}/healthz`);
      expect(rej.status).toBe(503);
      expect(((await rej.json()) as { problems: string[] }).problems[0]).toMatch(/^blocked: r2 rejected: /);
    } finally {
      await holder.release();
      await svc.close();
    }
  }, 30_000);

  it('stale: no successful run within the window', () => {
    const t = Date.parse('2026-12-01T12:00:00Z');
    const base = { schema: 1 as const, revision: 'abc', source: '/s', message: '', live: null, durationMs: 1 };
    const ok = { ...base, verdict: 'already-live' as const, time: new Date(t).toISOString(), lastSuccess: { revision: 'abc', time: new Date(t).toISOString() } };
    expect(assessHealth(ok, 60_000, t + 30_000)).toEqual({ ok: true, problems: [] });
    const late = assessHealth(ok, 60_000, t + 120_000);
    expect(late.ok).toBe(false);
    expect(late.problems[0]).toMatch(/^stale: last successful run 120s ago/);
    expect(assessHealth(ok, 0, t + 10 * 86_400_000).ok).toBe(true);
    expect(assessHealth(null, 60_000, t).ok).toBe(false);
    const err = { ...base, verdict: 'error' as const, time: new Date(t).toISOString(), message: '--source /s is not readable: permission denied', lastSuccess: ok.lastSuccess };
    expect(assessHealth(err, 60_000, t).problems).toEqual(['blocked: --source /s is not readable: permission denied']);
  });
});
