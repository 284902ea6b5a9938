/** Files the sandbox needs from the installation: the harness and the seccomp profile. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SandboxUnavailableError } from './engine';

function findAsset(rel: string): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const p = path.join(dir, rel);
    if (fs.existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  throw new SandboxUnavailableError(`dag-guard installation is incomplete: ${rel} not found near ${__dirname}`);
}

export function harnessDir(): string {
  return path.dirname(findAsset(path.join('sandbox', 'harness', 'dagguard_harness.py')));
}

/** The seccomp profile as compact JSON, as the Docker CLI sends it (the daemon wants content, not a path). */
export function seccompProfile(): string {
  return JSON.stringify(JSON.parse(fs.readFileSync(findAsset(path.join('sandbox', 'seccomp.json')), 'utf8')));
}

