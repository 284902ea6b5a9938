/**
 * The one place where a run's trusted configuration adjusts findings, static and sandbox alike, after every
 * scanner has reported: rule selection (`select`/`ignore`, also for DG9xx), `per-file-ignores`, `severity`
 * overrides and the test-file cap on secret findings. (Inline suppression comments are applied per file by the
 * engine, src/engine/analyze.ts, with enforce mode's `suppressible`; they never silence the sandbox: a comment in
 * the file would let the file's author silence what the file did when imported. Baselines are applied last, by
 * the caller.)
 */
import * as path from 'node:path';
import type { Config } from './config';
import { globMatch } from './discover';
import { ruleMeta } from './registry';
import { severityRank, type Finding } from './report';
import { matchesSelector } from './rule-select';

export interface Adjustment {
  config: Config;
  /** Report path -> is it a test file, where the scan already knows (ScanOutput.testFile); else globs decide. */
  testFiles?: Map<string, boolean>;
  /** Ids of the selected rules (static and sandbox). */
  selected: Set<string>;
  cwd: string;
  /** Folder the config's globs are relative to. */
  base: string;
}

/** The kept findings, adjusted in place; `dropped` counts what per-file ignores removed (reported as suppressed). */
export function adjustFindings(findings: Finding[], a: Adjustment): { findings: Finding[]; dropped: number } {
  let dropped = 0;
  const pfi = Object.entries(a.config.perFileIgnores);
  const kept = findings.filter((f) => {
    if (!a.selected.has(f.ruleId)) return false;
    const meta = ruleMeta(f.ruleId);
    if (pfi.length && meta) {
      const abs = path.resolve(a.cwd, f.path.split('!')[0]);
      if (pfi.some(([glob, sels]) => globMatch({ patterns: [glob], base: a.base }, abs) && sels.some((s) => matchesSelector({ meta }, s)))) {
        dropped++;
        return false;
      }
    }
    return true;
  });
  for (const f of kept) {
    const o = a.config.severity[f.ruleId];
    if (o) f.severity = o;
  }
  capTestSecrets(kept, a);
  return { findings: kept, dropped };
}

/** Secret findings in test files (fixtures with fake credentials) are capped, except known token formats (DG103). */
function capTestSecrets(findings: Finding[], a: Adjustment): void {
  const cap = a.config.tests.secretSeverity;
  if (!a.config.tests.paths.length) return;
  const set = { patterns: a.config.tests.paths, base: a.base };
  for (const f of findings) {
    if (f.category !== 'secret' || f.ruleId === 'DG103' || severityRank(f.severity) <= severityRank(cap)) continue;
    if (a.testFiles?.get(f.path) ?? globMatch(set, path.resolve(a.cwd, f.path))) f.severity = cap;
  }
}
