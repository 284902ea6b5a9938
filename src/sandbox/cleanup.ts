/**
 * The containers of this process, removed on SIGINT/SIGTERM even when a run is interrupted. Process-wide state on
 * purpose (a signal concerns every run of the process); the handlers are installed only while a run is active, so
 * the CLI's own signal behaviour is untouched otherwise.
 */
import type Docker from 'dockerode';
import { SANDBOX_LABEL } from './container-spec';
import { withTimeout } from './engine';

export const live = new Map<string, Docker.Container>();
// A signal can arrive while a create request is in flight: the engine may already hold the container while its id
// is not known here yet. So the handler also waits for pending creates and removes by this process's pid label.
export const pendingCreates = new Set<Promise<unknown>>();
export const engines = new Set<Docker>();
let activeRuns = 0;
let interrupted = false;

async function removeOwnContainers(): Promise<void> {
  await Promise.allSettled([...pendingCreates]);
  const known = [...live.values()].map((c) => c.remove({ force: true }).catch(() => undefined));
  const labelled = [...engines].map(async (docker) => {
    const list = await docker
      .listContainers({ all: true, filters: { label: [`${SANDBOX_LABEL}=1`, `dag-guard.pid=${process.pid}`] } })
      .catch(() => []);
    await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  });
  await Promise.all([...known, ...labelled]);
}

function onSignal(sig: NodeJS.Signals): void {
  const code = sig === 'SIGINT' ? 130 : 143;
  interrupted = true;
  void withTimeout(removeOwnContainers(), 5000, 'sandbox cleanup')
    .catch(() => undefined)
    .finally(() => process.exit(code));
}

/** After Ctrl-C/SIGTERM nothing may report or throw (an unhandled error would exit 1 before the handler's 130). */
export async function haltIfInterrupted(): Promise<void> {
  if (interrupted) await new Promise<never>(() => undefined);
}

export function runStarted(): void {
  if (activeRuns++ === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
}

export function runFinished(): void {
  if (--activeRuns === 0) {
    engines.clear();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
