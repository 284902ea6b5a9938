/**
 * Configuration: `[tool.dag-guard]` in pyproject.toml, or a dedicated `dag-guard.toml` / `.dag-guard.toml`
 * (top-level keys). Found like ruff finds its config: the nearest one upward from the checked path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type AjvType from 'ajv';
import type * as SmolToml from 'smol-toml';
import { UserError } from './exit-codes';
import type { Severity } from './report';
import { CONFIG_SCHEMA, DEFAULT_TEST_PATHS } from './config-schema';
import { hasToolSection } from './discover';
import { didYouMean } from './suggest';

export interface Config {
  select: string[];
  ignore: string[];
  failOn: Severity;
  severity: Record<string, Severity>;
  include: string[];
  exclude: string[];
  perFileIgnores: Record<string, string[]>;
  airflowignore: boolean;
  airflowignoreSyntax: 'glob' | 'regexp';
  /** `airflow-version` as written, or null. */
  airflowVersion: string | null;
  /** Enforce mode: rule selectors whose inline suppressions are honoured (default none). */
  suppressible: string[];
  requireSuppressionReason: boolean;
  nosec: boolean;
  checkSyntax: boolean;
  /** Scan data files (SQL, YAML, JSON, shell, .env, INI, TOML) for secrets too. */
  dataFiles: boolean;
  maxFileSizeKb: number;
  imports: { allow: string[]; deny: string[] };
  rules: Record<string, Record<string, unknown>>;
  sandbox: { image?: string; timeout?: number; runTimeout?: number; runtime?: string };
  /** Test files: secret findings there are capped at `secretSeverity` (known token formats excepted). */
  tests: { paths: string[]; secretSeverity: Severity };
  /** Where it came from (null: defaults only). */
  source: string | null;
}

export const DEFAULT_CONFIG: Config = {
  select: [],
  ignore: [],
  failOn: 'low',
  severity: {},
  include: [],
  exclude: [],
  perFileIgnores: {},
  airflowignore: true,
  airflowignoreSyntax: 'glob',
  airflowVersion: null,
  suppressible: [],
  requireSuppressionReason: false,
  nosec: true,
  checkSyntax: false,
  dataFiles: true,
  maxFileSizeKb: 10 * 1024,
  imports: { allow: [], deny: [] },
  rules: {},
  sandbox: {},
  tests: { paths: DEFAULT_TEST_PATHS, secretSeverity: 'info' },
  source: null,
};

const DEDICATED = ['.dag-guard.toml', 'dag-guard.toml'];

/** Nearest config file upward from `start` (a file or directory), or null. */
export function findConfig(start: string): string | null {
  let dir = path.resolve(start);
  try {
    if (!fs.statSync(dir).isDirectory()) dir = path.dirname(dir);
  } catch {
    dir = path.dirname(dir);
  }
  for (;;) {
    for (const name of DEDICATED) {
      const p = path.join(dir, name);
      if (fs.existsSync(p)) return p;
    }
    const py = path.join(dir, 'pyproject.toml');
    if (fs.existsSync(py) && hasToolSection(py)) return py;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}


export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  let doc: Record<string, unknown>;
  try {
    // Loaded when there is a file to read: `--no-config` runs and the pre-commit case without one skip it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    doc = (require('smol-toml') as typeof SmolToml).parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`invalid TOML in ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const isPyproject = path.basename(file) === 'pyproject.toml';
  const section = isPyproject ? ((doc.tool as Record<string, unknown> | undefined)?.['dag-guard'] ?? {}) : doc;
  return fromObject(section as Record<string, unknown>, file, isPyproject ? '[tool.dag-guard]' : path.basename(file));
}

let validator: ReturnType<AjvType['compile']> | null = null;

export function fromObject(raw: Record<string, unknown>, source: string, where: string): Config {
  if (!validator) {
    // Loaded only when a config file exists: ajv costs ~30 ms of start-up that a config-less pre-commit run should not pay.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = require('ajv').default as typeof AjvType;
    validator = new Ajv({ allErrors: true, strict: false }).compile(CONFIG_SCHEMA);
  }
  normaliseSeverities(raw);
  if (!validator(raw)) {
    const msgs = (validator.errors ?? []).map((e) => {
      const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '';
      const key = at ? `${where}.${at}` : where;
      if (e.keyword === 'additionalProperties') {
        const bad = (e.params as { additionalProperty: string }).additionalProperty;
        return `unknown key \`${bad}\` in ${key}${didYouMean(bad, knownKeysAt(e.schemaPath))}`;
      }
      if (e.keyword === 'enum') return `${key}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
      return `${key}: ${e.message}`;
    });
    throw new UserError(`invalid configuration in ${source}:\n  ${[...new Set(msgs)].join('\n  ')}`);
  }
  const r = raw as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const d = DEFAULT_CONFIG;
  return {
    select: r.select ?? d.select,
    ignore: r.ignore ?? d.ignore,
    failOn: r['fail-on'] ?? d.failOn,
    severity: r.severity ?? d.severity,
    include: r.include ?? d.include,
    exclude: r.exclude ?? d.exclude,
    perFileIgnores: r['per-file-ignores'] ?? d.perFileIgnores,
    airflowignore: r.airflowignore ?? d.airflowignore,
    airflowignoreSyntax: r['airflowignore-syntax'] ?? (r['airflow-version'] ? (String(r['airflow-version']).startsWith('2') ? 'regexp' : 'glob') : d.airflowignoreSyntax),
    airflowVersion: r['airflow-version'] ?? d.airflowVersion,
    suppressible: r.suppressible ?? d.suppressible,
    requireSuppressionReason: r['require-suppression-reason'] ?? d.requireSuppressionReason,
    nosec: r.nosec ?? d.nosec,
    checkSyntax: r['check-syntax'] ?? d.checkSyntax,
    dataFiles: r['data-files'] ?? d.dataFiles,
    maxFileSizeKb: r['max-file-size-kb'] ?? d.maxFileSizeKb,
    imports: { allow: r.imports?.allow ?? [], deny: r.imports?.deny ?? [] },
    rules: r.rules ?? {},
    tests: { paths: r.tests?.paths ?? d.tests.paths, secretSeverity: r.tests?.['secret-severity'] ?? d.tests.secretSeverity },
    sandbox: {
      image: r.sandbox?.image,
      timeout: r.sandbox?.timeout,
      runTimeout: r.sandbox?.['run-timeout'],
      runtime: r.sandbox?.runtime,
    },
    source,
  };
}

/** Severities are case-insensitive (`fail-on = "HIGH"`), as on the command line. */
function normaliseSeverities(raw: Record<string, any>): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const low = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);
  if ('fail-on' in raw) raw['fail-on'] = low(raw['fail-on']);
  if (raw.severity && typeof raw.severity === 'object') for (const k of Object.keys(raw.severity)) raw.severity[k] = low(raw.severity[k]);
  if (raw.tests && typeof raw.tests === 'object' && 'secret-severity' in raw.tests) raw.tests['secret-severity'] = low(raw.tests['secret-severity']);
}

/** The keys the schema allows where ajv found an unknown one (`#/properties/imports/additionalProperties`). */
function knownKeysAt(schemaPath: string): string[] {
  let node: any = CONFIG_SCHEMA; // eslint-disable-line @typescript-eslint/no-explicit-any
  for (const seg of schemaPath.replace(/^#\/?/, '').split('/').slice(0, -1)) node = node?.[seg];
  return Object.keys(node?.properties ?? {});
}

/** `configPath`: a file (explicit --config), null (--no-config) or undefined (discover from `start`). */
export function resolveConfig(configPath: string | null | undefined, start: string, cwd: string): Config {
  if (configPath === null) return { ...DEFAULT_CONFIG };
  if (configPath !== undefined) {
    const abs = path.resolve(cwd, configPath);
    if (!fs.existsSync(abs)) throw new UserError(`config file not found: ${configPath}`);
    return loadConfig(abs);
  }
  const found = findConfig(start);
  return found ? loadConfig(found) : { ...DEFAULT_CONFIG };
}
