/**
 * The JSON report is a public contract (docs/json-report.md): other tools and our CI parse it.
 * Add fields only; never rename or remove one without bumping REPORT_VERSION's major.
 */
export const REPORT_VERSION = '1.0';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Static rule categories: fixed, other tools filter on them. */
export const STATIC_CATEGORIES = [
  'secret',
  'shell-injection',
  'code-injection',
  'unsafe-deserialization',
  'unapproved-import',
  'malicious',
  'import-path',
  'sql-injection',
  'pod-security',
  'insecure-transport',
  'insecure-config',
] as const;
/** Categories only the sandbox produces. */
export const SANDBOX_CATEGORIES = ['sandbox-violation', 'resource-limit', 'import-error'] as const;
export type StaticCategory = (typeof STATIC_CATEGORIES)[number];
export type SandboxCategory = (typeof SANDBOX_CATEGORIES)[number];
export type Category = StaticCategory | SandboxCategory;

export interface Finding {
  ruleId: string;
  category: Category;
  severity: Severity;
  /** Relative to the working directory, '/' separators. */
  path: string;
  /** 1-based. */
  line: number;
  /** 1-based, in characters. */
  column: number;
  endLine: number;
  endColumn: number;
  /** Never contains a full secret: rules redact before they report. */
  message: string;
  source: 'static' | 'sandbox';
  /** Line-independent identity (rule id + normalised code + path), used by baselines and SARIF. */
  fingerprint?: string;
}

export interface FileError {
  path: string;
  message: string;
}

/** Not a finding: a note about the scan itself (unused suppression, syntax error, ...). Never fails the run. */
export interface Warning {
  code: string;
  path: string;
  line: number;
  column: number;
  message: string;
}

export interface SandboxEvent {
  /** e.g. 'connect', 'dns', 'spawn', 'write', 'delete', 'exec', 'ctypes', 'tamper', 'exfiltration' */
  kind: string;
  detail: string;
  /** Milliseconds since the file's import started. */
  t?: number;
}

export interface FileSandboxResult {
  /** 'clean' | 'flagged' | 'import-error' | 'timeout' | 'oom' | 'crashed' | 'output-cap' | ... */
  status: string;
  durationMs: number;
  events: SandboxEvent[];
  importError?: string;
}

export interface FileReport {
  path: string;
  dags: string[];
  sandbox?: FileSandboxResult;
}

export interface Summary {
  filesScanned: number;
  findings: number;
  durationMs: number;
  /** Findings dropped by inline suppressions or a baseline (not part of `findings`). */
  suppressed?: number;
  /** Data files (SQL, YAML, JSON, shell, .env, INI, TOML) scanned for secrets, not counted in filesScanned. */
  dataFiles?: number;
  /** Zip archives found (their `.py` members are counted in filesScanned). */
  archives?: number;
  /** `.py` files and archives an `.airflowignore` matches: scanned, but not imported by the sandbox as DAG files. */
  airflowIgnored?: number;
  /** Paths (a file or a whole folder each) skipped, by reason: `exclude` / `include` globs, `virtualenv` folders. */
  skipped?: { exclude: number; include: number; virtualenv: number };
  /** The run was in enforce mode. */
  enforce?: boolean;
}

/** Paths left out by include/exclude globs (the user's choice, as opposed to virtualenv folders). */
export function excludedCount(s: Summary): number {
  return s.skipped ? s.skipped.exclude + s.skipped.include : 0;
}

export interface Report {
  version: string;
  findings: Finding[];
  errors: FileError[];
  warnings?: Warning[];
  summary: Summary;
  /** The data files scanned for secrets (Summary.dataFiles), as report paths. */
  dataFiles?: string[];
  /** Present when the sandbox ran. */
  files?: FileReport[];
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function isSeverity(s: unknown): s is Severity {
  return typeof s === 'string' && (SEVERITIES as readonly string[]).includes(s);
}

/**
 * Code-unit order: the same report on every machine (localeCompare follows the user's locale, and loading ICU's
 * collator was the slowest step of a cached run).
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareFindings(a: Finding, b: Finding): number {
  return compareText(a.path, b.path) || a.line - b.line || a.column - b.column || compareText(a.ruleId, b.ruleId);
}
