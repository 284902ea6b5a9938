/**
 * Airflow 3 DAG bundles: the bundle (GitDagBundle, tracking_ref) pulls from git itself, so the gate
 * guards a ref instead of a folder. `promote` checks a candidate commit and, only when it passes,
 * advances the verified ref with a compare-and-swap (`git update-ref <ref> <new> <old>`), and only
 * forward (the new commit must descend from the old one).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT_FINDINGS, EXIT_OK, UserError } from '../exit-codes';
import type { Severity } from '../report';
import { summarize, type FindingsSummary, type GateCheck } from './publish';
import { rmQuiet } from './fsutil';

export const DEFAULT_VERIFIED_REF = 'refs/heads/dag-guard/verified';

export interface PromoteOptions {
  /** A local repository: bare, or a clone / worktree. */
  repo: string;
  /** Candidate commit-ish, e.g. refs/heads/main or a hash. */
  candidate: string;
  /** The ref to advance; a short name `dag-guard/verified` means refs/heads/dag-guard/verified. */
  verifiedRef?: string;
  check: GateCheck;
  failOn?: Severity;
  log?: (line: string) => void;
  /** Test hook: runs after the check passed, before the compare-and-swap. */
  beforeUpdate?: () => void | Promise<void>;
}

export type PromoteVerdict = 'promoted' | 'rejected' | 'already-verified' | 'not-fast-forward';

export interface PromoteResult {
  verdict: PromoteVerdict;
  exitCode: number;
  ref: string;
  candidate: string;
  previous: string | null;
  message: string;
  findings?: FindingsSummary;
}

const ZERO = '0000000000000000000000000000000000000000';

function git(gitDir: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync('git', ['-c', 'safe.directory=*', '--git-dir', gitDir, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...opts.env },
  }).trim();
}

function tryGit(gitDir: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', ['-c', 'safe.directory=*', '--git-dir', gitDir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}

function gitDirOf(repo: string): string {
  if (!fs.existsSync(repo)) throw new UserError(`--repo ${repo} does not exist`);
  const r = spawnSync('git', ['-c', 'safe.directory=*', 'rev-parse', '--absolute-git-dir'], { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) throw new UserError(`--repo ${repo} is not a git repository`);
  return r.stdout.trim();
}

export function normalizeRef(ref: string): string {
  if (ref.startsWith('refs/')) return ref;
  return `refs/heads/${ref}`;
}

const short = (h: string | null): string => (h ? h.slice(0, 12) : '(none)');

export async function promote(opts: PromoteOptions): Promise<PromoteResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const gitDir = gitDirOf(path.resolve(opts.repo));
  const ref = normalizeRef(opts.verifiedRef ?? DEFAULT_VERIFIED_REF);
  if (!tryGit(gitDir, ['check-ref-format', ref]).ok) throw new UserError(`invalid --verified-ref: ${ref}`);
  const cand = tryGit(gitDir, ['rev-parse', '--verify', '-q', `${opts.candidate}^{commit}`]);
  if (!cand.ok || !cand.out) throw new UserError(`--promote-ref ${opts.candidate} does not name a commit in ${opts.repo}`);
  const candidate = cand.out;
  const readRef = (): string | null => {
    const r = tryGit(gitDir, ['rev-parse', '--verify', '-q', `${ref}^{commit}`]);
    return r.ok && r.out ? r.out : null;
  };
  const isAncestor = (a: string, b: string): boolean => tryGit(gitDir, ['merge-base', '--is-ancestor', a, b]).ok;
  const result = (verdict: PromoteVerdict, exitCode: number, previous: string | null, message: string, findings?: FindingsSummary): PromoteResult => {
    log(`dag-guard gate: ${verdict === 'promoted' ? 'promoted' : verdict.toUpperCase()} ${short(candidate)} -> ${ref}: ${message}`);
    return { verdict, exitCode, ref, candidate, previous, message, ...(findings ? { findings } : {}) };
  };
  // Forward-only rule, evaluated against a given current value of the ref.
  const judge = (current: string | null): PromoteResult | null => {
    if (current === candidate) return result('already-verified', EXIT_OK, current, `${ref} is already at ${short(candidate)}`);
    if (current && isAncestor(candidate, current)) {
      return result('already-verified', EXIT_OK, current, `${ref} (${short(current)}) is ahead of ${short(candidate)}; never moving it backwards`);
    }
    if (current && !isAncestor(current, candidate)) {
      return result('not-fast-forward', EXIT_FINDINGS, current, `${short(candidate)} does not descend from ${ref} (${short(current)}); refusing to move it sideways (history rewritten?)`);
    }
    return null;
  };

  const before = readRef();
  const early = judge(before);
  if (early) return early;

  // Check out the candidate's tree into a private temp dir (works for bare repos, leaves no worktree behind).
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dag-guard-promote-'));
  const tree = path.join(tmp, 'tree');
  fs.mkdirSync(tree);
  let checkResult;
  try {
    try {
      const env = { GIT_INDEX_FILE: path.join(tmp, 'index') };
      git(gitDir, ['read-tree', candidate], { env });
      git(gitDir, ['--work-tree', tree, 'checkout-index', '-a', '-f'], { env });
    } catch (err) {
      throw new UserError(`cannot check out ${short(candidate)} from ${opts.repo}: ${String((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`);
    }
    checkResult = await opts.check(tree);
  } finally {
    rmQuiet(tmp);
  }
  const failOn = opts.failOn ?? checkResult.failOn;
  const sum = summarize(checkResult.report, failOn);
  if (checkResult.exitCode !== EXIT_OK) {
    const first = checkResult.report.findings.slice(0, 3).map((f) => `${f.ruleId} ${f.path}:${f.line}`).join(', ');
    return result('rejected', EXIT_FINDINGS, before, `${sum.failing} finding(s) at or above ${failOn ?? 'the threshold'}${first ? ` (${first})` : ''}; ${ref} stays at ${short(before)}`, sum);
  }
  if (opts.beforeUpdate) await opts.beforeUpdate();

  // Compare-and-swap; on a lost race re-judge against the winner's value (the candidate already passed).
  let expected = before;
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = tryGit(gitDir, ['update-ref', '--create-reflog', '-m', `dag-guard: verified ${candidate}`, ref, candidate, expected ?? ZERO]);
    if (r.ok) return result('promoted', EXIT_OK, expected, `${ref} ${short(expected)} -> ${short(candidate)}`, sum);
    const now = readRef();
    if (now === expected) throw new UserError(`git update-ref ${ref} failed: ${r.err}`);
    const verdict = judge(now);
    if (verdict) return verdict;
    expected = now;
  }
  throw new UserError(`${ref} kept changing under us; gave up after 5 attempts`);
}
