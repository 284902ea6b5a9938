/**
 * One gate at a time per --publish-to, with a lock that a killed gate cannot keep.
 *
 * A pid alone identifies nothing in a container: the gate is PID 1, and so is the restarted gate in the next
 * container, so "is pid 1 alive?" always says yes. The lock file therefore records who holds it precisely
 * enough to tell, and a lease the holder keeps renewing:
 *
 *   { token, pid, starttime, bootId, pidNs, host, since, leaseUntil }
 *
 * - `starttime` (field 22 of /proc/<pid>/stat, clock ticks since boot) + `bootId` (/proc/sys/kernel/random/boot_id)
 *   + `pidNs` (the inode of /proc/self/ns/pid) name one process for the life of the machine. When a waiter is on
 *   the same boot and in the same PID namespace, it can see that process: gone, or a different process with the
 *   same pid (different starttime), means the holder is dead and the lock is taken over at once. A live holder
 *   keeps the lock whatever its lease says (a long synchronous copy may delay its renewals).
 * - Otherwise (another container, another node sharing the volume) the waiter cannot see the holder and relies on
 *   the lease: the holder renews it every `leaseMs / 4` from a worker thread (so a busy main thread does not let
 *   it lapse); a lease not renewed for `leaseMs` (default 10 s) means the
 *   holder is dead or cut off. A killed gate thus blocks the next one for at most ~10 s.
 *
 * A takeover is a rename of the stale file to a private name, then a check that what was renamed is the stale
 * record that was judged (if a third gate had just taken the lock, its record is put back). The lock serialises
 * gates; it is not what makes publication safe (every gate publishes only a copy it checked itself), and the
 * holder checks `stillOurs()` before publishing so that a gate that lost its lease does not publish late.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { UserError } from '../exit-codes';
import { rmQuiet } from './fsutil';

export const LOCK_FILE = 'lock';
export const DEFAULT_LEASE_MS = 10_000;

export interface LockOwner {
  token: string;
  pid: number;
  starttime: string | null;
  bootId: string | null;
  pidNs: string | null;
  host: string;
  since: string;
  leaseUntil: number;
}

export interface HeldLock {
  readonly path: string;
  /** False once another gate took the lock over (our lease ran out). */
  stillOurs(): boolean;
  release(): Promise<void>;
}

export interface LockOptions {
  /** Give up (UserError, exit 2) after waiting this long for a live holder. */
  timeoutMs: number;
  leaseMs?: number;
  /** Called about every second while waiting, with the holder as last read (null when unreadable). */
  onWait?: (owner: LockOwner | null, waitedMs: number) => void;
  /** Called when a stale lock is taken over, with the reason (for the log). */
  onTakeOver?: (reason: string) => void;
}

function readText(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Start time of a process, in clock ticks since boot, or null if there is no such process (or no /proc). */
export function procStartTime(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return null;
  // The command name (field 2) is in parentheses and may contain spaces or ')': split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null; // field 22; fields[0] is field 3
}

function pidNamespace(): string | null {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

/** Who we are, as recorded in the lock. */
export function selfIdentity(): Omit<LockOwner, 'token' | 'since' | 'leaseUntil'> {
  return {
    pid: process.pid,
    starttime: procStartTime(process.pid),
    bootId: readText('/proc/sys/kernel/random/boot_id'),
    pidNs: pidNamespace(),
    host: os.hostname(),
  };
}

export function readOwner(lockPath: string): LockOwner | null {
  try {
    const o = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockOwner;
    return typeof o.token === 'string' && typeof o.leaseUntil === 'number' ? o : null;
  } catch {
    return null;
  }
}

export type Liveness = 'alive' | 'dead' | 'unknown';

/** Can we see the holder's process, and is it the very process that wrote the record? */
export function holderLiveness(o: LockOwner, me = selfIdentity()): Liveness {
  if (!o.bootId || !o.pidNs || !o.starttime || o.bootId !== me.bootId || o.pidNs !== me.pidNs) return 'unknown';
  const now = procStartTime(o.pid);
  return now !== null && now === o.starttime ? 'alive' : 'dead';
}

/** Why the lock may be taken over now, or null while its holder must be waited for. */
export function staleReason(lockPath: string, o: LockOwner | null, leaseMs: number, now = Date.now()): string | null {
  if (!o) {
    // Being written (open + write is not atomic on file systems without link(2)), corrupt, or a lock directory
    // left by an older dag-guard: stale once nobody touched it for a lease.
    let mtime: number;
    try {
      mtime = fs.statSync(lockPath).mtimeMs;
    } catch {
      return 'gone';
    }
    return now - mtime > leaseMs ? 'unreadable lock record not renewed within the lease' : null;
  }
  const live = holderLiveness(o);
  if (live === 'alive') return null;
  if (live === 'dead') return `holder pid ${o.pid} (same machine and PID namespace) is gone`;
  return now > o.leaseUntil ? `holder pid ${o.pid} on ${o.host} stopped renewing its lease ${Math.round((now - o.leaseUntil) / 1000)}s ago` : null;
}

const describe = (o: LockOwner | null): string =>
  o ? `pid ${o.pid} on ${o.host} since ${o.since}, lease until ${new Date(o.leaseUntil).toISOString()}` : 'an unreadable record';

/** Creates `lockPath` holding `content` only if it does not exist: link(2) of a complete file where possible. */
function createExclusive(lockPath: string, content: string): boolean {
  const tmp = `${lockPath}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, content, { mode: 0o644 });
  try {
    fs.linkSync(tmp, lockPath);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV' && code !== 'EMLINK') throw err;
    // No hard links (some SMB / FUSE volumes): exclusive create, then write. A reader may see it empty meanwhile.
    try {
      fs.writeFileSync(lockPath, content, { flag: 'wx', mode: 0o644 });
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    rmQuiet(tmp);
  }
}

/** Moves a stale lock away, unless it changed hands since it was judged (then it is put back). */
function takeOver(lockPath: string, judged: LockOwner | null): void {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(lockPath, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = readOwner(aside);
  if (judged && moved && moved.token !== judged.token) {
    try {
      fs.linkSync(aside, lockPath); // a fresh holder's record: restore it (fails harmlessly if taken again)
    } catch {
      /* the fresh holder will notice it lost the lock before publishing */
    }
  }
  rmQuiet(aside);
}

/** The lease renewer (worker thread source): rewrites the record atomically while it is still ours. */
const RENEWER = `
const { workerData: w } = require('node:worker_threads');
const fs = require('node:fs');
setInterval(() => {
  try {
    if (JSON.parse(fs.readFileSync(w.lockPath, 'utf8')).token !== w.token) return;
    const tmp = w.lockPath + '.renew-' + w.token;
    fs.writeFileSync(tmp, JSON.stringify({ ...w.record, leaseUntil: Date.now() + w.leaseMs }));
    fs.renameSync(tmp, w.lockPath);
  } catch {
    /* a full disk or a lost lock: the lease lapses */
  }
}, w.everyMs);
`;

export async function acquireLock(stateDir: string, opts: LockOptions): Promise<HeldLock> {
  const lockPath = path.join(stateDir, LOCK_FILE);
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const token = randomBytes(12).toString('hex');
  const ident = selfIdentity();
  const since = new Date().toISOString();
  const record = (): string => JSON.stringify({ token, ...ident, since, leaseUntil: Date.now() + leaseMs } satisfies LockOwner);
  const started = Date.now();
  let lastWaitReport = 0;
  for (;;) {
    if (createExclusive(lockPath, record())) break;
    const owner = readOwner(lockPath);
    const stale = staleReason(lockPath, owner, leaseMs);
    if (stale) {
      opts.onTakeOver?.(stale);
      takeOver(lockPath, owner);
      continue;
    }
    const waited = Date.now() - started;
    if (waited > opts.timeoutMs) {
      throw new UserError(`another gate holds ${lockPath} (${describe(owner)}); gave up after ${Math.round(waited / 1000)}s`);
    }
    if (opts.onWait && waited - lastWaitReport >= 1000) {
      lastWaitReport = waited;
      opts.onWait(owner, waited);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const stillOurs = (): boolean => readOwner(lockPath)?.token === token;
  // Renewed from a worker thread: the gate's own thread may be busy for long stretches (a synchronous copy of a
  // big tree, a parse), and a lease that lapses then would hand a live gate's lock to another one.
  const renewer = new Worker(RENEWER, {
    eval: true,
    workerData: { lockPath, token, record: JSON.parse(record()), leaseMs, everyMs: Math.max(50, Math.floor(leaseMs / 4)) },
  });
  renewer.unref();
  renewer.on('error', () => {
    /* the lease then lapses: another gate may take over, and stillOurs() stops this one before it publishes */
  });
  return {
    path: lockPath,
    stillOurs,
    async release() {
      // Stop the renewer first: a renewal finishing after the removal would bring the record back.
      await renewer.terminate();
      if (stillOurs()) rmQuiet(lockPath);
    },
  };
}
