/**
 * GitHub Actions workflow commands: one `::error file=…,line=…::message` annotation per finding, shown on the
 * pull request diff. Paths are relative to the working directory: run from the repository root.
 * Escaping follows @actions/core: data escapes % CR LF; property values also escape : and ,.
 */
import { severityRank, type Severity } from '../report';
import { summaryLine } from './summary';
import type { Formatter } from './types';

/**
 * A finding that fails the run (severity at or above fail-on) is an `::error`, whatever its severity, so the
 * annotation matches the red job; below the threshold, medium is a `::warning` and low/info a `::notice`.
 */
function level(sev: Severity, failOn: Severity): 'error' | 'warning' | 'notice' {
  if (severityRank(sev) >= severityRank(failOn)) return 'error';
  return sev === 'medium' || sev === 'high' || sev === 'critical' ? 'warning' : 'notice';
}

export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function command(kind: string, props: Record<string, string | number | undefined>, message: string): string {
  const p = Object.entries(props)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${kind}${p ? ' ' + p : ''}::${escapeData(message)}`;
}

export const github: Formatter = (report, ctx) => {
  const out: string[] = [];
  for (const f of report.findings) {
    const meta = ctx.rules.find((m) => m.id === f.ruleId);
    const sameLine = f.endLine === f.line;
    out.push(
      command(
        level(f.severity, ctx.failOn ?? 'low'),
        {
          file: f.path,
          line: f.line,
          col: f.column,
          endLine: f.endLine >= f.line ? f.endLine : undefined,
          // GitHub only honours endColumn on single-line annotations.
          endColumn: sameLine && f.endColumn > f.column ? f.endColumn : undefined,
          title: `${f.ruleId}${meta ? ` ${meta.name}` : ''} (${f.severity})`,
        },
        f.message,
      ),
    );
  }
  if (ctx.quiet) return out.length ? out.join('\n') + '\n' : '';
  for (const w of report.warnings ?? []) {
    out.push(command('warning', { file: w.path, line: w.line, col: w.column, title: `${w.code} (dag-guard)` }, w.message));
  }
  for (const e of report.errors) {
    out.push(command('error', { file: e.path, title: 'dag-guard: file not scanned' }, e.message));
  }
  out.push(`dag-guard: ${summaryLine(report, ctx)}`);
  return out.join('\n') + '\n';
};
