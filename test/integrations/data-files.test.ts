/**
 * Data files shipped with the DAGs (issue 13): `.env`, YAML, JSON, SQL, shell, INI/TOML are scanned for secrets
 * on directory walks and when named (pre-commit), the report lists them, and what cannot be scanned is a warning
 * rather than a silent pass or a failed run. Through the real CLI.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BY_EXTENSION, BY_NAME, dataKindOf } from '../../src/data/kinds';
import { REPO, runCli, tempTree } from '../helpers/cli';

const PW = 'Wh4rehouse-Pr0d';
/** A GCP service-account key as a connection export: strict JSON, the PEM with escaped newlines. */
const SA_JSON = JSON.stringify({
  gcp: {
    conn_type: 'google_cloud_platform',
    extra: {
      keyfile_dict: {
        type: 'service_account',
        private_key:
          '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n-----END PRIVATE KEY-----\n',
      },
    },
  },
}, null, 2);

const TREE = {
  'dags/etl.py': 'from airflow.operators.empty import EmptyOperator\n',
  'dags/sql/users.sql': `CREATE USER etl WITH PASSWORD '${PW}';\n`,
  'dags/.env': `DB_PASSWORD=${PW}\n`,
  'dags/conn/gcp.json': SA_JSON,
  // a Helm-templated values file: not YAML until rendered, read line by line
  'dags/chart/values.yaml': 'image: {{ .Values.image }}\n{{- if .Values.db }}\ndb_password: "' + PW + '"\n{{- end }}\n',
  'dags/README.md': `password: ${PW}\n`,
};

function json(stdout: string): { findings: { ruleId: string; path: string }[]; dataFiles?: string[]; warnings?: { code: string; path: string }[]; summary: { dataFiles?: number; filesScanned: number } } {
  return JSON.parse(stdout);
}

describe('data files', () => {
  it('are scanned on a directory walk, and the report lists them', () => {
    const dir = tempTree(TREE);
    const r = runCli(['check', 'dags', '--no-cache', '-f', 'json'], { cwd: dir });
    expect(r.code).toBe(1);
    const rep = json(r.stdout);
    const by = rep.findings.map((f) => `${f.ruleId} ${f.path}`).sort();
    expect(by).toEqual(['DG101 dags/.env', 'DG101 dags/chart/values.yaml', 'DG102 dags/sql/users.sql', 'DG103 dags/conn/gcp.json']);
    expect(rep.dataFiles?.sort()).toEqual(['dags/.env', 'dags/chart/values.yaml', 'dags/conn/gcp.json', 'dags/sql/users.sql']);
    expect(rep.summary.dataFiles).toBe(4);
    expect(rep.summary.filesScanned).toBe(1);
    // README.md is not a data file kind
    expect(r.stdout).not.toContain('README.md');
    const text = runCli(['check', 'dags', '--no-cache', '--no-show-source'], { cwd: dir });
    expect(text.stdout).toContain('4 data files scanned for secrets: dags/.env');
    expect(text.stdout).toMatch(/in 1 file and 4 data files/);
    expect(text.stdout).not.toContain(PW);
  });

  it('can be turned off by flag and by configuration, but not by an in-tree config in enforce mode', () => {
    const dir = tempTree({ ...TREE, 'dags/.dag-guard.toml': 'data-files = false\n' });
    expect(json(runCli(['check', 'dags', '--no-cache', '-f', 'json', '--no-data-files'], { cwd: dir }).stdout).findings).toEqual([]);
    const byConfig = runCli(['check', 'dags', '--no-cache', '-f', 'json'], { cwd: dir });
    expect(byConfig.code).toBe(0);
    expect(json(byConfig.stdout).dataFiles).toBeUndefined();
    // the committer's config is not the gate's: enforce mode ignores it and still scans the data files
    const enforced = runCli(['check', 'dags', '-f', 'json', '--enforce'], { cwd: dir });
    expect(enforced.code).toBe(1);
    expect(json(enforced.stdout).findings.map((f) => f.ruleId).sort()).toEqual(['DG101', 'DG101', 'DG102', 'DG103']);
  });

  it('named on the command line (pre-commit) are scanned; other non-Python files are still skipped with DG005', () => {
    const dir = tempTree(TREE);
    const r = runCli(['check', 'dags/.env', 'dags/README.md', '-f', 'json'], { cwd: dir });
    expect(r.code).toBe(1);
    const rep = json(r.stdout);
    expect(rep.findings.map((f) => f.path)).toEqual(['dags/.env']);
    expect(rep.warnings?.map((w) => `${w.code} ${w.path}`)).toEqual(['DG005 dags/README.md']);
  });

  it('too big or binary: a DG009 warning, never a silent pass, never a failed run', () => {
    const dir = tempTree({
      'dags/etl.py': 'x = 1\n',
      'dags/manifest.json': `{"a": "${'x'.repeat(40 * 1024)}"}`,
      'dags/blob.json': Buffer.from([0x7b, 0x00, 0x01, 0x7d]),
      '.dag-guard.toml': 'max-file-size-kb = 16\n',
    });
    const r = runCli(['check', 'dags', '--no-cache', '-f', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    const w = json(r.stdout).warnings!.filter((x) => x.code === 'DG009').map((x) => x.path).sort();
    expect(w).toEqual(['dags/blob.json', 'dags/manifest.json']);
  });

  it('inline suppressions use the file\'s own comments; per-file ignores and baselines apply', () => {
    const dir = tempTree({
      'dags/a.env': `DB_PASSWORD=${PW}  # dag-guard: ignore[DG101] -- local stack\n`,
      'dags/b.sql': `-- dag-guard: ignore[DG102] -- dev database\nCREATE USER etl WITH PASSWORD '${PW}';\n`,
      'dags/c.yaml': `password: "${PW}"\n`,
      '.dag-guard.toml': '[per-file-ignores]\n"dags/c.yaml" = ["DG101"]\n',
    });
    const r = runCli(['check', 'dags', '--no-cache', '-f', 'json'], { cwd: dir });
    expect(json(r.stdout).findings).toEqual([]);
    expect((json(r.stdout).summary as { suppressed?: number }).suppressed).toBe(3);
    expect(r.code).toBe(0);
    fs.writeFileSync(path.join(dir, 'dags', 'd.env'), `API_TOKEN=${PW}x9\n`);
    expect(runCli(['check', 'dags', '--no-cache'], { cwd: dir }).code).toBe(1);
    const base = path.join(dir, 'baseline.json');
    expect(runCli(['check', 'dags', '--no-cache', '--write-baseline', base], { cwd: dir }).code).toBe(0);
    expect(runCli(['check', 'dags', '--no-cache', '--baseline', base], { cwd: dir }).code).toBe(0);
  });

  it('the pre-commit hook passes every data file kind (and Python, zips, compiled artefacts), and nothing else', () => {
    const hooks = parseYaml(fs.readFileSync(path.join(REPO, '.pre-commit-hooks.yaml'), 'utf8')) as { id: string; files?: string; types?: string[] }[];
    const hook = hooks.find((h) => h.id === 'dag-guard')!;
    expect(hook.types).toBeUndefined();
    const re = new RegExp(hook.files!);
    const names = [...Object.keys(BY_EXTENSION).map((e) => `dags/x${e}`), ...Object.keys(BY_NAME).map((n) => `dags/${n}`), 'dags/.env', 'dags/.env.production', 'dags/requirements.txt', 'dags/requirements-ml.txt', 'dev-requirements.in', 'constraints.txt', 'a.py', 'a.zip', 'x.pyc', 'lib/x.so', 'site.pth'];
    for (const n of names) expect(re.test(n), n).toBe(true);
    for (const n of [...Object.keys(BY_EXTENSION).map((e) => `dags/x${e}`), ...Object.keys(BY_NAME).map((n) => `dags/${n}`)]) expect(dataKindOf(n), n).not.toBeNull();
    for (const n of ['README.md', 'docs/a.txt', 'img.png', 'dags/x.envy', 'Makefile', 'dags/requirements.md']) expect(re.test(n), n).toBe(false);
    for (const n of ['dags/requirements.txt', 'dags/requirements-ml.txt', 'dev-requirements.in', 'constraints.txt']) expect(dataKindOf(n), n).toBe('requirements');
  });

  it('a local stack\'s default passwords (`airflow:airflow`, `POSTGRES_PASSWORD: airflow`) are shown at info, other values fail', () => {
    const dir = tempTree({
      'docker-compose.yml': 'services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: airflow\n  web:\n    environment:\n      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: postgresql+psycopg2://airflow:airflow@postgres/airflow\n',
    });
    const r = runCli(['check', '.', '--no-cache', '-f', 'json'], { cwd: dir });
    const rep = JSON.parse(r.stdout) as { findings: { ruleId: string; severity: string }[] };
    expect(rep.findings.map((f) => `${f.ruleId}:${f.severity}`).sort()).toEqual(['DG101:info', 'DG102:info']);
    expect(r.code).toBe(0);
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), `services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${PW}\n`);
    expect(runCli(['check', '.', '--no-cache'], { cwd: dir }).code).toBe(1);
  });
});
