import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * CLI tests run the built bin. `npm test` builds first; a bare `npx vitest` builds here when dist/ is missing
 * or older than a source file, so a test never runs stale code.
 */
export default function setup(): void {
  const repo = path.resolve(__dirname, '..');
  const out = path.join(repo, 'dist', 'src', 'cli.js');
  const newest = (dir: string): number => {
    let t = 0;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) t = Math.max(t, newest(p));
      else if (e.name.endsWith('.ts')) t = Math.max(t, fs.statSync(p).mtimeMs);
    }
    return t;
  };
  const built = fs.existsSync(out) ? fs.statSync(out).mtimeMs : 0;
  const src = Math.max(newest(path.join(repo, 'src')), newest(path.join(repo, 'rules')));
  if (built >= src) return;
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', repo], { stdio: 'inherit' });
  } catch {
    // tsc still emits on type errors; `npm test` (tsc before vitest) is the gate that refuses them.
    console.warn('global-setup: tsc reported errors; testing what it emitted');
  }
}
