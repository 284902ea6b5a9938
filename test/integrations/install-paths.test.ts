/**
 * The install paths of README "Install the CLI for another repository" and docs/integrations.md, run exactly as
 * written, with one substitution: the GitHub URL becomes a local bare repository (`git+file://`, the network reaches
 * only package registries here) holding the current working tree, and `<commit-sha>` its commit, obtained with the
 * documented `git ls-remote … HEAD`. Each installed CLI then blocks a leaky DAG and passes a clean one.
 * Slow (each path is a real `npm install` against the registry): excluded from `npm run test:unit`.
 * Timings are printed at the end; README's transcript quotes them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAN_DAG, cleanEnv, REPO, SECRET, SECRET_DAG, snapshotRepo, tmpDir, writeTree } from './helpers';

const GITHUB = 'https://github.com/dag-guard/dag-guard';
const timings: Record<string, string> = {};

/** The `sh` code blocks of a Markdown page, as lists of command lines (comments and blank lines dropped). */
function shellCommands(page: string): string[] {
  const text = fs.readFileSync(path.join(REPO, page), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const line of m[1].split('\n')) {
      const cmd = line.replace(/\s+#\s.*$/, '').trim();
      if (cmd && !cmd.startsWith('#')) out.push(cmd);
    }
  }
  return out;
}

function bash(cmd: string, cwd: string, env: NodeJS.ProcessEnv): { code: number; out: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { cwd, env: cleanEnv(env), encoding: 'utf8', timeout: 900_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}`, ms: Date.now() - t0 };
}

describe('install paths in the docs, run as written (real npm, local git URL)', () => {
  let bare: string;
  let sha: string;
  let clone: string;
  let dagRepo: string;
  const urlOf = (cmd: string) =>
    cmd
      .replace(`git+${GITHUB}.git`, `git+file://${bare}`)
      .replace(GITHUB, bare)
      .replace(/<commit-sha>/g, sha);

  beforeAll(() => {
    const snap = snapshotRepo();
    clone = snap.dir;
    bare = path.join(tmpDir('dg-bare-'), 'dag-guard.git');
    execFileSync('git', ['clone', '-q', '--bare', clone, bare], { env: cleanEnv() });
    // The documented way to find the sha to pin.
    const lsRemote = shellCommands('README.md').length; // the README must still document commands at all
    expect(lsRemote).toBeGreaterThan(0);
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const m = /`(git ls-remote https:\/\/github\.com\/dag-guard\/dag-guard HEAD)`/.exec(readme);
    expect(m, 'README names the git ls-remote command that finds the sha').not.toBeNull();
    sha = bash(`${urlOf(m![1])} | cut -f1`, REPO, {}).out.trim();
    expect(sha).toBe(snap.rev);
    dagRepo = tmpDir('dg-target-');
    writeTree(dagRepo, { 'dags/leaky_dag.py': SECRET_DAG, 'dags/clean_dag.py': CLEAN_DAG });
  }, 120_000);

  afterAll(() => {
    console.log(`install-path timings: ${JSON.stringify(timings)}`);
  });

  /** The installed CLI, as `dag-guard` on PATH: blocks the leak (exit 1, secret not printed), passes the clean DAG. */
  const checkInstalled = (binDir: string) => {
    const env = { PATH: `${binDir}:${process.env.PATH}` };
    const leak = bash('dag-guard check dags/', dagRepo, env);
    expect(leak.code, leak.out).toBe(1);
    expect(leak.out).toContain('dags/leaky_dag.py:3:41: DG101 [high]');
    expect(leak.out).not.toContain(SECRET);
    const clean = bash('dag-guard check dags/clean_dag.py', dagRepo, env);
    expect(clean.code, clean.out).toBe(0);
  };

  it('every npm install line in the docs is the tested one (--install-links, pinned <commit-sha>)', () => {
    const lines = [...shellCommands('README.md'), ...fs.readFileSync(path.join(REPO, 'docs', 'integrations.md'), 'utf8').split('\n')]
      .map((l) => l.replace(/^\s*(-\s+|run:\s+)?/, '').trim())
      .filter((l) => /^npm install -g .*git\+/.test(l)); // commands, not prose that names one
    expect(lines.length).toBeGreaterThanOrEqual(3); // README, GitHub Actions, GitLab CI
    for (const l of lines) expect(l).toBe(`npm install -g --install-links git+${GITHUB}.git#<commit-sha>`);
  });

  it('README: `npm install -g --install-links git+…#<commit-sha>`, then `dag-guard check dags/`', () => {
    const cmd = shellCommands('README.md').find((c) => c.startsWith('npm install -g --install-links git+'))!;
    const prefix = tmpDir('dg-prefix-');
    const r = bash(urlOf(cmd), dagRepo, { npm_config_prefix: prefix });
    timings['npm install -g --install-links git+URL#sha'] = `${(r.ms / 1000).toFixed(1)} s`;
    expect(r.code, r.out).toBe(0);
    checkInstalled(path.join(prefix, 'bin'));
  }, 900_000);

  it('README: `npx --yes --package=git+…#<commit-sha> dag-guard check dags/` blocks the leak', () => {
    const cmd = shellCommands('README.md').find((c) => c.startsWith('npx '))!;
    expect(cmd).toBe(`npx --yes --package=git+${GITHUB}.git#<commit-sha> dag-guard check dags/`);
    const r = bash(urlOf(cmd), dagRepo, {});
    timings['npx --package=git+URL#sha dag-guard check (first run)'] = `${(r.ms / 1000).toFixed(1)} s`;
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('dags/leaky_dag.py:3:41: DG101 [high]');
    expect(r.out).not.toContain(SECRET);
    const again = bash(urlOf(cmd), dagRepo, {});
    timings['npx (second run, cached)'] = `${(again.ms / 1000).toFixed(1)} s`;
    expect(again.code, again.out).toBe(1);
  }, 900_000);

  it('README: `npm install && npm pack` in a clone, then `npm install -g ./dag-guard-<version>.tgz`', () => {
    const cmds = shellCommands('README.md');
    const pack = cmds.find((c) => c.includes('npm pack'))!;
    const inst = cmds.find((c) => /^npm install -g \.\/dag-guard-.*\.tgz$/.test(c))!;
    expect(pack).toBe('npm install && npm pack');
    const version = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
    expect(inst).toBe(`npm install -g ./dag-guard-${version}.tgz`);
    const p = bash(pack, clone, {});
    timings['npm install && npm pack (in a clone)'] = `${(p.ms / 1000).toFixed(1)} s`;
    expect(p.code, p.out).toBe(0);
    const tgz = path.join(clone, `dag-guard-${version}.tgz`);
    expect(fs.existsSync(tgz)).toBe(true);
    const listing = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' });
    expect(listing).toContain('package/dist/src/cli.js'); // prebuilt: installing it compiles nothing
    fs.copyFileSync(tgz, path.join(dagRepo, path.basename(tgz)));
    const prefix = tmpDir('dg-prefix-');
    const r = bash(inst, dagRepo, { npm_config_prefix: prefix });
    timings['npm install -g ./dag-guard.tgz'] = `${(r.ms / 1000).toFixed(1)} s`;
    expect(r.code, r.out).toBe(0);
    checkInstalled(path.join(prefix, 'bin'));
  }, 900_000);
});
