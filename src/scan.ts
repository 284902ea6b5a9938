/** Analysis of one file, the same in the main thread and in worker threads. */
import * as fs from 'node:fs';
import { TextDecoder } from 'node:util';
import { ALL_RULES } from '../rules';
import { analyzeDataFile, analyzeSource, compileRules, type CompiledRules } from './engine/analyze';
import type { DataKind } from './data/kinds';
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
  /**
   * Does the file match `[tests] paths`? Set by the run that scanned it when it has a secret finding (whose severity
   * the test-file cap may lower), and cached with it — the cache key holds those paths — so that a run served by the
   * cache need not load the glob matcher.
   */
  testFile?: boolean;
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

/**
 * A data file (src/data/kinds.ts): only the rules that read text outside Python (secrets) run on it. Airflow does
 * not execute these files, so one that cannot be scanned (too big: a dbt manifest; binary) is a warning (DG009),
 * not a failure; text that is not UTF-8 is read as Latin-1 (credentials are ASCII).
 */
export function scanDataFile(file: ScanInput & { dataKind: DataKind }, job: ScanJob): ScanOutput {
  const skip = (why: string): ScanOutput => ({
    findings: [],
    warnings: [{ code: 'DG009', path: file.rel, line: 1, column: 1, message: `data file not scanned for secrets: ${why}` }],
    errors: [],
    suppressed: 0,
    bytes: 0,
  });
  let buf: Buffer;
  try {
    const st = fs.statSync(file.abs);
    if (st.size > job.maxBytes) return skip(`${Math.ceil(st.size / 1024)} KiB, over the ${Math.floor(job.maxBytes / 1024)} KiB limit (max-file-size-kb)`);
    buf = fs.readFileSync(file.abs);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { findings: [], warnings: [], errors: [{ path: file.rel, message: `cannot read file: ${e.code === 'EACCES' ? 'permission denied' : e.code ?? e.message}` }], suppressed: 0, bytes: 0 };
  }
  if (buf.subarray(0, 8192).includes(0)) return skip('binary (contains NUL bytes)');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    text = buf.toString('latin1');
  }
  const res = analyzeDataFile(file.rel, text, file.dataKind, compiledFor(job.ruleIds), job.settings, file.id ?? file.rel);
  return {
    findings: res.findings,
    warnings: res.warnings,
    errors: res.ruleErrors.map((message) => ({ path: file.rel, message })),
    suppressed: res.suppressed,
    bytes: text.length,
  };
}
