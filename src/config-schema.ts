/** JSON Schema of `[tool.dag-guard]` / `dag-guard.toml`. Unknown keys are errors: a typo must not silently weaken the gate. */
const severity = { enum: ['info', 'low', 'medium', 'high', 'critical'] };
const strings = { type: 'array', items: { type: 'string' } };

/** Where test code lives in Python repositories (pytest's discovery names, plus test folders). */
export const DEFAULT_TEST_PATHS = ['**/tests/**', '**/test/**', 'test_*.py', '*_test.py', 'conftest.py'];

export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    select: { ...strings, description: 'Rules to run: ids, id prefixes (DG1), names or categories. Default: all.' },
    ignore: { ...strings, description: 'Rules never to run (same selectors as select).' },
    'fail-on': { ...severity, description: 'Lowest severity that makes the run fail (exit 1). Default: low.' },
    severity: {
      type: 'object',
      additionalProperties: severity,
      description: 'Severity overrides by rule id.',
    },
    include: { ...strings, description: 'Only scan files matching these globs.' },
    exclude: { ...strings, description: 'Never scan files or folders matching these globs.' },
    'per-file-ignores': {
      type: 'object',
      additionalProperties: strings,
      description: 'Glob -> rule selectors ignored in matching files.',
    },
    'data-files': {
      type: 'boolean',
      description: 'Also scan the non-Python files shipped with the DAGs (.sql, .yaml/.yml, .json, .sh, .env, .ini/.cfg/.conf/.properties, .toml) with the secret rules DG101-DG103 (default true).',
    },
    airflowignore: { type: 'boolean', description: 'Read .airflowignore files to choose the DAG files the sandbox imports (default true). Every .py file is scanned either way.' },
    'airflowignore-syntax': { enum: ['glob', 'regexp'], description: 'Airflow 3 default glob; Airflow 2 default regexp. Default: from airflow-version, else glob.' },
    'airflow-version': {
      type: 'string',
      pattern: '^[23](\\.[0-9]+)*$',
      description: 'Airflow version of the deployment ("2", "2.10", "3"): sets airflowignore-syntax (2.x regexp, 3.x glob) unless that is given.',
    },
    suppressible: {
      ...strings,
      description: 'Enforce mode: rules (selectors) whose inline suppressions (dag-guard: ignore, # nosec, # noqa) are honoured. Default: none.',
    },
    'require-suppression-reason': { type: 'boolean' },
    nosec: { type: 'boolean', description: 'Honour bandit # nosec and ruff # noqa: Sxxx (default true).' },
    'check-syntax': { type: 'boolean', description: 'Parse every file and report each syntax error (DG000), not only those of files named on the command line or that some rule could match (its words are in the file) (default false).' },
    'max-file-size-kb': { type: 'integer', minimum: 1 },
    imports: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allow: { ...strings, description: 'Module globs allowed; when set, any other import is reported.' },
        deny: { ...strings, description: 'Extra module globs always reported.' },
      },
    },
    tests: {
      type: 'object',
      additionalProperties: false,
      description: 'Test files (fixtures with fake credentials): secret findings there are lowered, except known token formats (DG103).',
      properties: {
        paths: { ...strings, description: `Globs of test files, relative to the config file. Default: ${JSON.stringify(DEFAULT_TEST_PATHS)}. [] turns the treatment off.` },
        'secret-severity': { ...severity, description: 'Highest severity of secret findings (DG101, DG102, DG104) in test files. Default: info (shown, below the default fail-on).' },
      },
    },
    rules: {
      type: 'object',
      additionalProperties: { type: 'object' },
      description: 'Per-rule options, by rule id.',
    },
    sandbox: {
      type: 'object',
      additionalProperties: false,
      properties: {
        image: { type: 'string' },
        timeout: { type: 'number', exclusiveMinimum: 0 },
        'run-timeout': { type: 'number', exclusiveMinimum: 0 },
        runtime: { type: 'string' },
      },
    },
  },
} as const;
