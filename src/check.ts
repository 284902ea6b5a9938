/**
 * `dag-guard check`: discover files -> parse -> run rules (-> sandbox) -> one report.
 * The CLI, the git-sync gate and the library API all come through `runCheck`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findConfig, resolveConfig, type Config } from './config';
import { readArchive } from './archive';
import { checkedRoots, discover, globMatch, safeRealpath, within, type DiscoveredFile, type GlobSet, type Skipped } from './discover';
import { archiveEntries, PathScanner } from './path-scan';
import { ResultCache } from './cache';
import { adjustFindings } from './adjust';
import { loadRules, REGISTRY, STATIC_RULES } from './registry';
import { validateRuleOptions } from './rule-options';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UserError } from './exit-codes';
import type { Settings } from './engine/settings';
import { autoWorkers, cpuCount, scanAll, WorkerPool } from './pool';
import type { ScanJob, ScanOutput } from './scan';
import {
  compareFindings,
  isSeverity,
  REPORT_VERSION,
  severityRank,
  type FileError,
  type Finding,
  type Report,
  type Severity,
  type Warning,
} from './report';
import { describeUnknown, selectRules, unknownSelectors } from './rule-select';

export interface SandboxRequest {
  image: string;
  timeoutSec: number;
  runTimeoutSec?: number;
  runtime?: string;
  /** Mounted read-only and put on sys.path (Airflow's DAGS_FOLDER); default: common parent of the paths. */
  root?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface CheckOptions {
  paths: string[];
  cwd: string;
  /** Explicit --config FILE; null means --no-config; undefined means discover. */
  configPath?: string | null;
  include?: string[];
  exclude?: string[];
  failOn?: Severity;
  select?: string[];
  ignore?: string[];
  sandbox?: SandboxRequest | null;
  /** 0 = automatic. */
  workers?: number;
  /** Scan data files for secrets (overrides the config's `data-files`). */
  dataFiles?: boolean;
  /** Parse every file to report every syntax error (overrides the config's `check-syntax`). */
  checkSyntax?: boolean;
  /** Restrict to these files (already resolved, absolute), e.g. from --changed-since. */
  onlyFiles?: Set<string>;
  /** Filters findings after the scan, e.g. a baseline; returns the kept findings. */
  filterFindings?: (findings: Finding[]) => Finding[];
  /**
   * Enforce mode (docs: README "Enforce mode"): the checked tree cannot weaken its own check. Configuration only from
   * `configPath` outside the tree (or the defaults), inline suppressions only for the config's `suppressible`
   * rules, everything walked, zero files scanned is a failure.
   */
  enforce?: boolean;
  /**
   * Per-file result cache (src/cache.ts): `dir` defaults to `.dag-guard-cache/` in the identity root (config folder
   * or repository top). Off when absent (the library default; the CLI turns it on unless `--no-cache`). In enforce
   * mode only an explicit `dir` outside the checked tree is used.
   */
  cache?: { dir?: string; keyDir?: string };
}

export interface CheckResult {
  report: Report;
  exitCode: number;
  config: Config;
  files: DiscoveredFile[];
}

export const DEFAULT_SANDBOX_IMAGE = 'dag-guard-sandbox:local';

/**
 * The folders the checked tree's author controls: the checked trees and, when they are in a git work tree, all of
 * it (a pre-merge check of `dags/` runs on a checkout whose every file came with the change).
 */
export function untrustedAreas(paths: string[], cwd: string): string[] {
  const areas = new Set<string>();
  for (const root of checkedRoots(paths, cwd)) {
    areas.add(root);
    for (let dir = root; ; dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, '.git'))) {
        areas.add(dir);
        break;
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  return [...areas];
}

/** Enforce mode: refuses (exit 2) a `--config` / `--baseline` file that the checked tree's author could have written. */
export function assertOutsideTree(file: string, flag: string, paths: string[], cwd: string): void {
  const real = safeRealpath(path.resolve(cwd, file));
  const inside = untrustedAreas(paths.length ? paths : ['.'], cwd).find((a) => within(a, real));
  if (inside) {
    throw new UserError(
      `${flag} ${file} is inside the checked tree (${inside}): in enforce mode it must come from outside what is checked (e.g. a ConfigMap or the CI runner's own checkout)`,
      EXIT_USAGE,
    );
  }
}

export async function runCheck(opts: CheckOptions): Promise<CheckResult> {
  const started = Date.now();
  const paths = opts.paths.length ? opts.paths : ['.'];
  const enforce = Boolean(opts.enforce);
  const start = path.resolve(opts.cwd, paths[0]);
  const ignoredConfigs: string[] = [];
  let config: Config;
  if (enforce) {
    if (typeof opts.configPath === 'string') assertOutsideTree(opts.configPath, '--config', paths, opts.cwd);
    // Never discovered: the one a default run would have used is the committer's.
    config = resolveConfig(typeof opts.configPath === 'string' ? opts.configPath : null, start, opts.cwd);
    const nearest = findConfig(start);
    const areas = untrustedAreas(paths, opts.cwd);
    if (nearest && typeof opts.configPath !== 'string' && areas.some((a) => within(a, safeRealpath(nearest)))) ignoredConfigs.push(nearest);
  } else {
    config = resolveConfig(opts.configPath, start, opts.cwd);
  }

  const select = [...(opts.select ?? []), ...(opts.select?.length ? [] : config.select)];
  const ignore = [...config.ignore, ...(opts.ignore ?? [])];
  const perFileSelectors = Object.values(config.perFileIgnores).flat();
  const unknown = unknownSelectors(REGISTRY, [...select, ...ignore, ...perFileSelectors, ...config.suppressible, ...Object.keys(config.severity)]);
  if (unknown.length) {
    throw new UserError(`unknown rule selector(s): ${describeUnknown(REGISTRY, unknown)} (see \`dag-guard rules\`)`);
  }
  const failOn = opts.failOn ?? config.failOn;
  if (!isSeverity(failOn)) throw new UserError(`invalid --fail-on: ${String(failOn)}`);

  const rules = selectRules(STATIC_RULES, select, ignore);
  const settings: Settings = {
    importAllow: config.imports.allow,
    importDeny: config.imports.deny,
    requireSuppressionReason: config.requireSuppressionReason,
    honourNosec: config.nosec,
    checkSyntax: opts.checkSyntax ?? config.checkSyntax,
    ruleOptions: validateRuleOptions(config.rules, config.source ? toRelPath(opts.cwd, config.source) : 'configuration'),
  };
  if (enforce) {
    // An empty selection selects every rule in selectRules; here it must mean none.
    settings.suppressible = config.suppressible.length ? selectRules(REGISTRY, config.suppressible, []).map((r) => r.meta.id) : [];
  }

  const sourceRules = rules.filter((r) => !r.onPath);
  const job = { ruleIds: sourceRules.map((r) => r.meta.id), settings, maxBytes: config.maxFileSizeKb * 1024 };
  // A directory to walk is usually a repository: start the workers now, so that they load while files are found
  // (stopped unused when few files turn up). Explicit files (the pre-commit case) and `--changed-since` (a few
  // changed files, typically) never start one early.
  const configBase = configBaseOf(config, opts);
  const idRoot = identityRoot(enforce ? { ...config, source: null } : config, start);
  const cacheWarnings: Warning[] = [];
  const tests: GlobSet = { patterns: config.tests.paths, base: configBase };
  const cache = openCache(opts, job, tests, idRoot, paths, enforce, cacheWarnings);
  // Workers start while the files are discovered, unless stored results may make them unnecessary.
  const pool = !opts.onlyFiles && !cache?.warm && paths.some((p) => isDirectory(path.resolve(opts.cwd, p)))
    ? new WorkerPool(opts.workers && opts.workers > 0 ? opts.workers : cpuCount(), job)
    : null;
  const idPrefix = idRoot.endsWith(path.sep) ? idRoot : idRoot + path.sep;
  /** The identity of a file by its absolute path (`abs` normalized, as discovery gives it). */
  const idOfAbs = (abs: string): string => {
    // below the identity root (nearly always): a slice of the normalized path is what path.relative returns
    const own = abs.startsWith(idPrefix) ? abs.slice(idPrefix.length) : path.relative(idRoot, abs);
    return path.sep === '/' ? own : own.split(path.sep).join('/');
  };
  const idOf = (rel: string): string => {
    const bang = rel.indexOf('!');
    const id = idOfAbs(path.resolve(opts.cwd, bang < 0 ? rel : rel.slice(0, bang)));
    return bang < 0 ? id : `${id}${rel.slice(bang)}`;
  };
  const pathScanner = new PathScanner(await loadRules(rules.filter((r) => r.onPath).map((r) => r.meta.id)), idOf);
  const scanned = await discoverAndScan(opts, config, paths, job, pool, pathScanner, idOf, idOfAbs, enforce, cache, tests).finally(() => pool?.close());
  const { files, outputs } = scanned;
  const errors: FileError[] = [...scanned.errors, ...pathScanner.errors];
  const saveProblem = cache?.save();
  if (saveProblem) cacheWarnings.push({ code: 'DG008', path: '.', line: 1, column: 1, message: saveProblem });
  const warnings: Warning[] = [...scanned.warnings, ...cacheWarnings];
  let findings: Finding[] = [...pathScanner.findings];
  let suppressed = 0;

  for (const o of outputs) {
    findings.push(...o.findings);
    warnings.push(...o.warnings);
    errors.push(...o.errors);
    suppressed += o.suppressed;
  }
  if (enforce) {
    for (const c of new Set([...ignoredConfigs, ...scanned.configFiles])) {
      warnings.push({
        code: 'DG007',
        path: toRelPath(opts.cwd, c),
        line: 1,
        column: 1,
        message: 'configuration file ignored (enforce mode): the configuration comes only from --config outside the checked tree',
      });
    }
  }

  // Per-file ignores and severity overrides are configuration, applied once here rather than in every worker.

  const scannedCount = scanned.sourceCount - new Set(errors.map((e) => e.path)).size;
  if (enforce && scanned.sourceCount + scanned.archives.length === 0) {
    errors.push({
      path: toRelPath(opts.cwd, start),
      message: 'no files scanned: enforce mode does not pass a check that read nothing (wrong path, or everything excluded?)',
    });
  }
  let report: Report = {
    version: REPORT_VERSION,
    findings,
    errors,
    warnings,
    ...(scanned.dataFiles.length ? { dataFiles: scanned.dataFiles.map((f) => f.rel) } : {}),
    summary: {
      filesScanned: scannedCount,
      findings: 0,
      durationMs: 0,
      archives: scanned.archives.length,
      ...(scanned.dataFiles.length ? { dataFiles: scanned.dataFiles.length } : {}),
      airflowIgnored: scanned.airflowIgnored,
      skipped: scanned.skipped,
      ...(enforce ? { enforce: true } : {}),
    },
  };

  if (opts.sandbox) {
    // The DAG entry points: what the DAG processor would import (not what `.airflowignore` excludes), zips included.
    const entryPoints = [...files, ...scanned.archives].filter((f) => !f.airflowIgnored);
    report = await mergeSandbox(report, entryPoints, opts, config, (abs) => idOf(toRelPath(opts.cwd, abs)));
  }

  // what the scans (or the cache) know of test files: the findings' paths, so that no glob is matched again
  const testFiles = new Map<string, boolean>();
  for (const o of outputs) if (o.testFile !== undefined) for (const f of o.findings) testFiles.set(f.path, o.testFile);
  const adjusted = adjustFindings(report.findings, {
    testFiles,
    config,
    selected: new Set(selectRules(REGISTRY, select, ignore).map((r) => r.meta.id)),
    cwd: opts.cwd,
    base: configBase,
  });
  report.findings = adjusted.findings;
  suppressed += adjusted.dropped;

  if (opts.filterFindings) {
    const before = report.findings.length;
    report.findings = opts.filterFindings(report.findings);
    suppressed += before - report.findings.length;
  }
  report.findings.sort(compareFindings);
  report.summary.findings = report.findings.length;
  report.summary.suppressed = suppressed;
  report.summary.durationMs = Date.now() - started;
  report.summary.filesScanned = Math.max(0, report.summary.filesScanned);

  const threshold = severityRank(failOn);
  // Fail closed: a file we could not scan is a file we cannot vouch for.
  const failing = report.findings.some((f) => severityRank(f.severity) >= threshold) || report.errors.length > 0;
  return { report, exitCode: failing ? EXIT_FINDINGS : EXIT_OK, config, files };
}

function statOrNull(abs: string): fs.Stats | null {
  try {
    return fs.statSync(abs);
  } catch {
    return null;
  }
}

/** The file's bytes for the cache key, or null (unreadable or over the size limit: the scan reports it, uncached). */
function readBytes(abs: string, maxBytes: number): Buffer | null {
  try {
    const b = fs.readFileSync(abs);
    return b.length > maxBytes ? null : b;
  } catch {
    return null;
  }
}

/** The run's result cache, or null (not asked for, refused in enforce mode, or unusable: then a warning says why). */
function openCache(opts: CheckOptions, job: ScanJob, tests: GlobSet, idRoot: string, paths: string[], enforce: boolean, warnings: Warning[]): ResultCache | null {
  if (!opts.cache) return null;
  if (enforce && !opts.cache.dir) return null; // the default folder is inside the checked tree
  const dir = path.resolve(opts.cwd, opts.cache.dir ?? path.join(idRoot, '.dag-guard-cache'));
  if (enforce) assertOutsideTree(dir, '--cache-dir', paths, opts.cwd);
  // the outputs carry the test-file classification (ScanOutput.testFile): the paths it was made with are in the key
  const c = ResultCache.open({ dir, keyDir: opts.cache.keyDir }, job, { tests });
  if ('disabled' in c) {
    warnings.push({ code: 'DG008', path: toRelPath(opts.cwd, dir), line: 1, column: 1, message: c.disabled });
    return null;
  }
  if (c.note) warnings.push({ code: 'DG008', path: toRelPath(opts.cwd, dir), line: 1, column: 1, message: c.note });
  return c;
}

function toRelPath(cwd: string, abs: string): string {
  return (path.relative(cwd, abs) || '.').split(path.sep).join('/');
}

interface Scanned {
  files: DiscoveredFile[];
  archives: DiscoveredFile[];
  dataFiles: DiscoveredFile[];
  errors: FileError[];
  warnings: Warning[];
  outputs: ScanOutput[];
  configFiles: string[];
  skipped: Skipped;
  airflowIgnored: number;
  /** Source files scanned (archive members included). */
  sourceCount: number;
}

/** Files to check, then their scan (in `pool` when one was started early), archives last. */
async function discoverAndScan(
  opts: CheckOptions,
  config: Config,
  paths: string[],
  job: ScanJob,
  pool: WorkerPool | null,
  pathScanner: PathScanner,
  idOf: (rel: string) => string,
  idOfAbs: (abs: string) => string,
  enforce: boolean,
  cache: ResultCache | null,
  tests: GlobSet,
): Promise<Scanned> {
  const configBase = configBaseOf(config, opts);
  const keep = (rel: string): boolean => !opts.onlyFiles || opts.onlyFiles.has(path.resolve(opts.cwd, rel.split('!')[0]));
  const found = discover({
    paths,
    cwd: opts.cwd,
    include: [
      { patterns: config.include, base: configBase },
      { patterns: opts.include ?? [], base: opts.cwd },
    ],
    exclude: [
      { patterns: config.exclude, base: configBase },
      { patterns: opts.exclude ?? [], base: opts.cwd },
    ],
    airflowignore: config.airflowignore,
    airflowignoreSyntax: config.airflowignoreSyntax,
    walkEverything: enforce,
    dataFiles: opts.dataFiles ?? config.dataFiles,
    onEntry: (e) => {
      if (pathScanner.active && (e.kind === 'outside-link' || keep(e.rel))) pathScanner.visit(e);
    },
  });
  const listed = opts.onlyFiles ? found.files.filter((f) => opts.onlyFiles!.has(f.abs)) : found.files;
  const archives = opts.onlyFiles ? found.archives.filter((f) => opts.onlyFiles!.has(f.abs)) : found.archives;
  // A file named on the command line that is not Python (README.md, a .sql, a .yaml) is not parsed as Python:
  // that only produced bogus syntax errors. Airflow imports only Python (and zip) files from the DAG folder.
  const warnings: Warning[] = [];
  const files = listed.filter((f) => {
    if (!f.explicit || looksLikePython(f.abs)) return true;
    warnings.push({ code: 'DG005', path: f.rel, line: 1, column: 1, message: 'not a Python file (no .py extension, no python #! line): skipped' });
    return false;
  });
  const inputs = files.map((f) => ({ ...f, id: idOfAbs(f.abs) }));
  let outputs: ScanOutput[];
  if (cache) {
    // Stored results for unchanged files; the rest scanned as usual, then stored.
    outputs = new Array<ScanOutput>(inputs.length);
    const missing: number[] = [];
    // Synchronous, one file at a time: libuv's thread pool and a promise per file cost more than the stat(2) itself,
    // and a stat used at once dies young (a list of them was most of what the warm run's garbage collections copied)
    inputs.forEach((f, i) => {
      const st = statOrNull(f.abs);
      const hit = st && cache.get(f, st, () => readBytes(f.abs, job.maxBytes));
      if (hit) outputs[i] = hit;
      else missing.push(i);
    });
    const todo = missing.map((i) => inputs[i]);
    const workers = opts.workers && opts.workers > 0 ? opts.workers : autoWorkers(todo);
    const fresh = todo.length ? await scanAll(todo, job, workers, pool ?? undefined) : [];
    missing.forEach((i, k) => {
      outputs[i] = classifyTestFile(fresh[k], inputs[i].abs, tests);
      cache.set(inputs[i], fresh[k]);
    });
  } else {
    const workers = opts.workers && opts.workers > 0 ? opts.workers : autoWorkers(files);
    outputs = await scanAll(inputs, job, workers, pool ?? undefined);
  }
  const errors = [...found.errors];
  let sourceCount = files.length;
  // Data files: few and small, scanned here (the text rules only; no tree), cached like sources.
  const dataFiles = opts.onlyFiles ? found.dataFiles.filter((f) => opts.onlyFiles!.has(f.abs)) : found.dataFiles;
  for (const f of dataFiles) {
    const input = { ...f, id: idOfAbs(f.abs), dataKind: f.dataKind! };
    const st = cache && statOrNull(f.abs);
    const hit = st && cache!.get(input, st, () => readBytes(f.abs, job.maxBytes));
    const out = hit || classifyTestFile((await import('./scan')).scanDataFile(input, job), f.abs, tests);
    if (!hit) cache?.set(input, out);
    outputs.push(out);
  }
  for (const a of archives) {
    const res = await readArchive(a.abs, job.maxBytes);
    if ('error' in res) {
      errors.push({ path: a.rel, message: res.error });
      continue;
    }
    if (pathScanner.active) for (const e of archiveEntries(a.rel, res.members)) pathScanner.visit(e);
    for (const m of res.members) {
      if (m.isDir || !m.name.endsWith('.py')) continue;
      const rel = `${a.rel}!${m.name}`;
      sourceCount++;
      if (m.tooBig) {
        errors.push({ path: rel, message: `archive member over the ${Math.floor(job.maxBytes / 1024)} KiB limit (max-file-size-kb): not scanned` });
        continue;
      }
      outputs.push((await import('./scan')).scanText(rel, m.data ?? Buffer.alloc(0), job, idOf(rel)));
    }
  }
  return {
    files,
    archives,
    dataFiles,
    errors,
    warnings,
    outputs,
    configFiles: found.configFiles,
    skipped: found.skipped,
    airflowIgnored: found.airflowIgnored,
    sourceCount,
  };
}

async function mergeSandbox(report: Report, files: DiscoveredFile[], opts: CheckOptions, config: Config, identityOf: (abs: string) => string): Promise<Report> {
  // Loaded lazily: dockerode costs start-up time that static-only runs (pre-commit) should not pay.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sandbox = require('./sandbox') as typeof import('./sandbox');
  const req = opts.sandbox!;
  const root = req.root ? path.resolve(opts.cwd, req.root) : sandboxRoot(opts, files);
  const sandboxOpts = {
    image: req.image || config.sandbox.image || DEFAULT_SANDBOX_IMAGE,
    timeoutSec: req.timeoutSec || config.sandbox.timeout || 30,
    runTimeoutSec: req.runTimeoutSec ?? config.sandbox.runTimeout,
    runtime: req.runtime ?? config.sandbox.runtime,
    root,
    cwd: opts.cwd,
    identityOf,
    onProgress: req.onProgress,
  };
  let res: Awaited<ReturnType<typeof sandbox.runSandbox>>;
  try {
    res = await sandbox.runSandbox(files.map((f) => f.abs), sandboxOpts);
  } catch (err) {
    // No engine, no image: a usage problem with a fix to tell, never a silent fall back to static-only.
    if ((err as Error)?.name === 'SandboxUnavailableError') throw new UserError((err as Error).message, EXIT_USAGE);
    throw err;
  }
  return {
    ...report,
    findings: [...report.findings, ...res.findings],
    errors: [...report.errors, ...res.errors],
    files: res.files,
  };
}

/**
 * Fingerprints hash paths relative to this root, so a baseline survives running from another directory:
 * the config file's folder (not in enforce mode: it lives elsewhere), else the repository top (nearest `.git` upward), else the first checked path.
 */
function identityRoot(config: Config, start: string): string {
  if (config.source) return path.dirname(config.source);
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, '.git'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  try {
    return fs.statSync(start).isDirectory() ? start : path.dirname(start);
  } catch {
    return start;
  }
}

/** The repository root to mount: the common ancestor of the checked paths (DAGs import helpers from it). */
function sandboxRoot(opts: CheckOptions, files: DiscoveredFile[]): string {
  const dirs = (opts.paths.length ? opts.paths : ['.']).map((p) => path.resolve(opts.cwd, p));
  const all = dirs.length ? dirs : files.map((f) => path.dirname(f.abs));
  let root = all[0];
  for (const d of all.slice(1)) {
    while (!(d + path.sep).startsWith(root + path.sep) && root !== path.dirname(root)) root = path.dirname(root);
  }
  try {
    if (fs.statSync(root).isFile()) root = path.dirname(root);
  } catch {
    /* discover() already reported missing paths */
  }
  return root;
}

/**
 * Python by name (`.py`, `.pyw`, `.pyi`), or by a `#!…python` first line (what pre-commit's `types: [python]`
 * also passes). Zip archives are left to the scan, which reports what it cannot read.
 */
function looksLikePython(abs: string): boolean {
  if (/\.(py|pyw|pyi|zip)$/i.test(abs)) return true;
  try {
    const fd = fs.openSync(abs, 'r');
    try {
      const buf = Buffer.alloc(128);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return /^#![^\n]*python/.test(buf.subarray(0, n).toString('latin1'));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return true; // unreadable: let the scan report it (exit 1), never skip it quietly
  }
}

/**
 * Test files: secret findings (fixture passwords) are capped at `tests.secret-severity` (default info: shown, below
 * the default fail-on; applied by adjust.ts). Provider token formats (DG103) keep their severity: an AKIA… key is
 * live wherever it sits. Only secrets: a file named `test_x.py` in the DAG folder is still imported by Airflow, so
 * every other rule stays. A fresh output with a secret finding records whether its file is one (`testFile`).
 */
function classifyTestFile(out: ScanOutput, abs: string, tests: GlobSet): ScanOutput {
  if (out.findings.some((f) => f.category === 'secret')) out.testFile = tests.patterns.length > 0 && globMatch(tests, abs);
  return out;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false; // a missing path is reported by discover()
  }
}

/**
 * Globs in a config file are relative to that file's directory, as in ruff. In enforce mode the file lives outside
 * the checked tree (a ConfigMap, the CI runner's checkout), so they are relative to the checked directory instead.
 */
function configBaseOf(config: Config, opts: CheckOptions): string {
  if (opts.enforce) {
    const first = path.resolve(opts.cwd, opts.paths[0] ?? '.');
    return isDirectory(first) ? first : opts.cwd;
  }
  return config.source ? path.dirname(config.source) : opts.cwd;
}
