/** Airflow 3 DAG bundles: `gate --promote-ref` against a real bare repository. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { makeCheck, promote } from '../../src/gate';
import { BIN, CLEAN_DAG, FIXED_DAG, git, makeRepo, markerCheck, SECRET_DAG } from './helpers';

const quiet = { log: () => {} };
const realCheck = makeCheck({ configPath: null });
const REF = 'refs/heads/dag-guard/verified';
const verified = (bare: string): string | null => {
  try {
    return git(bare, 'rev-parse', '--verify', '-q', REF);
  } catch {
    return null;
  }
};

describe('gate --promote-ref (real bare repository)', () => {
  it('advances the verified ref on a clean commit, never onto a failing one, then onto the fix', async () => {
    const repo = makeRepo();
    const c1 = repo.commit({ 'dags/etl.py': CLEAN_DAG }, 'clean');
    const r1 = await promote({ repo: repo.bare, candidate: 'refs/heads/main', check: realCheck, ...quiet });
    expect(r1.verdict).toBe('promoted');
    expect(verified(repo.bare)).toBe(c1);

    const c2 = repo.commit({ 'dags/wh.py': SECRET_DAG }, 'credential');
    const r2 = await promote({ repo: repo.bare, candidate: 'main', check: realCheck, ...quiet });
    expect(r2.verdict).toBe('rejected');
    expect(r2.exitCode).toBe(1);
    expect(r2.candidate).toBe(c2);
    expect(verified(repo.bare)).toBe(c1);

    const c3 = repo.commit({ 'dags/wh.py': FIXED_DAG }, 'fix');
    const r3 = await promote({ repo: repo.bare, candidate: 'main', check: realCheck, ...quiet });
    expect(r3.verdict).toBe('promoted');
    expect(verified(repo.bare)).toBe(c3);
    // The reflog tells who moved it.
    expect(git(repo.bare, 'log', '-g', '--format=%gs', REF)).toContain('dag-guard: verified');
  });

  it('never moves backwards nor sideways', async () => {
    const repo = makeRepo();
    const c1 = repo.commit({ 'a.py': '1\n' }, 'one');
    const c2 = repo.commit({ 'a.py': '2\n' }, 'two');
    expect((await promote({ repo: repo.bare, candidate: c2, check: markerCheck, ...quiet })).verdict).toBe('promoted');
    const back = await promote({ repo: repo.bare, candidate: c1, check: markerCheck, ...quiet });
    expect(back.verdict).toBe('already-verified');
    expect(verified(repo.bare)).toBe(c2);
    // A rewritten history (force push): the new tip does not descend from the verified commit.
    git(repo.work, 'reset', '-q', '--hard', c1);
    repo.commit({ 'a.py': 'rewritten\n' }, 'rewritten (force-pushed)');
    const side = await promote({ repo: repo.bare, candidate: 'main', check: markerCheck, ...quiet });
    expect(side.verdict).toBe('not-fast-forward');
    expect(side.exitCode).toBe(1);
    expect(verified(repo.bare)).toBe(c2);
  });

  it('compare-and-swap: a concurrent promotion that got further wins, the slower one does not undo it', async () => {
    const repo = makeRepo();
    const c1 = repo.commit({ 'a.py': '1\n' }, 'one');
    await promote({ repo: repo.bare, candidate: c1, check: markerCheck, ...quiet });
    const c2 = repo.commit({ 'a.py': '2\n' }, 'two');
    const c3 = repo.commit({ 'a.py': '3\n' }, 'three');
    // While the gate for c2 is between its check and its update, another gate promotes c3.
    const r = await promote({
      repo: repo.bare, candidate: c2, check: markerCheck, ...quiet,
      beforeUpdate: async () => {
        const other = await promote({ repo: repo.bare, candidate: c3, check: markerCheck, ...quiet });
        expect(other.verdict).toBe('promoted');
      },
    });
    expect(r.verdict).toBe('already-verified');
    expect(verified(repo.bare)).toBe(c3);
    // Two gates racing for independent descendants: both pass, the ref only ever moves forward.
    const c4 = repo.commit({ 'a.py': '4\n' }, 'four');
    const results = await Promise.all([
      promote({ repo: repo.bare, candidate: c4, check: markerCheck, ...quiet }),
      promote({ repo: repo.bare, candidate: c4, check: markerCheck, ...quiet }),
    ]);
    expect(results.map((x) => x.exitCode)).toEqual([0, 0]);
    expect(verified(repo.bare)).toBe(c4);
  });

  it('through the CLI, with exit codes and clear errors', () => {
    const repo = makeRepo();
    const c1 = repo.commit({ 'dags/etl.py': CLEAN_DAG }, 'clean');
    const ok = spawnSync(process.execPath, [BIN, 'gate', '--promote-ref', 'main', '--repo', repo.bare, '--verified-ref', 'dag-guard/verified', '--no-config', '--json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ verdict: 'promoted', candidate: c1, ref: REF });
    const missing = spawnSync(process.execPath, [BIN, 'gate', '--promote-ref', 'nope', '--repo', repo.bare], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('does not name a commit');
    const notRepo = spawnSync(process.execPath, [BIN, 'gate', '--promote-ref', 'main', '--repo', '/tmp'], { encoding: 'utf8' });
    expect(notRepo.status).toBe(2);
    expect(notRepo.stderr).toContain('not a git repository');
  });
});
