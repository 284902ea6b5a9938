/**
 * The result cache (src/cache.ts) through the real CLI: a warm run reports exactly what a cold one does, every input
 * of the analysis invalidates it, and a cache the committer planted cannot hide a finding.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonReport, runCli, tempTree } from '../helpers/cli';

const DANGER = 'import os\nos.system("rm -rf " + input())\nDB_PASSWORD = "S3cr3tValue!9"\n';
const SUPPRESSED = 'import pickle\nx = pickle.loads(b)  # dag-guard: ignore[DG401] -- fixture\ny = 1  # dag-guard: ignore[DG101] -- nothing here\n';
const BROKEN = 'api_key = (\n';

function tree(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = tempTree({ 'dags/a.py': DANGER, 'dags/b.py': SUPPRESSED, 'dags/c.py': BROKEN, 'dags/clean.py': 'x = 1\n' });
  fs.mkdirSync(path.join(dir, '.git')); // the identity root: the cache goes in <dir>/.dag-guard-cache
  // The HMAC key lives outside the tree, in the user's cache folder: a private one per test.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-cache-home-'));
  return { dir, env: { XDG_CACHE_HOME: home } };
}

const check = (dir: string, env: NodeJS.ProcessEnv, ...extra: string[]) => runCli(['check', 'dags', '-f', 'json', '--no-config', ...extra], { cwd: dir, env });
const comparable = (r: ReturnType<typeof runCli>) => {
  const j = jsonReport(r);
  return { findings: j.findings, warnings: j.warnings, errors: j.errors, suppressed: j.summary.suppressed, code: r.code };
};
const cacheFiles = (dir: string) => fs.readdirSync(path.join(dir, '.dag-guard-cache')).filter((n) => n.startsWith('results-'));

describe('result cache', () => {
  it('gives a warm run the same report as a cold one (findings, fingerprints, suppressions, DG000/DG001 warnings, exit code)', () => {
    const { dir, env } = tree();
    const cold = comparable(check(dir, env, '--no-cache'));
    expect(fs.existsSync(path.join(dir, '.dag-guard-cache'))).toBe(false); // --no-cache writes nothing
    const first = comparable(check(dir, env));
    const warm = comparable(check(dir, env));
    expect(first).toEqual(cold);
    expect(warm).toEqual(cold);
    expect(cold.findings.map((f: { ruleId: string }) => f.ruleId).sort()).toEqual(['DG101', 'DG202', 'DG607']);
    expect(cold.suppressed).toBe(1);
    expect(cold.warnings.map((w: { code: string }) => w.code).sort()).toEqual(['DG000', 'DG001']);
    expect(cacheFiles(dir)).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, '.dag-guard-cache', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  });

  it('caches data files too: a warm run reports the same secrets, an edit is seen', () => {
    const { dir, env } = tree();
    const secretEnv = 'PGPASSWORD=Zq8vT3xLp0wR7mKe\n';
    fs.writeFileSync(path.join(dir, 'dags', 'conn.env'), secretEnv);
    const cold = comparable(check(dir, env, '--no-cache'));
    expect(cold.findings.some((f: { path: string }) => f.path === 'dags/conn.env')).toBe(true);
    expect(comparable(check(dir, env))).toEqual(cold);
    expect(comparable(check(dir, env))).toEqual(cold);
    fs.writeFileSync(path.join(dir, 'dags', 'conn.env'), 'PGPASSWORD=${PGPASSWORD}\n');
    expect(jsonReport(check(dir, env)).findings.some((f: { path: string }) => f.path === 'dags/conn.env')).toBe(false);
  });

  it('serves a warm run without loading the engine, the grammar or any rule that reads file contents', () => {
    const { dir, env } = tree();
    fs.writeFileSync(path.join(dir, 'dags', 'conn.env'), 'PGPASSWORD=Zq8vT3xLp0wR7mKe\n'); // data files come from the cache too
    // What the process loaded, written when it exits (a preload module: the CLI itself is untouched).
    const preload = path.join(dir, '..', `${path.basename(dir)}-loaded.js`);
    const out = `${preload}.txt`;
    fs.writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, Object.keys(require.cache).join('\\n')));\n`);
    const loaded = (): string[] => {
      const r = runCli(['check', 'dags', '-f', 'json', '--no-config'], { cwd: dir, env: { ...env, NODE_OPTIONS: `--require ${preload}` } });
      expect(r.code).toBe(1);
      return fs.readFileSync(out, 'utf8').split('\n');
    };
    // micromatch too: whether a file with a secret finding is a test file (the cap of secret findings) is cached
    const heavy = (mods: string[]) => mods.filter((m) => /[\\/](tree-sitter|micromatch|engine[\\/]analyze|rules[\\/](secret|shell-injection|malicious))[\\/.]/.test(m));
    expect(heavy(loaded()).length).toBeGreaterThan(0); // cold: the files are scanned here (too few for workers)
    expect(heavy(loaded())).toEqual([]);
    fs.rmSync(preload);
    fs.rmSync(out);
  });

  it('keeps the test-file cap of secret findings, and follows a change of [tests] paths', () => {
    const { dir, env } = tree();
    fs.mkdirSync(path.join(dir, 'dags', 'tests'));
    fs.writeFileSync(path.join(dir, 'dags', 'tests', 'test_conn.py'), 'DB_PASSWORD = "Fixture-Pw-9921"\n');
    const sev = (r: ReturnType<typeof runCli>) =>
      jsonReport(r).findings.filter((f: { path: string }) => f.path === 'dags/tests/test_conn.py').map((f: { severity: string }) => f.severity);
    const run = () => runCli(['check', 'dags', '-f', 'json'], { cwd: dir, env });
    expect(sev(run())).toEqual(['info']);
    expect(sev(run())).toEqual(['info']); // from the cache
    // other test paths, which this file does not match: a classification cached under the old ones must not be used
    fs.writeFileSync(path.join(dir, 'dag-guard.toml'), '[tests]\npaths = ["**/specs/**"]\n');
    expect(sev(run())).toEqual(['high']);
    expect(sev(run())).toEqual(['high']);
    fs.writeFileSync(path.join(dir, 'dag-guard.toml'), '[tests]\npaths = ["**/tests/**"]\n');
    expect(sev(run())).toEqual(['info']);
  });

  it('is invalidated by the content, the rule selection, the settings and the code', () => {
    const { dir, env } = tree();
    check(dir, env);
    // same size and mtime, other content (two lines swapped): ctime changes, so the bytes are hashed again
    const a = path.join(dir, 'dags', 'a.py');
    const st = fs.statSync(a);
    const [l1, l2, l3] = DANGER.split('\n');
    fs.writeFileSync(a, [l1, l3, l2, ''].join('\n'));
    expect(fs.statSync(a).size).toBe(st.size);
    fs.utimesSync(a, st.atime, st.mtime);
    expect(jsonReport(check(dir, env)).findings.find((f: { ruleId: string }) => f.ruleId === 'DG202').line).toBe(3);
    // an edit that removes the finding
    fs.writeFileSync(path.join(dir, 'dags', 'a.py'), 'x = 2\n');
    expect(jsonReport(check(dir, env)).findings).toEqual([]);
    fs.writeFileSync(path.join(dir, 'dags', 'a.py'), DANGER);
    expect(jsonReport(check(dir, env)).findings).toHaveLength(3);
    // --ignore: another configuration, another result file; the findings follow the selection
    expect(jsonReport(check(dir, env, '--ignore', 'DG101')).findings.map((f: { ruleId: string }) => f.ruleId).sort()).toEqual(['DG202', 'DG607']);
    // settings that change a file's result: --check-syntax and a config's import policy
    fs.writeFileSync(path.join(dir, 'dag-guard.toml'), '[imports]\ndeny = ["os"]\n');
    const withConfig = jsonReport(runCli(['check', 'dags', '-f', 'json'], { cwd: dir, env }));
    expect(withConfig.findings.map((f: { ruleId: string }) => f.ruleId)).toContain('DG501');
    expect(cacheFiles(dir).length).toBeGreaterThanOrEqual(2);
  });

  it('ignores a cache file it did not write (planted in the repository), and says so', () => {
    const { dir, env } = tree();
    check(dir, env);
    const [name] = cacheFiles(dir);
    const file = path.join(dir, '.dag-guard-cache', name);
    // The committer rewrites the stored result of a.py to "no findings" (keeping the JSON valid).
    const raw = fs.readFileSync(file, 'utf8');
    const body = JSON.parse(raw.slice(raw.indexOf('\n') + 1));
    for (const e of Object.values(body.entries) as unknown[][]) e.length = 5; // [hash, size, mtime, ctime, inode]: nothing to report
    expect(JSON.stringify(body)).not.toMatch(/DG101/);
    fs.writeFileSync(file, `${raw.slice(0, raw.indexOf('\n'))}\n${JSON.stringify(body)}`);
    const r = check(dir, env);
    const j = jsonReport(r);
    expect(j.findings.map((f: { ruleId: string }) => f.ruleId).sort()).toEqual(['DG101', 'DG202', 'DG607']);
    expect(j.warnings.some((w: { code: string; message: string }) => w.code === 'DG008' && /failed verification/.test(w.message))).toBe(true);
    expect(r.code).toBe(1);
    // another user's key (another machine) is as good as none
    const other = { XDG_CACHE_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'dg-other-')) };
    expect(jsonReport(check(dir, other)).findings).toHaveLength(3);
  });

  it('treats a corrupt or unreadable cache as absent, and refuses a symlinked cache folder', () => {
    const { dir, env } = tree();
    check(dir, env);
    const [name] = cacheFiles(dir);
    fs.writeFileSync(path.join(dir, '.dag-guard-cache', name), 'garbage');
    const r = check(dir, env);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(jsonReport(r).findings).toHaveLength(3);
    // a committed symlink must not make dag-guard write elsewhere
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-elsewhere-'));
    fs.rmSync(path.join(dir, '.dag-guard-cache'), { recursive: true });
    fs.symlinkSync(elsewhere, path.join(dir, '.dag-guard-cache'));
    const s = check(dir, env);
    expect(jsonReport(s).findings).toHaveLength(3);
    expect(jsonReport(s).warnings.some((w: { code: string }) => w.code === 'DG008')).toBe(true);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });

  it('is not used in enforce mode unless --cache-dir is outside the checked tree', () => {
    const { dir, env } = tree();
    const r = runCli(['check', 'dags', '-f', 'json', '--enforce'], { cwd: dir, env });
    // (enforce mode does not honour b.py's inline suppression: DG401 too)
    expect(jsonReport(r).findings).toHaveLength(4);
    expect(fs.existsSync(path.join(dir, '.dag-guard-cache'))).toBe(false);
    const inside = runCli(['check', 'dags', '--enforce', '--cache-dir', path.join(dir, 'cache')], { cwd: dir, env });
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/--cache-dir .* inside the checked tree/);
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-trusted-cache-'));
    const ok = runCli(['check', 'dags', '-f', 'json', '--enforce', '--cache-dir', outside], { cwd: dir, env });
    expect(jsonReport(ok).findings).toHaveLength(4);
    expect(fs.readdirSync(outside).some((n) => n.startsWith('results-'))).toBe(true);
  });
});
