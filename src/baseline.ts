/**
 * Baselines for legacy repositories: `check --write-baseline FILE` records today's findings, `check --baseline FILE`
 * reports only findings that are not in it. Entries are keyed by the finding's fingerprint (sha256 of rule id + path +
 * normalised matched code + occurrence index: no line numbers, so unrelated edits that move lines keep matching).
 * The file holds fingerprints, rule ids and paths only: never a snippet, a message or a secret in clear.
 */
import { fingerprint } from './fingerprint';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from './exit-codes';
import { compareText, type Finding } from './report';

export const BASELINE_VERSION = 1;

export interface BaselineEntry {
  ruleId: string;
  /** Relative to the working directory of the run that wrote it, '/' separators (for humans; matching uses the fingerprint). */
  path: string;
  fingerprint: string;
}

export interface BaselineFile {
  $comment?: string;
  tool: 'dag-guard';
  version: number;
  /** The working directory of the run that wrote it, relative to the baseline file's folder ('.' mostly). */
  cwd?: string;
  findings: BaselineEntry[];
}

/** The finding's fingerprint; findings without one (e.g. from the sandbox) get one from rule id + path + redacted message. */
export function fingerprintOf(f: Finding): string {
  if (f.fingerprint) return f.fingerprint;
  return fingerprint(f.ruleId, f.path, f.message);
}

export function buildBaseline(findings: Finding[], cwd = '.'): BaselineFile {
  const entries = findings
    .map((f) => ({ ruleId: f.ruleId, path: f.path, fingerprint: fingerprintOf(f) }))
    .sort((a, b) => compareText(a.path, b.path) || compareText(a.ruleId, b.ruleId) || compareText(a.fingerprint, b.fingerprint));
  return {
    $comment:
      'dag-guard baseline: findings accepted when it was written. `dag-guard check --baseline <this file>` reports only new ones. ' +
      'Fingerprints are hashes; regenerate with --write-baseline.',
    tool: 'dag-guard',
    version: BASELINE_VERSION,
    cwd,
    findings: entries,
  };
}

export function writeBaseline(file: string, findings: Finding[], cwd: string = process.cwd()): number {
  const rel = path.relative(path.dirname(path.resolve(cwd, file)), cwd).split(path.sep).join('/') || '.';
  const b = buildBaseline(findings, rel);
  try {
    fs.mkdirSync(path.dirname(path.resolve(cwd, file)), { recursive: true });
    fs.writeFileSync(path.resolve(cwd, file), JSON.stringify(b, null, 2) + '\n');
  } catch (err) {
    throw new UserError(`cannot write --write-baseline ${file}: ${(err as Error).message}`);
  }
  return b.findings.length;
}

export function readBaseline(file: string): BaselineFile {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT'
        ? `--baseline ${file}: no such file (create it with \`dag-guard check --write-baseline ${file}\`)`
        : `cannot read --baseline ${file}: ${(err as Error).message}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    throw new UserError(`--baseline ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const d = data as Partial<BaselineFile>;
  if (!d || typeof d !== 'object' || d.tool !== 'dag-guard' || !Array.isArray(d.findings)) {
    throw new UserError(`--baseline ${file} is not a dag-guard baseline (write one with --write-baseline)`);
  }
  if (d.version !== BASELINE_VERSION) {
    throw new UserError(`--baseline ${file} has version ${String(d.version)}; this dag-guard reads version ${BASELINE_VERSION}: regenerate it with --write-baseline`);
  }
  for (const [i, e] of d.findings.entries()) {
    if (!e || typeof e.fingerprint !== 'string' || typeof e.ruleId !== 'string') {
      throw new UserError(`--baseline ${file}: entry ${i} has no fingerprint/ruleId`);
    }
  }
  return d as BaselineFile;
}

/**
 * Keeps the findings the baseline does not cover. Matching is a multiset: a fingerprint recorded once absorbs one
 * finding, so a second, identical finding is new.
 */
export function filterByBaseline(findings: Finding[], baseline: BaselineFile): Finding[] {
  const left = new Map<string, number>();
  for (const e of baseline.findings) left.set(e.fingerprint, (left.get(e.fingerprint) ?? 0) + 1);
  return findings.filter((f) => {
    const fp = fingerprintOf(f);
    const n = left.get(fp) ?? 0;
    if (n > 0) {
      left.set(fp, n - 1);
      return false;
    }
    return true;
  });
}

/**
 * Fingerprints include the path relative to the working directory, so a baseline only matches runs from the
 * directory it was written from. Returns a warning when this run is elsewhere, else null.
 */
export function baselineCwdMismatch(file: string, b: BaselineFile, cwd: string): string | null {
  if (typeof b.cwd !== 'string') return null;
  const want = path.resolve(path.dirname(path.resolve(cwd, file)), b.cwd);
  const real = (p: string): string => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p;
    }
  };
  if (real(want) === real(cwd)) return null;
  const rel = path.relative(cwd, want) || '.';
  return `baseline ${file} was written from ${rel}, not from this directory: its findings will not match (paths are relative to the working directory); run from ${rel}`;
}
