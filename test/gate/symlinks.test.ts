/**
 * The gate publishes only regular files and directories: Airflow follows a symlink at parse time, to whatever it
 * points at *then*, which is not what the check read. In-tree links are materialised; links that leave the tree,
 * dangle or loop refuse the revision.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LINK_RULE_ID, liveVersion, readStatus, runGate } from '../../src/gate';
import { markerCheck, tmpDir, writeTree } from './helpers';

const quiet = { log: () => {} };

function source(files: Record<string, string>): string {
  const d = tmpDir('dg-src-');
  writeTree(d, files);
  return fs.realpathSync(d);
}

/** Every symlink under `dir` (lstat, never following). */
export function symlinksUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isSymbolicLink()) out.push(p);
      else if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

describe('gate: symlinks', () => {
  it('materialises in-tree links (file, directory, link through a linked directory): the published folder holds no symlink', async () => {
    const src = source({ 'dags/a.py': 'a = 1\n', 'lib/util/b.py': 'b = 2\n', 'lib/util/sub/c.py': 'c = 3\n' });
    fs.symlinkSync('../lib/util/b.py', path.join(src, 'dags', 'b_alias.py'));
    fs.symlinkSync('../lib/util', path.join(src, 'dags', 'util'));
    fs.symlinkSync('sub/c.py', path.join(src, 'lib', 'util', 'c_alias.py'));
    const pub = tmpDir('dg-pub-');
    const r = await runGate({ source: src, publishTo: pub, check: markerCheck, ...quiet });
    expect(r.status.verdict).toBe('published');
    const live = fs.realpathSync(path.join(pub, 'current'));
    expect(symlinksUnder(live)).toEqual([]);
    expect(fs.readFileSync(path.join(live, 'dags', 'b_alias.py'), 'utf8')).toBe('b = 2\n');
    expect(fs.lstatSync(path.join(live, 'dags', 'util')).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(live, 'dags', 'util', 'sub', 'c.py'), 'utf8')).toBe('c = 3\n');
    expect(fs.readFileSync(path.join(live, 'dags', 'util', 'c_alias.py'), 'utf8')).toBe('c = 3\n');
    const st = readStatus(pub)!;
    expect(st.links?.materialised.map((l) => l.path).sort()).toEqual(['dags/b_alias.py', 'dags/util', 'dags/util/c_alias.py', 'lib/util/c_alias.py']);
    expect(st.links?.rejected).toEqual([]);
  });

  it('the check sees the materialised bytes: a marker reached only through an in-tree link is caught', async () => {
    const src = source({ 'dags/a.py': 'a = 1\n', 'data/payload.txt': 'BAD\n' });
    // payload.txt alone is not a DAG; through the link it is the content of dags/evil.py.
    fs.symlinkSync('../data/payload.txt', path.join(src, 'dags', 'evil.py'));
    const pub = tmpDir('dg-pub-');
    const seen: string[] = [];
    const r = await runGate({
      source: src,
      publishTo: pub,
      check: async (dir) => {
        seen.push(fs.lstatSync(path.join(dir, 'dags', 'evil.py')).isFile() ? 'regular' : 'link');
        return markerCheck(dir);
      },
      ...quiet,
    });
    expect(seen).toEqual(['regular']);
    expect(r.status.verdict).toBe('rejected');
  });

  it('what is published is the bytes that were checked: the source swapped during the check (payload and link) changes nothing', async () => {
    const src = source({ 'dags/a.py': 'a = 1\n', 'data/payload.txt': 'harmless = 1\n' });
    fs.symlinkSync('../data/payload.txt', path.join(src, 'dags', 'evil.py'));
    const outside = source({ 'hostile.py': 'BAD\n' });
    const pub = tmpDir('dg-pub-');
    const r = await runGate({
      source: src,
      publishTo: pub,
      check: async (dir) => {
        const verdict = await markerCheck(dir);
        // The committer's swap, after the check read the copy and before publication.
        fs.writeFileSync(path.join(src, 'data', 'payload.txt'), 'BAD\n');
        fs.rmSync(path.join(src, 'dags', 'evil.py'));
        fs.symlinkSync(path.join(outside, 'hostile.py'), path.join(src, 'dags', 'evil.py'));
        return verdict;
      },
      ...quiet,
    });
    expect(r.status.verdict).toBe('published');
    const live = fs.realpathSync(path.join(pub, 'current'));
    expect(fs.lstatSync(path.join(live, 'dags', 'evil.py')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(live, 'dags', 'evil.py'), 'utf8')).toBe('harmless = 1\n');
    expect(fs.readFileSync(path.join(live, 'data', 'payload.txt'), 'utf8')).toBe('harmless = 1\n');
  });

  it.each([
    ['an absolute link out of the tree', (src: string, outside: string) => fs.symlinkSync(path.join(outside, 'evil.py'), path.join(src, 'dags', 'evil.py')), /resolves outside the checked tree/],
    ['a relative link out of the tree', (src: string, outside: string) => fs.symlinkSync(path.relative(path.join(src, 'dags'), path.join(outside, 'evil.py')), path.join(src, 'dags', 'evil.py')), /resolves outside the checked tree/],
    ['a dangling link', (src: string) => fs.symlinkSync('nowhere.py', path.join(src, 'dags', 'evil.py')), /dangling/],
    ['a link loop', (src: string) => { fs.symlinkSync('evil2.py', path.join(src, 'dags', 'evil.py')); fs.symlinkSync('evil.py', path.join(src, 'dags', 'evil2.py')); }, /loop/],
    ['a directory link to its own ancestor', (src: string) => fs.symlinkSync('..', path.join(src, 'dags', 'evil.py')), /loop/],
    ['two directory links pointing at each other', (src: string) => {
      fs.mkdirSync(path.join(src, 'x'));
      fs.symlinkSync('../x', path.join(src, 'dags', 'evil.py'));
      fs.symlinkSync('../dags', path.join(src, 'x', 'back'));
    }, /loop/],
    ['a link into .git', (src: string) => {
      fs.mkdirSync(path.join(src, '.git'));
      fs.writeFileSync(path.join(src, '.git', 'config'), '[core]\n');
      fs.symlinkSync('../.git/config', path.join(src, 'dags', 'evil.py'));
    }, /\.git/],
  ])('%s refuses the revision with a finding, listed in status.json; the last good revision stays live', async (_name, plant, reason) => {
    const pub = tmpDir('dg-pub-');
    const good = await runGate({ source: source({ 'dags/a.py': 'a = 1\n' }), publishTo: pub, check: markerCheck, hintRevision: 'good', ...quiet });
    expect(good.status.verdict).toBe('published');
    const outside = source({ 'evil.py': 'import os\n' });
    const src = source({ 'dags/a.py': 'a = 2\n' });
    plant(src, outside);
    const r = await runGate({ source: src, publishTo: pub, check: markerCheck, hintRevision: 'bad', ...quiet });
    expect(r.exitCode).toBe(1);
    expect(r.status.verdict).toBe('rejected');
    expect(liveVersion(pub)?.revision).toBe('good');
    const st = readStatus(pub)!;
    expect(st.findings?.top.some((f) => f.ruleId === LINK_RULE_ID && f.path.startsWith('dags/evil.py'))).toBe(true);
    expect(st.message).toContain(LINK_RULE_ID);
    expect(st.links?.rejected.some((l) => reason.test(l.reason ?? ''))).toBe(true);
    expect(st.health?.ok).toBe(false);
    expect(fs.readdirSync(path.join(pub, '.dag-guard')).filter((n) => n.startsWith('staging-'))).toEqual([]);
  });
});
