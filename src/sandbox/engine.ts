/**
 * The Docker engine: connecting (DOCKER_HOST / TLS through docker-modem), checking image and runtime, and removing
 * sandbox containers left by a dag-guard process that no longer exists.
 */
import * as os from 'node:os';
import Docker from 'dockerode';
import { SANDBOX_LABEL } from './container-spec';

/** No engine reachable, image or runtime missing. The message says how to fix it; the CLI exits 2. */
export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}

function engineDescription(): string {
  return process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : 'the default socket /var/run/docker.sock';
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

/** Connect (honours DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH through docker-modem) and check the image. */
export async function connectEngine(image: string, runtime?: string): Promise<Docker> {
  let docker: Docker;
  try {
    docker = new Docker();
    await withTimeout(docker.ping(), 10_000, 'docker ping');
  } catch (e) {
    throw new SandboxUnavailableError(
      `--sandbox needs a Docker Engine API, but none is reachable at ${engineDescription()} (${(e as Error).message}). ` +
        'Start Docker (or Podman with its docker-compatible socket) and/or set DOCKER_HOST; on a CI runner: bash .ci/setup-docker.sh',
    );
  }
  try {
    await docker.getImage(image).inspect();
  } catch (e) {
    const hint =
      image === 'dag-guard-sandbox:local'
        ? 'build it with: bash sandbox/build-test-image.sh'
        : `pull or build it first (docker pull ${image}, or use your own Airflow image with --image)`;
    throw new SandboxUnavailableError(
      `sandbox image ${image} is not available on the engine at ${engineDescription()} (${(e as Error).message}); ${hint}`,
    );
  }
  if (runtime) {
    const info = (await docker.info()) as { Runtimes?: Record<string, unknown> };
    if (!info.Runtimes || !(runtime in info.Runtimes)) {
      throw new SandboxUnavailableError(
        `container runtime "${runtime}" is not configured on the engine (available: ${Object.keys(info.Runtimes ?? {}).join(', ') || 'none'}). ` +
          'For gVisor: install runsc, run `runsc install` and restart dockerd.',
      );
    }
  }
  return docker;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove sandbox containers left behind by a dag-guard process that no longer exists (kill -9, power loss). */
export async function removeStaleContainers(docker: Docker): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABEL}=1`] } });
  let n = 0;
  for (const c of list) {
    const labels = c.Labels ?? {};
    const pid = Number(labels['dag-guard.pid']);
    const sameHost = labels['dag-guard.host'] === os.hostname();
    const ageSec = Date.now() / 1000 - c.Created;
    // same host: the owning dag-guard is gone (or the pid was reused long after); other hosts: only by age
    const stale = sameHost ? !(pid > 0 && pidAlive(pid)) || ageSec > 24 * 3600 : ageSec > 6 * 3600;
    if (!stale) continue;
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .then(() => n++)
      .catch(() => undefined);
  }
  return n;
}

