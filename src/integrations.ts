/**
 * `dag-guard init`: a commented starter config for a DAG repository.
 * Default: a dedicated `.dag-guard.toml` (DAG repositories often have no pyproject.toml); `--pyproject` appends a
 * `[tool.dag-guard]` section to pyproject.toml instead. Never overwrites: an existing config is an error (exit 2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { findConfig } from './config';
import { UserError } from './exit-codes';

/** The starter settings. `table(name)` spells a sub-table for the target file (`[imports]` or `[tool.dag-guard.imports]`). */
export function starterConfig(target: 'dedicated' | 'pyproject'): string {
  const table = (name: string): string => (target === 'pyproject' ? `[tool.dag-guard.${name}]` : `[${name}]`);
  const head =
    target === 'pyproject'
      ? ['[tool.dag-guard]']
      : [];
  return [
    '# dag-guard: security gate for Airflow DAG files. Docs: https://github.com/dag-guard/dag-guard/blob/main/docs/integrations.md',
    '# Found the way ruff finds its config: the nearest .dag-guard.toml, dag-guard.toml or pyproject.toml with',
    '# [tool.dag-guard], upward from the checked path. `--config FILE` overrides, `--no-config` ignores it.',
    '# Unknown keys are an error (exit 2), so a typo never silently weakens the gate.',
    ...head,
    '',
    '# Lowest severity that fails the run (exit 1): info, low, medium, high, critical.',
    'fail-on = "low"',
    '',
    '# Rules to run and to skip: ids (DG101), id prefixes (DG1), names (hardcoded-password) or categories',
    '# (secret, shell-injection, code-injection, unsafe-deserialization, unapproved-import, malicious, import-path).',
    '# `dag-guard rules` lists them, `dag-guard explain DG101` documents one.',
    '# select = ["DG"]',
    'ignore = []',
    '',
    '# Which files: globs relative to this file. Every .py file is scanned whatever .airflowignore says (an ignored',
    '# helper is still importable); .airflowignore only chooses the DAG files the sandbox imports.',
    '# include = ["dags/**/*.py"]',
    '# exclude = ["dags/vendor/**"]',
    'airflowignore = true',
    '# Airflow 3 reads .airflowignore as globs; Airflow 2 defaults to regexp (core.dag_ignore_file_syntax).',
    '# Or give airflow-version instead ("2.10" implies regexp, "3" glob).',
    'airflowignore-syntax = "glob"',
    '',
    '# Inline suppressions: `# dag-guard: ignore[DG101] -- why`. Require the `-- why` part?',
    'require-suppression-reason = false',
    "# Also honour bandit's `# nosec` and ruff's `# noqa: S...` for the rules that cover them.",
    'nosec = true',
    '# `check --enforce` (CI, the gate) honours inline suppressions only for these rules (default: none).',
    '# suppressible = ["DG101"]',
    '# Parse every file to report each syntax error (DG000). By default only the files named on the command line',
    '# and those a rule needed to parse are parsed.',
    'check-syntax = false',
    '',
    '# Severity overrides by rule id.',
    '# severity = { DG104 = "high" }',
    '',
    '# Test files: secret findings there (fixture passwords) are capped at `secret-severity` (default "info": shown,',
    '# not failing); known token formats (DG103) and every other rule keep their severity. `paths = []` turns it off.',
    table('tests'),
    '# paths = ["**/tests/**", "**/test/**", "test_*.py", "*_test.py", "conftest.py"]',
    '# secret-severity = "info"',
    '',
    '# Rules ignored in some files only (glob -> selectors), e.g. test fixtures with fake credentials.',
    table('per-file-ignores'),
    '# "tests/**" = ["secret"]',
    '',
    '# Imports: with `allow` set, any other top-level module imported by a DAG is reported (unapproved-import).',
    table('imports'),
    '# Globs over dotted names: `airflow.**` is airflow and every submodule (airflow.providers.x.y); `airflow.*` would',
    '# stop at one level.',
    '# allow = ["airflow.**", "pendulum", "datetime", "os", "json", "logging", "my_company.**"]',
    'deny = []',
    '',
    '# The parse sandbox (`dag-guard check --sandbox`): import each DAG file in a locked-down container.',
    table('sandbox'),
    '# image = "apache/airflow:3.1.0"   # your Airflow image, with your providers installed',
    '# timeout = 30                     # seconds per file',
    '# runtime = "runsc"                # gVisor, when the Docker engine has it',
    '',
  ].join('\n');
}

export interface InitResult {
  file: string;
  mode: 'created' | 'appended';
  shadows: string | null;
}

export function initConfig(dir: string, opts: { pyproject?: boolean } = {}): InitResult {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new UserError(`init: not a directory: ${dir}`);
  const before = findConfig(root);
  for (const name of ['.dag-guard.toml', 'dag-guard.toml']) {
    const p = path.join(root, name);
    if (fs.existsSync(p)) throw new UserError(`init: ${p} already exists; not overwriting it`);
  }
  const py = path.join(root, 'pyproject.toml');
  const pyText = fs.existsSync(py) ? fs.readFileSync(py, 'utf8') : null;
  if (pyText !== null && /^\s*\[tool\.dag-guard[\].]/m.test(pyText)) {
    throw new UserError(`init: ${py} already has a [tool.dag-guard] section; not overwriting it`);
  }
  const shadows = before && path.dirname(before) !== root ? before : null;
  if (opts.pyproject) {
    const sep = pyText === null || pyText === '' ? '' : pyText.endsWith('\n\n') ? '' : pyText.endsWith('\n') ? '\n' : '\n\n';
    fs.writeFileSync(py, (pyText ?? '') + sep + starterConfig('pyproject'));
    return { file: py, mode: pyText === null ? 'created' : 'appended', shadows };
  }
  const file = path.join(root, '.dag-guard.toml');
  // 'wx': fail rather than overwrite if it appeared meanwhile.
  fs.writeFileSync(file, starterConfig('dedicated'), { flag: 'wx' });
  return { file, mode: 'created', shadows };
}

export function registerIntegrationCommands(program: Command): void {
  program
    .command('init')
    .description('write a commented starter config (.dag-guard.toml) for a DAG repository; never overwrites')
    .argument('[dir]', 'repository root', '.')
    .option('--pyproject', 'append a [tool.dag-guard] section to pyproject.toml instead')
    .action((dir: string, o: { pyproject?: boolean }) => {
      const r = initConfig(dir, { pyproject: Boolean(o.pyproject) });
      const rel = path.relative(process.cwd(), r.file) || r.file;
      process.stdout.write(`${r.mode === 'created' ? 'Created' : 'Appended [tool.dag-guard] to'} ${rel}\n`);
      if (r.shadows) process.stdout.write(`note: it takes precedence over ${path.relative(process.cwd(), r.shadows) || r.shadows} for files below ${dir}\n`);
      process.stdout.write('Next: `dag-guard check` (see docs/integrations.md for pre-commit and CI snippets)\n');
    });
}
