import { severityRank, type Report, type Severity } from '../report';
import { SourceCache, sourceContext } from './source';
import { summaryLine } from './summary';
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
const BLUE = '\x1b[34m';

/**
 * `path:line:col: ID [severity] message`, as compilers and ruff print, so editors can jump to it; then (default,
 * `--no-show-source` turns it off) the source line with a caret and a `dag-guard explain` hint, as ruff's full output.
 */
export const text: Formatter = (report, ctx) => {
  const c = (code: string, s: string): string => (ctx.color ? `${code}${s}${RESET}` : s);
  const out: string[] = [];
  const showSource = ctx.showSource !== false && !ctx.statistics;
  const cache = new SourceCache(ctx.cwd);
  if (ctx.statistics) {
    out.push(...statistics(report.findings, ctx.rules));
  } else {
    for (const f of report.findings) {
      const where = c(BOLD, `${f.path}:${f.line}:${f.column}:`);
      out.push(`${where} ${c(BOLD, f.ruleId)} ${c(SEV_COLOR[f.severity], `[${f.severity}]`)} ${f.message}`);
      if (!showSource) continue;
      const context = sourceContext(f, cache);
      if (context.length) out.push(c(BLUE, context[0].replace(/\|.*/, '|')) + context[0].replace(/^[^|]*\|/, ''), c(SEV_COLOR[f.severity], context[1]));
      const meta = ctx.rules.find((m) => m.id === f.ruleId);
      out.push(c(DIM, `  = help: \`dag-guard explain ${f.ruleId}\`${meta ? ` (${meta.name})` : ''}`), '');
    }
    if (showSource && out.length && out[out.length - 1] === '') out.pop();
  }
  if (ctx.quiet) return out.length ? out.join('\n') + '\n' : '';
  for (const w of report.warnings ?? []) {
    out.push(c(DIM, `${w.path}:${w.line}:${w.column}: ${w.code} [warning] ${w.message}`));
  }
  for (const e of report.errors) {
    out.push(`${c(BOLD, `${e.path}:`)} ${c('\x1b[1;31m', 'error:')} ${e.message}`);
  }
  const line = summaryLine(report, ctx);
  if (out.length) out.push('');
  const failing = report.findings.some((f) => severityRank(f.severity) >= severityRank(ctx.failOn ?? 'low')) || report.errors.length > 0;
  out.push(c(failing ? BOLD : report.summary.findings ? '' : '\x1b[32m', line));
  const scope = scopeLine(report.summary, report.dataFiles ?? []);
  if (scope) out.push(c(DIM, scope));
  return out.join('\n') + '\n';
};

/** What the scan covered beyond plain files, and what it skipped (nothing when there is nothing to say). */
function scopeLine(s: Report['summary'], dataFiles: string[]): string {
  const parts: string[] = [];
  if (s.enforce) parts.push('enforce mode');
  if (dataFiles.length) {
    const shown = dataFiles.slice(0, 5).join(', ') + (dataFiles.length > 5 ? `, and ${dataFiles.length - 5} more (JSON report: \`dataFiles\`)` : '');
    parts.push(`${dataFiles.length} data file${dataFiles.length === 1 ? '' : 's'} scanned for secrets: ${shown}`);
  }
  if (s.archives) parts.push(`${s.archives} zip archive${s.archives === 1 ? '' : 's'} scanned`);
  if (s.airflowIgnored) parts.push(`${s.airflowIgnored} .airflowignore'd (scanned, not imported as DAG files)`);
  // Glob exclusions are already in the summary line (excludedCount); virtualenv folders are not the user's choice.
  if (s.skipped?.virtualenv) parts.push(`${s.skipped.virtualenv} skipped virtualenv folder${s.skipped.virtualenv === 1 ? '' : 's'}`);
  return parts.join('; ');
}

/** `--statistics`: one line per rule, most frequent first (as `ruff check --statistics`). */
function statistics(findings: { ruleId: string; severity: Severity }[], rules: { id: string; name: string }[]): string[] {
  const by = new Map<string, { n: number; worst: Severity }>();
  for (const f of findings) {
    const e = by.get(f.ruleId);
    if (!e) by.set(f.ruleId, { n: 1, worst: f.severity });
    else {
      e.n++;
      if (severityRank(f.severity) > severityRank(e.worst)) e.worst = f.severity;
    }
  }
  const rows = [...by.entries()].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]));
  const w = Math.max(1, ...rows.map(([, e]) => String(e.n).length));
  return rows.map(([id, e]) => `${String(e.n).padStart(w)}  ${id}  [${e.worst}]  ${rules.find((r) => r.id === id)?.name ?? ''}`.trimEnd());
}
