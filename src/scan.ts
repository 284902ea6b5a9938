/** Analysis of one file, the same in the main thread and in worker threads. */
import { ALL_RULES } from '../rules';
import { analyzeSource, compileRules, type CompiledRules } from './engine/analyze';
import type { Settings } from './engine/settings';
import type { FileError, Finding, Warning } from './report';
import { decodeSource, readSource } from './source';

export interface ScanJob {
  ruleIds: string[];
  settings: Settings;
  maxBytes: number;
}

export interface ScanInput {
  abs: string;
  rel: string;
  /** Path hashed into fingerprints (relative to the repository or config root). */
  id?: string;
  /** Named on the command line: always parsed, so that a syntax error in it is reported (see Settings.checkSyntax). */
  explicit?: boolean;
}

export interface ScanOutput {
  findings: Finding[];
  warnings: Warning[];
  errors: FileError[];
  suppressed: number;
  bytes: number;
}

const cache = new Map<string, CompiledRules>();

export function compiledFor(ruleIds: string[]): CompiledRules {
  const key = ruleIds.join(',');
  let c = cache.get(key);
  if (!c) {
    const wanted = new Set(ruleIds);
    c = compileRules(ALL_RULES.filter((r) => wanted.has(r.meta.id)));
    cache.set(key, c);
  }
  return c;
}

export function scanFile(file: ScanInput, job: ScanJob): ScanOutput {
  const src = readSource(file.abs, job.maxBytes);
  if ('error' in src) {
    return { findings: [], warnings: [], errors: [{ path: file.rel, message: src.error }], suppressed: 0, bytes: 0 };
  }
  const settings = file.explicit && !job.settings.checkSyntax ? { ...job.settings, checkSyntax: true } : job.settings;
  const res = analyzeSource(file.rel, src.text, compiledFor(job.ruleIds), settings, file.id ?? file.rel);
  return {
    findings: res.findings,
    warnings: res.warnings,
    errors: res.ruleErrors.map((message) => ({ path: file.rel, message })),
    suppressed: res.suppressed,
    bytes: src.text.length,
  };
}

/** A source that is not a file of its own (a zip archive member): `rel` like `dags/a.zip!m.py`. */
export function scanText(rel: string, buf: Buffer, job: ScanJob, id: string): ScanOutput {
  const src = decodeSource(buf);
  if ('error' in src) {
    return { findings: [], warnings: [], errors: [{ path: rel, message: src.error }], suppressed: 0, bytes: 0 };
  }
  const res = analyzeSource(rel, src.text, compiledFor(job.ruleIds), job.settings, id);
  return {
    findings: res.findings,
    warnings: res.warnings,
    errors: res.ruleErrors.map((message) => ({ path: rel, message })),
    suppressed: res.suppressed,
    bytes: src.text.length,
  };
}
