/**
 * dag-guard sandbox runner: imports DAG files inside a locked-down container (dockerode) and turns what the kernel,
 * the engine and the in-container harness report into findings. Design and threat model: SECURITY.md, docs/sandbox.md.
 *
 * The parts: container-spec.ts (the hardened container and its environment), engine.ts (connecting, stale
 * containers), cleanup.ts (signals), channel.ts (the signed result channel), verdict.ts (findings, fail closed);
 * this file runs the containers.
 */
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { FileError, SandboxEvent } from '../report';
import { Demux, handleLine, MAX_STDOUT_BYTES, newRunState, STDERR_TAIL_BYTES, type RunState } from './channel';
import { engines, haltIfInterrupted, live, pendingCreates, runFinished, runStarted } from './cleanup';
import { containerSpec, makeCanary, REPO_MOUNT, sandboxEnv } from './container-spec';
import { connectEngine, removeStaleContainers, SandboxUnavailableError, withTimeout } from './engine';
import type { RunInfo, SandboxFile, SandboxOptions, SandboxResult } from './types';
import { buildResult, mergeRun, rel } from './verdict';

export { SANDBOX_RULES } from './rules';
export type { SandboxRule } from './rules';
export { createProgress } from './progress';
export type { SandboxOptions, SandboxResult } from './types';
export { connectEngine, removeStaleContainers, SandboxUnavailableError } from './engine';
export { containerSpec, HARNESS_MOUNT, REPO_MOUNT, SANDBOX_CAPS, SANDBOX_LABEL, type ContainerSpecInput } from './container-spec';
export { harnessDir, seccompProfile } from './assets';
export { MAX_EVENTS_PER_KIND, verifyRecord } from './channel';
export { decideFromLines } from './verdict';

export async function runSandbox(files: string[], opts: SandboxOptions): Promise<SandboxResult> {
  const root = path.resolve(opts.root);
  const errors: FileError[] = [];
  const inside: SandboxFile[] = [];
  for (const f of files) {
    const abs = path.resolve(f);
    const r = path.relative(root, abs);
    if (r.startsWith('..') || path.isAbsolute(r)) {
      errors.push({ path: rel(opts.cwd, abs), message: `not inside the sandbox root ${root}; not parsed in the sandbox` });
      continue;
    }
    inside.push({ host: abs, container: `${REPO_MOUNT}/${r.split(path.sep).join('/')}` });
  }
  const docker = await connectEngine(opts.image, opts.runtime);
  await removeStaleContainers(docker).catch(() => 0);
  if (inside.length === 0) return { findings: [], files: [], errors };

  // One container for all files; if it dies before every file has a verdict (gVisor's Sentry can exit with status 2
  // under memory pressure or a hostile file), the files without one run again in a fresh container. A file that was
  // being parsed when two containers died gets no third chance: it is flagged, the others still get their verdicts.
  const merged = newRunState();
  const strikes = new Map<number, number>();
  let pending = inside.map((_, i) => i);
  let last: RunInfo = { runTimedOut: false, oomKilled: false, durationMs: 0 };
  for (let attempt = 0; pending.length > 0 && attempt < MAX_CONTAINER_RUNS; attempt++) {
    const subset = pending;
    const base = merged.done.size;
    const progress = opts.onProgress ? (d: number) => opts.onProgress!(base + d, inside.length) : undefined;
    const { st, run } = await runContainer(docker, root, subset.map((i) => inside[i]), opts, progress, (local, ev) => {
      const f = inside[subset[local]];
      if (f && opts.onEvent) opts.onEvent(rel(opts.cwd, f.host), ev);
    });
    last = run;
    mergeRun(merged, st, subset);
    const missing = subset.filter((i) => !merged.done.has(i));
    const crashed = missing.length > 0 && st.hello && !run.runTimedOut && !run.oomKilled && !st.stdoutCapped && st.unsigned === 0;
    if (!crashed) break;
    for (const local of st.started) {
      const g = subset[local];
      if (!merged.done.has(g)) strikes.set(g, (strikes.get(g) ?? 0) + 1);
    }
    pending = missing.filter((g) => (strikes.get(g) ?? 0) < 2);
    for (const g of missing) {
      if ((strikes.get(g) ?? 0) >= 2) {
        merged.crashReason.set(g, `the sandbox container died twice while this file was being parsed (exit ${run.exitCode ?? '?'})`);
      }
    }
  }
  return buildResult(inside, merged, opts, { ...last, errors });
}

const MAX_CONTAINER_RUNS = 3;

async function runContainer(
  docker: Docker,
  root: string,
  inside: SandboxFile[],
  opts: SandboxOptions,
  onProgress: ((done: number) => void) | undefined,
  onEvent: ((idx: number, ev: SandboxEvent) => void) | undefined,
): Promise<{ st: RunState; run: RunInfo }> {
  const cpus = opts.cpus ?? Math.max(1, Math.min(2, os.cpus().length));
  const parallel = Math.max(1, Math.floor(cpus));
  const outputCap = opts.outputCapBytes ?? 1024 * 1024;
  const runTimeoutSec =
    opts.runTimeoutSec ?? Math.ceil(60 + (Math.ceil(inside.length / parallel) + 1) * (opts.timeoutSec + 2));
  const canary = makeCanary();
  const nonce = crypto.randomBytes(32);
  const config = {
    files: inside.map((f) => f.container),
    repoMount: REPO_MOUNT,
    timeoutSec: opts.timeoutSec,
    parallel,
    outputCapBytes: outputCap,
    memoryBytes: opts.memoryBytes ?? 1024 * 1024 * 1024,
    canary: { tokens: canary.tokens, variable: canary.variable, connection: canary.connection, env: {} },
  };

  const spec = containerSpec({
    image: opts.image,
    root,
    runtime: opts.runtime,
    memoryBytes: opts.memoryBytes ?? 1024 * 1024 * 1024,
    cpus,
    pidsLimit: opts.pidsLimit ?? 128,
    user: opts.user ?? '0:0',
    env: sandboxEnv(canary),
    name: `dag-guard-sandbox-${process.pid}-${crypto.randomBytes(4).toString('hex')}`,
  });

  const st = newRunState();
  let runTimedOut = false;
  let state: { OOMKilled?: boolean; ExitCode?: number } = {};
  const started = Date.now();

  runStarted();
  engines.add(docker);
  let container: Docker.Container;
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const creating = docker.createContainer(spec as any);
    pendingCreates.add(creating);
    container = await creating.finally(() => pendingCreates.delete(creating));
  } catch (e) {
    runFinished();
    await haltIfInterrupted();
    throw new SandboxUnavailableError(`the engine refused to create the sandbox container: ${(e as Error).message}`);
  }
  live.set(container.id, container);
  onProgress?.(0);
  try {
    if (opts.onContainer) await opts.onContainer(container);
    const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
    const onLine = (line: Buffer) => handleLine(line, nonce, st, inside.length, onProgress ? (d) => onProgress(d) : undefined, onEvent);
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      stream.destroy();
      void container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    };
    const demux = new Demux(
      onLine,
      (chunk) => {
        st.stderrTail = (st.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      },
      (n) => {
        st.stdoutBytes += n;
        if (st.stdoutBytes > MAX_STDOUT_BYTES) {
          st.stdoutCapped = true;
          kill();
          return false;
        }
        return true;
      },
    );
    const streamEnded = new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        if (!demux.push(chunk)) kill();
      });
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    const waited = container.wait({ condition: 'next-exit' }).catch(() => undefined);
    try {
      await container.start();
    } catch (e) {
      // A Ctrl-C that removed the container mid-start is not an engine problem: let the handler exit with 130/143.
      await haltIfInterrupted();
      throw new SandboxUnavailableError(
        `the sandbox container did not start (${(e as Error).message}); check that the engine supports the seccomp profile and runtime`,
      );
    }
    const body = Buffer.from(JSON.stringify(config));
    stream.write(Buffer.concat([Buffer.from(`${nonce.toString('hex')} ${body.length}\n`), body]));
    const timer = setTimeout(() => {
      runTimedOut = true;
      kill();
    }, runTimeoutSec * 1000);
    try {
      await waited;
      await withTimeout(streamEnded, 5000, 'drain').catch(() => undefined);
    } finally {
      clearTimeout(timer);
      stream.destroy();
    }
    state = ((await container.inspect().catch(() => undefined))?.State as typeof state) ?? {};
  } catch (e) {
    await haltIfInterrupted();
    throw e;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
    live.delete(container.id);
    runFinished();
  }
  // Ctrl-C / SIGTERM: the signal handler removes the containers and exits; never report a half run as a result
  await haltIfInterrupted();

  return {
    st,
    run: { runTimedOut, oomKilled: Boolean(state.OOMKilled), exitCode: state.ExitCode, durationMs: Date.now() - started },
  };
}

