/**
 * Non-Python files that ship with DAGs and often carry credentials: SQL scripts, YAML (pod templates, compose
 * files, dbt profiles), JSON (connection exports, service-account keys), shell scripts, `.env` files and INI-style
 * configuration. Airflow never imports them, but git-sync publishes them with the DAGs and they are read by tasks;
 * the secret rules that work on text (token formats, URI passwords, key/value secrets) scan them too.
 */
import * as path from 'node:path';

export type DataKind = 'sql' | 'yaml' | 'json' | 'shell' | 'env' | 'ini' | 'toml' | 'pgpass' | 'netrc' | 'requirements';

export const BY_EXTENSION: Readonly<Record<string, DataKind>> = {
  '.sql': 'sql',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.json': 'json',
  '.sh': 'shell',
  '.bash': 'shell',
  '.env': 'env',
  '.ini': 'ini',
  '.cfg': 'ini',
  '.conf': 'ini',
  '.properties': 'ini',
  '.toml': 'toml',
  // MySQL option files (`.my.cnf`: `password=…` under `[client]`), Terraform variable files (`db_password = "…"`)
  '.cnf': 'ini',
  '.tfvars': 'toml',
  // libpq password files (`host:port:db:user:password`), committed as `reporting.pgpass`
  '.pgpass': 'pgpass',
};

/** Credential files known by their whole name: `.netrc` (`machine h login u password p`), `.pgpass`, `.pypirc`, `.npmrc`. */
export const BY_NAME: Readonly<Record<string, DataKind>> = {
  '.netrc': 'netrc',
  _netrc: 'netrc',
  '.pgpass': 'pgpass',
  '.pypirc': 'ini',
  '.npmrc': 'ini',
};

/** pip requirement files by name. */
export const REQUIREMENTS = /^([\w.-]*[-_.])?(requirements|constraints)([-_.][\w.-]*)?\.(txt|in)$/i;

/** Generated files full of hashes, never hand-written credentials: skipped. */
const GENERATED = /^(package-lock\.json|npm-shrinkwrap\.json|composer\.lock|.*\.lock|.*\.min\.json)$/i;

/** The kind of a data file by its name (`.env`, `.env.prod`, `prod.env`, `x.yaml`…), or null. */
export function dataKindOf(file: string): DataKind | null {
  const name = path.basename(file);
  if (GENERATED.test(name)) return null;
  // `.env`, `.env.local`, `.env.production`: dotenv files by name
  if (/^\.env(\.[\w-]+)?$/i.test(name)) return 'env';
  // pip requirement files (`requirements.txt`, `requirements-ml.txt`, `dev-requirements.in`, `constraints.txt`):
  // the packages and indexes a worker or a virtualenv task installs
  if (REQUIREMENTS.test(name)) return 'requirements';
  return BY_NAME[name.toLowerCase()] ?? BY_EXTENSION[path.extname(name).toLowerCase()] ?? null;
}

/** How a line comment starts in a data file of this kind (JSON has none). */
export function lineCommentOf(kind: DataKind): RegExp | null {
  if (kind === 'json') return null;
  if (kind === 'sql') return /^\s*--/;
  if (kind === 'ini') return /^\s*[#;]/;
  return /^\s*#/;
}
