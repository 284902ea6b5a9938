/**
 * From what the engine, the kernel and the authenticated records say to findings and per-file reports. Fail closed:
 * engine/kernel facts first (run timeout kill, OOMKilled, output cap), then the harness's per-file status, then its
 * events; a file without an authenticated "done" record is never clean.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fingerprint } from '../fingerprint';
import type { FileError, FileReport, Finding } from '../report';
import { handleLine, MAX_EVENTS_PER_KIND, newRunState, type RunState } from './channel';
import { EVENT_RULE, SANDBOX_RULE_BY_ID, STATUS_RULE } from './rules';
import type { SandboxFile, SandboxOptions, SandboxResult } from './types';

export function rel(cwd: string, p: string): string {
  return path.relative(cwd, p).split(path.sep).join('/');
}

function looksLikeDagFile(p: string): boolean {
  // Airflow's safe-mode heuristic: only files mentioning both are considered DAG files.
  try {
    const s = fs.readFileSync(p, 'utf8').toLowerCase();
    return s.includes('airflow') && s.includes('dag');
  } catch {
    return false;
  }
}

function lastLine(tb: string): string {
  const lines = tb
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? tb;
}

/** Fold one container run (its local file indexes) into the run state of the whole call (global indexes). */
export function mergeRun(into: RunState, st: RunState, subset: number[]): void {
  into.hello ??= st.hello;
  into.ended = st.ended;
  into.unsigned += st.unsigned;
  into.stdoutBytes += st.stdoutBytes;
  into.stdoutCapped ||= st.stdoutCapped;
  into.stderrTail = st.stderrTail;
  const cap = 4 * MAX_EVENTS_PER_KIND * EVENT_RULE.size;
  subset.forEach((g, local) => {
    const done = st.done.get(local);
    if (done && !into.done.has(g)) into.done.set(g, done);
    const evs = st.events.get(local);
    if (evs) {
      into.events.set(g, [...(into.events.get(g) ?? []), ...evs].slice(-cap));
      into.eventLines.set(g, [...(into.eventLines.get(g) ?? []), ...(st.eventLines.get(local) ?? [])].slice(-cap));
    }
  });
}

/**
 * Decide a run from raw stdout lines alone (no engine): what the runner does with whatever the container sent.
 * For tests that feed it hostile records (unknown kinds, prototype names, malformed fields).
 */
export function decideFromLines(
  lines: Buffer[],
  nonce: Buffer,
  files: SandboxFile[],
  opts: Pick<SandboxOptions, 'cwd' | 'timeoutSec'>,
): SandboxResult {
  const st = newRunState();
  for (const l of lines) handleLine(l, nonce, st, files.length);
  return buildResult(files, st, opts as SandboxOptions, { runTimedOut: false, oomKilled: false, exitCode: 0, durationMs: 0, errors: [] });
}

export function buildResult(
  inside: SandboxFile[],
  st: RunState,
  opts: SandboxOptions,
  run: { runTimedOut: boolean; oomKilled: boolean; exitCode?: number; durationMs: number; errors: FileError[] },
): SandboxResult {
  const findings: Finding[] = [];
  const reports: FileReport[] = [];
  if (!st.hello && !run.runTimedOut && !st.stdoutCapped) {
    run.errors.push({
      path: '.',
      message: `sandbox harness did not start (exit ${run.exitCode ?? '?'}): ${lastLine(st.stderrTail) || 'no output'}`,
    });
  }
  inside.forEach((f, idx) => {
    const p = rel(opts.cwd, f.host);
    const events = st.events.get(idx) ?? [];
    const lines = st.eventLines.get(idx) ?? [];
    const done = st.done.get(idx);
    const seen = new Set<string>();
    const add = (ruleId: string, detail: string, line = 1) => {
      const key = `${ruleId}:${line}`;
      if (seen.has(key)) return;
      seen.add(key);
      const rule = SANDBOX_RULE_BY_ID.get(ruleId);
      if (!rule) return;
      findings.push({
        ruleId,
        category: rule.category,
        severity: rule.severity,
        path: p,
        line,
        column: 1,
        endLine: line,
        endColumn: 1,
        message: detail ? `${rule.message}: ${detail.slice(0, 300)}` : rule.message,
        source: 'sandbox',
        fingerprint: fingerprint(ruleId, opts.identityOf ? opts.identityOf(f.host) : p, detail.slice(0, 120)),
      });
    };

    let status: string;
    let reason = '';
    if (!done) {
      // no authenticated record for this file: decide from what the engine/kernel says, never "clean"
      if (run.runTimedOut) status = 'timeout';
      else if (run.oomKilled) status = 'oom';
      else if (st.stdoutCapped) status = 'output-cap';
      else {
        status = 'tampered';
        reason =
          st.crashReason.get(idx) ??
          (st.hello ? `the sandbox ended without a result for this file (container exit ${run.exitCode ?? '?'})` : 'the sandbox harness did not start');
      }
    } else if (typeof done.status !== 'string' || !(done.status === 'ok' || STATUS_RULE.has(done.status)) || !Array.isArray(done.dags)) {
      status = 'tampered';
      reason = 'malformed result record for this file';
    } else {
      status = done.status;
      reason = typeof done.reason === 'string' ? done.reason : '';
      if (status === 'ok' && done.dags.length === 0 && looksLikeDagFile(f.host)) status = 'no-dag';
    }
    if (st.unsigned > 0) {
      status = status === 'ok' || status === 'no-dag' ? 'tampered' : status;
      add('DG907', `${st.unsigned} unauthenticated line(s) on the sandbox result channel`);
    }

    events.forEach((ev, i) => {
      const known = EVENT_RULE.get(ev.kind);
      const loc = lines[i];
      const line = loc?.file === f.container && loc.line ? loc.line : 1;
      if (known) add(known, ev.detail, line);
      else add('DG907', `unknown event kind from the harness: ${JSON.stringify(ev.kind)}`);
    });

    const statusRule = STATUS_RULE.get(status);
    if (statusRule) {
      let detail = reason;
      if (status === 'import-error' && done?.importError) detail = lastLine(done.importError);
      if (status === 'timeout') detail = run.runTimedOut && !done ? 'the whole sandbox run hit its time limit' : `> ${opts.timeoutSec}s`;
      add(statusRule, detail);
    }
    const hasViolation = findings.some((x) => x.path === p && x.category === 'sandbox-violation');
    const finalStatus = status === 'ok' || status === 'no-dag' ? (hasViolation ? 'flagged' : status === 'ok' ? 'clean' : 'no-dag') : status;
    reports.push({
      path: p,
      dags: Array.isArray(done?.dags) ? done!.dags.filter((d): d is string => typeof d === 'string') : [],
      sandbox: {
        status: finalStatus,
        durationMs: done?.durationMs ?? 0,
        events,
        ...(done?.importError ? { importError: done.importError } : {}),
      },
    });
  });
  return { findings, files: reports, errors: run.errors };
}
