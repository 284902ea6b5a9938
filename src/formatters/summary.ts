/**
 * The one-line summary (text output, `-f github`, and stderr when the report goes to `--output FILE`). It explains
 * the exit code: how many findings fail the threshold, that warnings never do, that nothing was scanned.
 */
import { excludedCount, SEVERITIES, severityRank, type Report } from '../report';
import type { FormatContext } from './types';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function failingCount(report: Report, ctx: Pick<FormatContext, 'failOn'>): number {
  const t = severityRank(ctx.failOn ?? 'low');
  return report.findings.filter((f) => severityRank(f.severity) >= t).length;
}

export function summaryLine(report: Report, ctx: Pick<FormatContext, 'failOn' | 'baselineWritten'>): string {
  const s = report.summary;
  const failOn = ctx.failOn ?? 'low';
  const files = s.dataFiles
    ? [...(s.filesScanned ? [plural(s.filesScanned, 'file')] : []), plural(s.dataFiles, 'data file')].join(' and ')
    : plural(s.filesScanned, 'file');
  const extras = [
    ...(s.suppressed ? [`${s.suppressed} suppressed`] : []),
    ...(report.errors.length ? [`${plural(report.errors.length, 'error')} (files not scanned: the run fails)`] : []),
    ...(excludedCount(s) ? [`${excludedCount(s)} excluded by config/CLI globs`] : []),
  ];
  const tail = `${extras.length ? `, ${extras.join(', ')}` : ''} [${s.durationMs} ms]`;
  if (ctx.baselineWritten) {
    const { file, count } = ctx.baselineWritten;
    return `Recorded ${plural(count, 'finding')} from ${files} in baseline ${file}: accepted; runs with --baseline ${file} report only new ones${tail}`;
  }
  if (s.filesScanned === 0 && !s.dataFiles && report.errors.length === 0) {
    return `No Python files scanned: nothing was checked${tail}`;
  }
  const warnings = report.warnings?.length ?? 0;
  const warned = warnings ? `; ${plural(warnings, 'warning')} above (warnings never fail the run)` : '';
  if (!s.findings) return `No findings in ${files}${tail}${warned}`;
  const counts = SEVERITIES.slice()
    .reverse()
    .map((sev) => [sev, report.findings.filter((f) => f.severity === sev).length] as const)
    .filter(([, n]) => n > 0)
    .map(([sev, n]) => `${n} ${sev}`);
  const failing = failingCount(report, ctx);
  const threshold =
    failing === s.findings
      ? ''
      : failing === 0
        ? `; none at or above fail-on ${failOn}${report.errors.length ? '' : ', so they do not fail the run'}`
        : `; ${failing} at or above fail-on ${failOn}`;
  return `Found ${plural(s.findings, 'finding')} (${counts.join(', ')}) in ${files}${tail}${threshold}${warned}`;
}
