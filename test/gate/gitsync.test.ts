/**
 * End to end with the real git-sync v4 binary (built by .ci/setup-git-sync.sh) syncing from a local bare
 * repository over file:// (no network), in both trigger modes: git-sync's --exechook-command running
 * `dag-guard gate`, and the `dag-guard gate --serve` sidecar receiving git-sync's --webhook-url call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pollPublished, REVERSE_SHELL } from './bypass-helpers';
import { BIN, CLEAN_DAG, FIXED_DAG, git, gitSyncBin, makeRepo, readJson, SECRET_DAG, tmpDir, waitFor } from './helpers';

const GIT_SYNC = gitSyncBin();
const procs: ChildProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.exitCode === null && p.pid) {
      p.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => { p.kill('SIGKILL'); r(null); }, 5000);
        p.once('exit', () => { clearTimeout(t); r(null); });
      });
    }
  }
});

function startGitSync(bare: string, root: string, extra: string[]): { proc: ChildProcess; logs: () => string } {
  const home = tmpDir('dg-gs-home-');
  let logs = '';
  const proc = spawn(GIT_SYNC!, [`--repo=file://${bare}`, `--root=${root}`, '--link=repo', '--ref=main', '--period=300ms', '-v', '2', ...extra], {
    env: { PATH: process.env.PATH, HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (logs += d));
  proc.stderr!.on('data', (d) => (logs += d));
  procs.push(proc);
  return { proc, logs: () => logs };
}

const live = (pub: string): string | null => {
  try {
    return path.basename(fs.readlinkSync(path.join(pub, 'current'))).split('.')[0];
  } catch {
    return null;
  }
};
const status = (pub: string) => readJson(path.join(pub, '.dag-guard', 'status.json'));

/** The scenario both trigger modes must pass. */
async function scenario(repo: ReturnType<typeof makeRepo>, pub: string, logs: () => string): Promise<void> {
  const c1 = repo.commit({ 'dags/etl.py': CLEAN_DAG }, 'clean DAG');
  await waitFor(`clean ${c1} published (git-sync log:\n${logs()})`, () => live(pub) === c1, 45_000);
  expect(fs.readFileSync(path.join(pub, 'current', 'dags', 'etl.py'), 'utf8')).toBe(CLEAN_DAG);
  // status.json is written right after the link swap: wait for it rather than racing the writer.
  await waitFor(`status for ${c1}`, () => status(pub)?.revision === c1 && ['published', 'already-live'].includes(status(pub).verdict), 15_000);

  const c2 = repo.commit({ 'dags/warehouse.py': SECRET_DAG }, 'add warehouse connection');
  const st = await waitFor(`verdict for ${c2}`, () => {
    const s = status(pub);
    return s && s.revision === c2 && s.verdict !== 'already-live' ? s : null;
  }, 45_000);
  expect(st.verdict).toBe('rejected');
  expect(st.message).toContain('dags/warehouse.py');
  expect(st.findings.failing).toBeGreaterThan(0);
  expect(st.live.revision).toBe(c1);
  expect(live(pub)).toBe(c1);
  expect(fs.existsSync(path.join(pub, 'current', 'dags', 'warehouse.py'))).toBe(false);

  const c3 = repo.commit({ 'dags/warehouse.py': FIXED_DAG }, 'read the password from the environment');
  await waitFor(`fix ${c3} published`, () => live(pub) === c3, 45_000);
  expect(fs.readFileSync(path.join(pub, 'current', 'dags', 'warehouse.py'), 'utf8')).toBe(FIXED_DAG);
  await waitFor(`status for ${c3}`, () => status(pub)?.revision === c3 && ['published', 'already-live'].includes(status(pub).verdict), 15_000);
}

describe.skipIf(!GIT_SYNC)('real git-sync v4', () => {
  it('exechook mode: git-sync runs `dag-guard gate` after each sync', async () => {
    const repo = makeRepo();
    repo.commit({ 'README.md': 'dags\n' }, 'init');
    const root = path.join(tmpDir('dg-staging-'), 'root');
    const pub = tmpDir('dg-pub-');
    const hook = path.join(tmpDir('dg-hook-'), 'gate-hook.sh');
    fs.writeFileSync(
      hook,
      `#!/bin/sh\n# git-sync runs this in the new worktree with GITSYNC_HASH set.\nexec "${process.execPath}" "${BIN}" gate --source "${root}/repo" --publish-to "${pub}" --no-config\n`,
      { mode: 0o755 },
    );
    const gs = startGitSync(repo.bare, root, [`--exechook-command=${hook}`, '--exechook-timeout=60s', '--exechook-backoff=1s']);
    await scenario(repo, pub, gs.logs);
    // git-sync saw the rejection as a failed hook (it retries; the gate answers from its status without re-checking).
    expect(gs.logs()).toMatch(/exechook|hook/i);
  }, 180_000);

  it('webhook mode: `dag-guard gate --serve` sidecar receives git-sync --webhook-url', async () => {
    const repo = makeRepo();
    repo.commit({ 'README.md': 'dags\n' }, 'init');
    const root = path.join(tmpDir('dg-staging-'), 'root');
    const pub = tmpDir('dg-pub-');
    const gate = spawn(process.execPath, [BIN, 'gate', '--serve', '--listen', '127.0.0.1:0', '--source', `${root}/repo`, '--publish-to', pub, '--no-config'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(gate);
    let gateLog = '';
    gate.stderr!.on('data', (d) => (gateLog += d));
    const url = await waitFor('gate listening', () => /listening on (http:\/\/\S+)/.exec(gateLog)?.[1], 20_000);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Nothing synced yet: the gate is alive but cannot publish, and says so.
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    const early = await fetch(`${url}/healthz`);
    expect(early.status).toBe(503);
    expect(((await early.json()) as { problems: string[] }).problems.join('\n')).toMatch(/blocked: .*does not exist|dangling/);

    const gs = startGitSync(repo.bare, root, [`--webhook-url=${url}/`, '--webhook-backoff=1s']);
    await scenario(repo, pub, () => `${gs.logs()}\n--- gate ---\n${gateLog}`);
    expect(gateLog).toMatch(/webhook for [0-9a-f]{12}/);

    const healthy = await fetch(`${url}/healthz`);
    expect(healthy.status).toBe(200);
    expect(((await healthy.json()) as { ok: boolean }).ok).toBe(true);
    const st = (await (await fetch(`${url}/status`)).json()) as { service: { runs: number }; status: { verdict: string } };
    expect(st.status.verdict).toBe('published');
    expect(st.service.runs).toBeGreaterThanOrEqual(3);
    expect((await fetch(`${url}/nope`)).status).toBe(404);

    gate.kill('SIGTERM');
    const code = await new Promise((r) => gate.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  }, 180_000);

  it('issue 11 symlink escape through real git-sync (exechook, --config from outside): refused, nothing hostile ever readable, fix published', async () => {
    const marker = 'HOSTILE-GITSYNC-SYMLINK';
    const repo = makeRepo();
    const root = path.join(tmpDir('dg-staging-'), 'root');
    const pub = fs.realpathSync(tmpDir('dg-pub-'));
    const cfgDir = tmpDir('dg-configmap-');
    fs.writeFileSync(path.join(cfgDir, 'dag-guard.toml'), 'fail-on = "high"\n');
    const hook = path.join(tmpDir('dg-hook-'), 'gate-hook.sh');
    fs.writeFileSync(
      hook,
      `#!/bin/sh\nexec "${process.execPath}" "${BIN}" gate --source "${root}/repo" --publish-to "${pub}" --config "${cfgDir}/dag-guard.toml"\n`,
      { mode: 0o755 },
    );
    const poller = pollPublished(pub, marker);
    try {
      const c1 = repo.commit({ 'dags/etl.py': CLEAN_DAG, 'dags/payload.txt': 'x = 1\n' }, 'clean');
      const gs = startGitSync(repo.bare, root, [`--exechook-command=${hook}`, '--exechook-timeout=60s', '--exechook-backoff=1s']);
      await waitFor(`clean ${c1} published (git-sync log:\n${gs.logs()})`, () => live(pub) === c1, 45_000);
      // The attack: links committed with git (mode 120000), resolved through the published folder.
      fs.mkdirSync(path.join(repo.work, 'h'), { recursive: true });
      fs.symlinkSync('../'.repeat(30).slice(0, -1), path.join(repo.work, 'h', 'up'));
      fs.symlinkSync(`up/../${pub.slice(1)}/current/dags/payload.txt`, path.join(repo.work, 'h', 'evil.py'));
      const c2 = repo.commit({}, 'links');
      const st2 = await waitFor(`verdict for ${c2}`, () => (status(pub)?.revision === c2 && status(pub).verdict === 'rejected' ? status(pub) : null), 45_000);
      expect(st2.links.rejected.map((l: { path: string }) => l.path).sort()).toEqual(['h/evil.py', 'h/up']);
      expect(st2.message).toContain('GATE-SYMLINK');
      const c3 = repo.commit({ 'dags/payload.txt': REVERSE_SHELL(marker) }, 'swap the payload');
      await waitFor(`verdict for ${c3}`, () => status(pub)?.revision === c3 && status(pub).verdict === 'rejected', 45_000);
      expect(live(pub)).toBe(c1);
      // The fix: the links go, the payload goes; published at the next hook run.
      git(repo.work, 'rm', '-q', '-r', 'h');
      const c4 = repo.commit({ 'dags/payload.txt': 'x = 2\n' }, 'remove the links');
      await waitFor(`fix ${c4} published`, () => live(pub) === c4, 45_000);
    } finally {
      poller.stop();
    }
    expect(poller.sightings).toEqual([]);
    expect(poller.links).toEqual([]);
    expect(poller.polls()).toBeGreaterThan(20);
  }, 240_000);

  it('watch mode: `dag-guard gate --watch` notices the link flip by itself', async () => {
    const repo = makeRepo();
    repo.commit({ 'README.md': 'dags\n' }, 'init');
    const root = path.join(tmpDir('dg-staging-'), 'root');
    const pub = tmpDir('dg-pub-');
    const gs = startGitSync(repo.bare, root, []);
    await waitFor('first sync', () => fs.existsSync(path.join(root, 'repo', 'README.md')), 30_000);
    const gate = spawn(process.execPath, [BIN, 'gate', '--watch', '--interval', '0.3', '--source', `${root}/repo`, '--publish-to', pub, '--no-config'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    procs.push(gate);
    let gateLog = '';
    gate.stderr!.on('data', (d) => (gateLog += d));
    await scenario(repo, pub, () => `${gs.logs()}\n--- gate ---\n${gateLog}`);
  }, 180_000);
});
