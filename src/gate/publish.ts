/**
 * The git-sync gate's core: check one immutable tree and, only when it passes, publish it atomically.
 *
 * Layout inside --publish-to (everything on the one filesystem of --publish-to, so rename(2) is atomic):
 *   <publish-to>/<link>                         symlink, relative target: .dag-guard/versions/<rev>.<stamp>
 *   <publish-to>/.dag-guard/versions/<rev>.<stamp>/   published trees (last N kept)
 *   <publish-to>/.dag-guard/staging-*            a copy being checked (removed on failure)
 *   <publish-to>/.dag-guard/status.json          machine-readable status of the last run
 *   <publish-to>/.dag-guard/lock                 one gate at a time (see lock.ts: survives kill -9 of PID 1)
 *
 * The tree is copied *first* and the copy is what gets checked and then renamed into place: what the
 * scheduler sees is byte for byte what passed, whatever happens to the source meanwhile. The copy holds only
 * regular files and directories (in-tree symlinks materialised; links that leave the tree refuse the revision),
 * so nothing in the published folder can point Airflow at bytes the check did not read.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UserError } from '../exit-codes';
import { severityRank, SEVERITIES, type Report, type Severity } from '../report';
import { copyTree, fsyncDir, fsyncTree, rmQuiet, writeFileAtomic, type LinkNote } from './fsutil';
import { assessHealth, DEFAULT_STALE_AFTER_MS, type Health } from './health';
import { acquireLock, type HeldLock, type LockOwner } from './lock';

export const STATE_DIR = '.dag-guard';
export const DEFAULT_LINK = 'current';
export const DEFAULT_KEEP = 5;
let seq = 0;

/** What the gate needs from a check: the report and whether it passes (exitCode 0). */
export interface GateCheckResult {
  report: Report;
  exitCode: number;
  /** The threshold the check applied (from the options or the config), for messages. */
  failOn?: Severity;
}
export type GateCheck = (dir: string) => Promise<GateCheckResult>;

export interface GateOptions {
  source: string;
  publishTo: string;
  check: GateCheck;
  /** Versions kept in publish-to, the live one included (>= 1). */
  keep?: number;
  /** Name of the symlink inside publish-to that the scheduler reads. */
  link?: string;
  /** Revision given by the caller (git-sync's GITSYNC_HASH / Gitsync-Hash); the worktree's HEAD wins. */
  hintRevision?: string;
  /** The severity threshold, for messages only (the check decides). */
  failOn?: Severity;
  /** Settings that change the verdict; a rejected revision is only re-checked when they change. */
  fingerprint?: string;
  log?: (line: string) => void;
  /** Test hook: called after the copy is checked and before it is published. */
  beforePublish?: () => void | Promise<void>;
  /** How long to wait for another gate's lock, in ms. */
  lockTimeoutMs?: number;
  /** The lock's lease (see lock.ts); a dead holder in another PID namespace blocks for at most this long. */
  leaseMs?: number;
  /** After waiting this long for the lock, status.json says `blocked` (so /healthz alarms). */
  lockReportMs?: number;
  /** Health window: no successful run for this long means stale (0 = never). */
  staleAfterMs?: number;
}

/** The rule id under which the gate itself reports links it refuses to publish. */
export const LINK_RULE_ID = 'GATE-SYMLINK';

export type Verdict = 'published' | 'rejected' | 'already-live' | 'error' | 'blocked';

export interface FindingsSummary {
  total: number;
  failing: number;
  bySeverity: Partial<Record<Severity, number>>;
  errors: number;
  top: { ruleId: string; severity: Severity; path: string; line: number; message: string }[];
}

export interface GateStatus {
  schema: 1;
  verdict: Verdict;
  revision: string | null;
  time: string;
  source: string;
  message: string;
  /** The revision the scheduler sees after this run. */
  live: { revision: string; dir: string; publishedAt: string } | null;
  findings?: FindingsSummary;
  durationMs: number;
  fingerprint?: string;
  /** Symlinks in the revision: materialised (published as copies) and rejected (the revision is refused). */
  links?: { materialised: LinkNote[]; rejected: LinkNote[] };
  /** The last run that ended with the newest revision live (published or already live). */
  lastSuccess?: { revision: string | null; time: string } | null;
  /** Whether publication works; /healthz serves the same assessment. */
  health?: Health;
}

export interface GateResult {
  status: GateStatus;
  exitCode: number;
}

export function statusPath(publishTo: string): string {
  return path.join(publishTo, STATE_DIR, 'status.json');
}

export function readStatus(publishTo: string): GateStatus | null {
  try {
    return JSON.parse(fs.readFileSync(statusPath(publishTo), 'utf8')) as GateStatus;
  } catch {
    return null;
  }
}

/** The live version: the link's target directory and the revision encoded in its name. */
export function liveVersion(publishTo: string, link = DEFAULT_LINK): { revision: string; dir: string } | null {
  let target: string;
  try {
    target = fs.readlinkSync(path.join(publishTo, link));
  } catch {
    return null;
  }
  const base = path.basename(target);
  const dot = base.lastIndexOf('.');
  return { revision: dot > 0 ? base.slice(0, dot) : base, dir: path.resolve(publishTo, target) };
}

function git(args: string[], cwd: string): string {
  return execFileSync('git', ['-c', 'safe.directory=*', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  }).trim();
}

/** Resolves --source once (git-sync's link flips under us); the result is the worktree we work on. */
export function resolveSource(source: string): string {
  let real: string;
  try {
    real = fs.realpathSync(source);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`--source ${source} does not exist (or is a dangling link: has git-sync synced yet?)`);
    if (code === 'EACCES') throw new UserError(`--source ${source} is not readable: permission denied`);
    throw new UserError(`--source ${source}: ${(err as Error).message}`);
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(real);
  } catch (err) {
    throw new UserError(`--source ${source}: ${(err as Error).message}`);
  }
  if (!st.isDirectory()) throw new UserError(`--source ${source} is not a directory`);
  try {
    fs.accessSync(real, fs.constants.R_OK | fs.constants.X_OK);
    fs.readdirSync(real);
  } catch {
    throw new UserError(`--source ${source} is not readable: permission denied`);
  }
  return real;
}

/** Revision of a resolved worktree: git HEAD, else the hint (GITSYNC_HASH), else git-sync's link name, else a content hash. */
export function revisionOf(dir: string, hint?: string): string {
  try {
    const head = git(['rev-parse', 'HEAD'], dir);
    if (/^[0-9a-f]{40,64}$/.test(head)) return head;
  } catch {
    /* not a git worktree */
  }
  if (hint && /^[0-9A-Za-z_-]{1,80}$/.test(hint)) return hint;
  const base = path.basename(dir);
  if (/^[0-9a-f]{40,64}$/.test(base)) return base;
  return `content-${contentHash(dir).slice(0, 20)}`;
}

function contentHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string, rel: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      if (rel === '' && name === '.git') continue;
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      const r = rel ? `${rel}/${name}` : name;
      if (st.isDirectory()) walk(p, r);
      else if (st.isSymbolicLink()) h.update(`l ${r} ${fs.readlinkSync(p)}\n`);
      else if (st.isFile()) h.update(`f ${r} ${st.size}\n`).update(fs.readFileSync(p));
    }
  };
  walk(dir, '');
  return h.digest('hex');
}

export function summarize(report: Report, failOn: Severity | undefined): FindingsSummary {
  const bySeverity: Partial<Record<Severity, number>> = {};
  for (const f of report.findings) bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
  const t = failOn ? severityRank(failOn) : 0;
  const failingList = report.findings.filter((f) => severityRank(f.severity) >= t);
  const ordered = [...report.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  return {
    total: report.findings.length,
    failing: failOn ? failingList.length : report.findings.length,
    bySeverity: Object.fromEntries(SEVERITIES.filter((s) => bySeverity[s]).map((s) => [s, bySeverity[s]])),
    errors: report.errors.length,
    top: ordered.slice(0, 20).map((f) => ({ ruleId: f.ruleId, severity: f.severity, path: f.path, line: f.line, message: f.message })),
  };
}

const short = (rev: string | null | undefined): string => (rev ? (/^[0-9a-f]{40,}$/.test(rev) ? rev.slice(0, 12) : rev) : '(none)');

function explainFsError(err: unknown, what: string, publishTo: string): UserError {
  const e = err as NodeJS.ErrnoException;
  const hint =
    e.code === 'ENOSPC' || e.code === 'EDQUOT'
      ? `no space left on the filesystem of --publish-to ${publishTo}`
      : e.code === 'EACCES' || e.code === 'EPERM'
        ? `permission denied (the gate needs write access to --publish-to ${publishTo})`
        : e.code === 'EROFS'
          ? `--publish-to ${publishTo} is on a read-only filesystem`
          : (e.message ?? String(err));
  return new UserError(`${what}: ${hint}`, EXIT_USAGE);
}

/** Runs the gate once. Never throws for a rejected tree; throws UserError for bad input (status is written first). */
export async function runGate(opts: GateOptions): Promise<GateResult> {
  const started = Date.now();
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const keep = opts.keep ?? DEFAULT_KEEP;
  const linkName = opts.link ?? DEFAULT_LINK;
  if (!Number.isInteger(keep) || keep < 1) throw new UserError('--keep takes a whole number >= 1');
  if (!linkName || linkName.includes('/') || linkName.startsWith('.')) throw new UserError(`invalid link name: ${linkName}`);

  const publishTo = path.resolve(opts.publishTo);
  const stateDir = path.join(publishTo, STATE_DIR);
  const versionsDir = path.join(stateDir, 'versions');
  try {
    fs.mkdirSync(versionsDir, { recursive: true });
  } catch (err) {
    throw explainFsError(err, `cannot prepare --publish-to ${publishTo}`, publishTo);
  }

  const writeStatus = (s: GateStatus): void => {
    try {
      writeFileAtomic(statusPath(publishTo), JSON.stringify(s, null, 2) + '\n');
    } catch (err) {
      log(`dag-guard gate: warning: cannot write ${statusPath(publishTo)}: ${(err as Error).message}`);
    }
  };
  const liveInfo = (): GateStatus['live'] => {
    const lv = liveVersion(publishTo, linkName);
    if (!lv) return null;
    let publishedAt = '';
    try {
      publishedAt = fs.lstatSync(path.join(publishTo, linkName)).mtime.toISOString();
    } catch {
      /* raced with a removal */
    }
    return { revision: lv.revision, dir: path.relative(publishTo, lv.dir), publishedAt };
  };
  const staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const withHealth = (s: GateStatus): GateStatus => {
    const ok = s.verdict === 'published' || s.verdict === 'already-live';
    const lastSuccess = ok ? { revision: s.revision, time: s.time } : (readStatus(publishTo)?.lastSuccess ?? null);
    const out = { ...s, lastSuccess };
    return { ...out, health: assessHealth(out, staleAfterMs) };
  };
  const status = (verdict: Verdict, revision: string | null, message: string, findings?: FindingsSummary, links?: GateStatus['links']): GateStatus =>
    withHealth({
      schema: 1,
      verdict,
      revision,
      time: new Date().toISOString(),
      source: opts.source,
      message,
      live: liveInfo(),
      ...(findings ? { findings } : {}),
      durationMs: Date.now() - started,
      ...(opts.fingerprint ? { fingerprint: opts.fingerprint } : {}),
      ...(links && (links.materialised.length || links.rejected.length) ? { links } : {}),
    });
  const fail = (err: UserError, revision: string | null): never => {
    const live = liveInfo();
    const s = status('error', revision, err.message);
    writeStatus(s);
    log(`dag-guard gate: ERROR ${short(revision)}: ${err.message}; live stays ${short(live?.revision)}`);
    throw err;
  };

  let lock: HeldLock | undefined;
  const lockReportMs = opts.lockReportMs ?? 30_000;
  let reportedBlocked = false;
  const onWait = (owner: LockOwner | null, waitedMs: number): void => {
    if (reportedBlocked || waitedMs < lockReportMs) return;
    reportedBlocked = true;
    const who = owner ? `pid ${owner.pid} on ${owner.host} since ${owner.since}` : 'an unreadable lock record';
    const msg = `publication blocked: waiting ${Math.round(waitedMs / 1000)}s for the gate lock held by ${who}`;
    writeStatus(status('blocked', null, msg));
    log(`dag-guard gate: ${msg}`);
  };
  try {
    lock = await acquireLock(stateDir, { timeoutMs: opts.lockTimeoutMs ?? 10 * 60 * 1000, leaseMs: opts.leaseMs, onWait, onTakeOver: (why) => log(`dag-guard gate: taking over a stale lock: ${why}`) });
  } catch (err) {
    if (err instanceof UserError) return fail(err, null);
    throw explainFsError(err, `cannot lock ${stateDir}`, publishTo);
  }
  try {
    // Leftovers of a gate that died mid-copy are ours to remove now that we hold the lock.
    for (const name of fs.readdirSync(stateDir)) if (name.startsWith('staging-')) rmQuiet(path.join(stateDir, name));

    let resolved: string;
    try {
      resolved = resolveSource(opts.source);
    } catch (err) {
      return fail(err as UserError, null);
    }
    if (resolved === publishTo || (resolved + path.sep).startsWith(publishTo + path.sep) || (publishTo + path.sep).startsWith(resolved + path.sep)) {
      return fail(new UserError(`--source and --publish-to must not contain each other (${resolved}, ${publishTo})`), null);
    }
    const revision = revisionOf(resolved, opts.hintRevision);
    if (opts.hintRevision && revision !== opts.hintRevision && /^[0-9a-f]{40,64}$/.test(opts.hintRevision)) {
      log(`dag-guard gate: note: git-sync announced ${short(opts.hintRevision)} but ${opts.source} now points at ${short(revision)}; checking ${short(revision)}`);
    }

    const live = liveVersion(publishTo, linkName);
    if (live && live.revision === revision && fs.existsSync(live.dir)) {
      const s = status('already-live', revision, `revision ${revision} is already live`);
      writeStatus(s);
      log(`dag-guard gate: ${short(revision)} already live, nothing to do`);
      return { status: s, exitCode: EXIT_OK };
    }
    const prev = readStatus(publishTo);
    if (prev && prev.verdict === 'rejected' && prev.revision === revision && prev.fingerprint === opts.fingerprint && prev.findings) {
      // git-sync retries a failed exechook with backoff: do not re-run the whole check for the same tree.
      const s = withHealth({ ...prev, time: new Date().toISOString(), live: liveInfo(), durationMs: Date.now() - started });
      writeStatus(s);
      log(`dag-guard gate: REJECTED ${short(revision)} (already checked): ${prev.message}; live stays ${short(live?.revision)}`);
      return { status: s, exitCode: EXIT_FINDINGS };
    }

    const stamp = `${Date.now().toString(36).padStart(9, '0')}-${process.pid.toString(36)}-${(seq++).toString(36)}`;
    const staging = path.join(stateDir, `staging-${stamp}`);
    let copied;
    try {
      copied = copyTree(resolved, staging);
      fsyncTree(staging);
    } catch (err) {
      rmQuiet(staging);
      const e = err as NodeJS.ErrnoException;
      if ((e.code === 'ENOENT' || e.code === 'EACCES') && e.path && !(e.path + path.sep).startsWith(publishTo + path.sep)) {
        return fail(new UserError(`cannot read ${e.path} in --source ${opts.source}: ${e.code === 'EACCES' ? 'permission denied' : 'vanished during the copy (git-sync removed the worktree?)'}`), revision);
      }
      return fail(explainFsError(err, `cannot copy ${short(revision)} into --publish-to`, publishTo), revision);
    }
    for (const s of copied.skipped) log(`dag-guard gate: note: not published: ${s}`);
    const links = { materialised: copied.materialised.slice(0, 200), rejected: copied.rejected.slice(0, 200) };

    let result: GateCheckResult;
    try {
      result = await opts.check(staging);
    } catch (err) {
      rmQuiet(staging);
      if (err instanceof UserError) return fail(err, revision);
      throw err;
    }
    if (copied.rejected.length) {
      // The gate's own findings: whatever the threshold, these make Airflow read bytes nobody checked.
      const linkFindings = copied.rejected.map((l) => ({
        ruleId: LINK_RULE_ID,
        category: 'malicious' as const,
        severity: 'critical' as const,
        path: l.path,
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        message: `symbolic link ${l.path} -> ${l.target || '(n/a)'}: ${l.reason}; the gate publishes only regular files and directories from inside the tree`,
        source: 'static' as const,
      }));
      result = { ...result, exitCode: EXIT_FINDINGS, report: { ...result.report, findings: [...linkFindings, ...result.report.findings] } };
    }
    const failOn = opts.failOn ?? result.failOn;
    if (result.exitCode !== EXIT_OK) {
      rmQuiet(staging);
      const sum = summarize(result.report, failOn);
      const first = result.report.findings
        .filter((f) => !failOn || severityRank(f.severity) >= severityRank(failOn))
        .slice(0, 3)
        .map((f) => `${f.ruleId} ${f.path}:${f.line}`)
        .join(', ');
      const errs = result.report.errors.length ? `, ${result.report.errors.length} file(s) could not be scanned` : '';
      const message = `${sum.failing} finding(s) at or above ${failOn ?? 'the threshold'}${first ? ` (${first}${sum.failing > 3 ? ', ...' : ''})` : ''}${errs}`;
      const s = status('rejected', revision, message, sum, links);
      writeStatus(s);
      log(`dag-guard gate: REJECTED ${short(revision)}: ${message}; live stays ${short(live?.revision)}`);
      return { status: s, exitCode: EXIT_FINDINGS };
    }
    if (opts.beforePublish) await opts.beforePublish();
    if (!lock.stillOurs()) {
      rmQuiet(staging);
      return fail(new UserError(`lost the gate lock (lease not renewed in time) before publishing ${short(revision)}; the next run retries`), revision);
    }

    const versionName = `${revision}.${stamp}`;
    const versionDir = path.join(versionsDir, versionName);
    const linkPath = path.join(publishTo, linkName);
    const tmpLink = path.join(publishTo, `.${linkName}.tmp-${stamp}`);
    try {
      fs.renameSync(staging, versionDir);
      fsyncDir(versionsDir);
      fs.symlinkSync(path.join(STATE_DIR, 'versions', versionName), tmpLink);
      fs.renameSync(tmpLink, linkPath); // the atomic swap
      fsyncDir(publishTo);
    } catch (err) {
      rmQuiet(tmpLink);
      if (liveVersion(publishTo, linkName)?.dir !== versionDir) rmQuiet(versionDir);
      rmQuiet(staging);
      return fail(explainFsError(err, `cannot publish ${short(revision)}`, publishTo), revision);
    }
    const removed = prune(versionsDir, versionName, keep);
    const sum = summarize(result.report, failOn);
    const msg = `published ${revision} (${copied.files} files, ${sum.total} finding(s) below the threshold)`;
    const s = status('published', revision, msg, sum, links);
    writeStatus(s);
    log(`dag-guard gate: published ${short(revision)} -> ${linkPath} (${copied.files} files, ${sum.total} finding(s) below threshold, was ${short(live?.revision)}${removed ? `, pruned ${removed} old` : ''})`);
    return { status: s, exitCode: EXIT_OK };
  } finally {
    await lock.release();
  }
}

/** Keeps the newest `keep` versions (the live one always); returns how many were removed. */
function prune(versionsDir: string, liveName: string, keep: number): number {
  let names: string[];
  try {
    names = fs.readdirSync(versionsDir);
  } catch {
    return 0;
  }
  // Version names end in `.<time stamp>` (fixed-width base36): newest first.
  const stampOf = (n: string): string => n.slice(n.lastIndexOf('.') + 1);
  const withTime = names
    .filter((n) => n !== liveName)
    .map((n) => ({ n }))
    .sort((a, b) => stampOf(b.n).localeCompare(stampOf(a.n)));
  let removed = 0;
  for (const { n } of withTime.slice(Math.max(0, keep - 1))) {
    rmQuiet(path.join(versionsDir, n));
    removed++;
  }
  return removed;
}
