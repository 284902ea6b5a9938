import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { describe, it } from 'vitest';
import { SANDBOX_LABEL } from '../../src/sandbox';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const IMAGE = process.env.DAG_GUARD_SANDBOX_IMAGE ?? 'dag-guard-sandbox:local';
export const fx = (rel: string): string => path.join(FIXTURES, rel);

export interface EngineStatus {
  ok: boolean;
  reason: string;
}

/** Is a Docker engine reachable (DOCKER_HOST honoured) and the test image present? */
export async function engineStatus(image = IMAGE): Promise<EngineStatus> {
  const docker = new Docker();
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, rej) => setTimeout(() => rej(new Error('ping timed out')), 5000)),
    ]);
  } catch (e) {
    return { ok: false, reason: `no Docker engine reachable (${(e as Error).message}); run: bash .ci/setup-docker.sh` };
  }
  try {
    await docker.getImage(image).inspect();
  } catch {
    return { ok: false, reason: `image ${image} missing; run: bash sandbox/build-test-image.sh` };
  }
  return { ok: true, reason: '' };
}

/**
 * describe() when the engine is there; otherwise describe.skip with a loud warning — except in CI
 * (CI=true), where a missing engine must fail the run instead of silently skipping the sandbox tests.
 */
export function dockerDescribe(status: EngineStatus): typeof describe | ((name: string, fn: () => void) => void) {
  if (status.ok) return describe;
  if (process.env.CI === 'true') {
    return (name: string) =>
      describe(name, () => {
        it_fail(name, status.reason);
      });
  }
  const bar = '!'.repeat(100);
  console.warn(`\n${bar}\n!!! SANDBOX TESTS SKIPPED: ${status.reason}\n!!! (they fail instead when CI=true)\n${bar}\n`);
  return describe.skip;
}

function it_fail(name: string, reason: string): void {
  it(`${name}: Docker engine + sandbox image are required in CI`, () => {
    throw new Error(`CI=true but the sandbox cannot run: ${reason}`);
  });
}

export interface MatrixEntry {
  image: string;
  /** 'runc' = Docker's default runtime (no Runtime set on the container). */
  runtime: string;
  name: string;
}

/**
 * The images x runtimes every hostile-attack test runs against: env DAG_GUARD_SANDBOX_MATRIX, a comma-separated
 * list of `image@runtime` (runtime `runc` = Docker's default), e.g.
 * `dag-guard-sandbox:local@runc,dag-guard-sandbox:local@runsc,dag-guard-sandbox:airflow2@runc`.
 * Default: `${IMAGE}@runc`.
 */
export function sandboxMatrix(spec = process.env.DAG_GUARD_SANDBOX_MATRIX): MatrixEntry[] {
  const raw = (spec ?? '').trim() || `${IMAGE}@runc`;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const at = s.lastIndexOf('@');
      const image = at > 0 ? s.slice(0, at) : s;
      const runtime = at > 0 ? s.slice(at + 1) : 'runc';
      return { image, runtime, name: `${image}@${runtime}` };
    });
}

/** Like engineStatus(), and the runtime must be registered in the engine (`docker info` Runtimes). */
export async function matrixStatus(entry: MatrixEntry): Promise<EngineStatus> {
  const st = await engineStatus(entry.image);
  if (!st.ok || entry.runtime === 'runc') return st;
  try {
    const info = (await new Docker().info()) as { Runtimes?: Record<string, unknown> };
    if (!info.Runtimes || !(entry.runtime in info.Runtimes)) {
      return { ok: false, reason: `runtime ${entry.runtime} is not registered in the engine (see .ci/ for runsc)` };
    }
  } catch (e) {
    return { ok: false, reason: `docker info failed: ${(e as Error).message}` };
  }
  return st;
}

/** The runSandbox `runtime` option for a matrix entry. */
export const runtimeOpt = (entry: MatrixEntry): string | undefined => (entry.runtime === 'runc' ? undefined : entry.runtime);

/** sha256 of every file under dir (host files must be unchanged by hostile DAGs). */
export function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

export async function labelledContainers(pid = process.pid): Promise<Docker.ContainerInfo[]> {
  const list = await new Docker().listContainers({ all: true, filters: { label: [`${SANDBOX_LABEL}=1`] } });
  return list.filter((c) => c.Labels?.['dag-guard.pid'] === String(pid));
}
