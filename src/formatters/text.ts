import { SEVERITIES, type Report, type Severity } from '../report';
import type { Formatter } from './types';

const SEV_COLOR: Record<Severity, string> = {
  critical: '\x1b[1;31m',
  high: '\x1b[31m',
  medium: '\x1b[33m',
  low: '\x1b[36m',
  info: '\x1b[2m',
};
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';

/** `path:line:col: ID [severity] message`, as compilers and ruff print, so editors can jump to it. */
export const text: Formatter = (report, ctx) => {
  const c = (code: string, s: string): string => (ctx.color ? `${code}${s}${RESET}` : s);
  const out: string[] = [];
  for (const f of report.findings) {
    const where = c(BOLD, `${f.path}:${f.line}:${f.column}:`);
    out.push(`${where} ${c(BOLD, f.ruleId)} ${c(SEV_COLOR[f.severity], `[${f.severity}]`)} ${f.message}`);
  }
  if (ctx.quiet) return out.length ? out.join('\n') + '\n' : '';
  for (const w of report.warnings ?? []) {
    out.push(c(DIM, `${w.path}:${w.line}:${w.column}: ${w.code} [warning] ${w.message}`));
  }
  for (const e of report.errors) {
    out.push(`${c(BOLD, `${e.path}:`)} ${c('\x1b[1;31m', 'error:')} ${e.message}`);
  }
  const s = report.summary;
  const counts = SEVERITIES.slice()
    .reverse()
    .map((sev) => [sev, report.findings.filter((f) => f.severity === sev).length] as const)
    .filter(([, n]) => n > 0)
    .map(([sev, n]) => `${n} ${sev}`);
  const files = `${s.filesScanned} file${s.filesScanned === 1 ? '' : 's'}`;
  const sup = s.suppressed ? `, ${s.suppressed} suppressed` : '';
  const errs = report.errors.length ? `, ${report.errors.length} error${report.errors.length === 1 ? '' : 's'}` : '';
  const line = s.findings
    ? `Found ${s.findings} finding${s.findings === 1 ? '' : 's'} (${counts.join(', ')}) in ${files}${sup}${errs} [${s.durationMs} ms]`
    : `No findings in ${files}${sup}${errs} [${s.durationMs} ms]`;
  if (out.length) out.push('');
  out.push(c(s.findings || report.errors.length ? BOLD : '\x1b[32m', line));
  const scope = scopeLine(s);
  if (scope) out.push(c(DIM, scope));
  return out.join('\n') + '\n';
};

/** What the scan covered beyond plain files, and what it skipped (nothing when there is nothing to say). */
function scopeLine(s: Report['summary']): string {
  const parts: string[] = [];
  if (s.enforce) parts.push('enforce mode');
  if (s.archives) parts.push(`${s.archives} zip archive${s.archives === 1 ? '' : 's'} scanned`);
  if (s.airflowIgnored) parts.push(`${s.airflowIgnored} .airflowignore'd (scanned, not imported as DAG files)`);
  const sk = s.skipped;
  if (sk) for (const [why, n] of Object.entries(sk)) if (n) parts.push(`${n} skipped by ${why === 'virtualenv' ? 'virtualenv folders' : `${why} globs`}`);
  return parts.join('; ');
}
