/**
 * dag-guard sandbox runner: imports DAG files inside a locked-down container (dockerode) and turns what the kernel,
 * the engine and the in-container harness report into findings. Design and threat model: SECURITY.md, docs/sandbox.md.
 *
 * Verdict order (fail closed): engine/kernel facts first (run timeout kill, OOMKilled, exit status, output cap),
 * then the harness's per-file status (its own SIGKILLs, child exit status/signal), then the authenticated audit
 * events. A file without an authenticated "done" record is never clean.
 */
import { fingerprint } from '../fingerprint';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import type { FileError, FileReport, Finding, SandboxEvent } from '../report';
import { EVENT_RULE, SANDBOX_RULE_BY_ID, STATUS_RULE } from './rules';

export { SANDBOX_RULES } from './rules';
export type { SandboxRule } from './rules';
export { createProgress } from './progress';

export interface SandboxOptions {
  image: string;
  /** Per file, seconds. */
  timeoutSec: number;
  /** Whole run, seconds (default: derived from file count, parallelism and timeoutSec). */
  runTimeoutSec?: number;
  /** e.g. 'runsc' (gVisor) */
  runtime?: string;
  /** Repo root mounted read-only, absolute. */
  root: string;
  /** Report paths are relative to this, '/' separators. */
  cwd: string;
  /** The path hashed into a finding's fingerprint (relative to the config folder or repository top, not to `cwd`). */
  identityOf?: (abs: string) => string;
  onProgress?: (done: number, total: number) => void;
  /** Container memory limit in bytes (swap = the same value, i.e. none). Default 1 GiB. */
  memoryBytes?: number;
  /** CPUs for the container; also the number of files parsed in parallel. Default min(2, host CPUs). */
  cpus?: number;
  /** Default 128. */
  pidsLimit?: number;
  /** stdout+stderr bytes a single file's import may write before it is killed. Default 1 MiB. */
  outputCapBytes?: number;
  /** Default '0:0': the harness parent needs uid 0 (with only SETUID/SETGID/KILL) to give each file its own uid. */
  user?: string;
  /** Audit events as they stream out of the container (path relative to cwd). */
  onEvent?: (path: string, event: SandboxEvent) => void;
  /** Called for every container this run creates (tests inspect the effective settings). */
  onContainer?: (container: Docker.Container) => void | Promise<void>;
}

export interface SandboxResult {
  findings: Finding[];
  files: FileReport[];
  errors: FileError[];
}

/** No engine reachable, image or runtime missing. The message says how to fix it; the CLI exits 2. */
export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}

export const SANDBOX_LABEL = 'dag-guard.sandbox';
/** The only capabilities of the container (held by the harness parent alone). */
export const SANDBOX_CAPS = ['SETUID', 'SETGID', 'KILL'] as const;
/** Events forwarded per kind and file (the harness caps the same; this bounds the host whatever arrives). */
export const MAX_EVENTS_PER_KIND = 40;
export const REPO_MOUNT = '/opt/airflow/dags';
export const HARNESS_MOUNT = '/opt/dag-guard/harness';
const HARNESS_ENTRY = `${HARNESS_MOUNT}/dagguard_harness.py`;
/** Host-side bound on what we read from the container (all of it is small signed JSON; DAG output never leaves it). */
const MAX_STDOUT_BYTES = 64 * 1024 * 1024;
const MAX_LINE_BYTES = 256 * 1024;
const STDERR_TAIL_BYTES = 16 * 1024;

// ------------------------------------------------------------------------------------------------- assets

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

// ------------------------------------------------------------------------------------------------- engine

function engineDescription(): string {
  return process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : 'the default socket /var/run/docker.sock';
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
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

// Containers of this process, removed on SIGINT/SIGTERM even when the run is interrupted. The handlers are only
// installed while at least one run is active, so the CLI's own signal behaviour is untouched otherwise.
const live = new Map<string, Docker.Container>();
// A signal can arrive while a create request is in flight: the engine may already hold the container while its id
// is not known here yet. So the handler also waits for pending creates and removes by this process's pid label.
const pendingCreates = new Set<Promise<unknown>>();
const engines = new Set<Docker>();
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
async function haltIfInterrupted(): Promise<void> {
  if (interrupted) await new Promise<never>(() => undefined);
}

function runStarted(): void {
  if (activeRuns++ === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
}

function runFinished(): void {
  if (--activeRuns === 0) {
    engines.clear();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

// ------------------------------------------------------------------------------------------------- container spec

export interface ContainerSpecInput {
  image: string;
  root: string;
  runtime?: string;
  memoryBytes: number;
  cpus: number;
  pidsLimit: number;
  user: string;
  env: string[];
  name: string;
}

/** createContainer options as {_query, _body}: dockerode would otherwise also put the whole body (seccomp JSON
 * included) into the query string, which overflows URL limits of proxies/engines. */
export function containerSpec(i: ContainerSpecInput): { _query: { name: string }; _body: Record<string, unknown> } {
  const hostConfig: Record<string, unknown> = {
    NetworkMode: 'none',
    ReadonlyRootfs: true,
    Mounts: [
      { Type: 'bind', Source: i.root, Target: REPO_MOUNT, ReadOnly: true, BindOptions: { Propagation: 'rprivate' } },
      { Type: 'bind', Source: harnessDir(), Target: HARNESS_MOUNT, ReadOnly: true, BindOptions: { Propagation: 'rprivate' } },
    ],
    Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,size=256m,mode=1777' },
    CapDrop: ['ALL'],
    // The harness parent starts as uid 0 with only these, to give every file's process its own uid (and to kill it);
    // it never runs repository code. The children hold no capability at all (docs/sandbox.md#identities).
    CapAdd: [...SANDBOX_CAPS],
    SecurityOpt: ['no-new-privileges:true', `seccomp=${seccompProfile()}`],
    PidsLimit: i.pidsLimit,
    Memory: i.memoryBytes,
    MemorySwap: i.memoryBytes,
    NanoCpus: Math.round(i.cpus * 1e9),
    Ulimits: [
      { Name: 'nofile', Soft: 1024, Hard: 1024 },
      { Name: 'fsize', Soft: 64 * 1024 * 1024, Hard: 64 * 1024 * 1024 },
      { Name: 'core', Soft: 0, Hard: 0 },
    ],
    Init: true,
    IpcMode: 'private',
    ShmSize: 16 * 1024 * 1024,
    Privileged: false,
    AutoRemove: false,
    OomKillDisable: false,
    // the 4 GiB-flood lesson: nothing the container prints may be stored by the engine either
    LogConfig: { Type: 'none', Config: {} },
    RestartPolicy: { Name: 'no' },
  };
  if (i.runtime) hostConfig.Runtime = i.runtime;
  return {
    _query: { name: i.name },
    _body: {
      Image: i.image,
      Entrypoint: ['python3', '-B', HARNESS_ENTRY],
      Cmd: [],
      User: i.user,
      WorkingDir: '/tmp',
      Env: i.env,
      Labels: {
        [SANDBOX_LABEL]: '1',
        'dag-guard.pid': String(process.pid),
        'dag-guard.host': os.hostname(),
      },
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      OpenStdin: true,
      StdinOnce: true,
      Tty: false,
      NetworkDisabled: true,
      StopTimeout: 1,
      HostConfig: hostConfig,
    },
  };
}

interface Canary {
  tokens: string[];
  variable: string;
  connection: { host: string; login: string; password: string };
  env: Record<string, string>;
}

function makeCanary(): Canary {
  const tok = `dgcanary${crypto.randomBytes(6).toString('hex')}`;
  return {
    tokens: [tok],
    variable: `${tok}-variable`,
    connection: { host: `${tok}.db.invalid`, login: `${tok}-user`, password: `${tok}pw` },
    env: {
      AWS_ACCESS_KEY_ID: `AKIA${tok.toUpperCase().slice(0, 16)}`,
      AWS_SECRET_ACCESS_KEY: `${tok}-aws-secret`,
      DATABASE_PASSWORD: `${tok}-db-password`,
      AIRFLOW_CONN_CANARY_DB: `postgresql://${tok}-user:${tok}pw@${tok}.db.invalid:5432/canary`,
      AIRFLOW_VAR_CANARY_TOKEN: `${tok}-variable`,
    },
  };
}

function sandboxEnv(canary: Canary): string[] {
  // An allow-list: nothing from the host's environment is passed in.
  const env: Record<string, string> = {
    AIRFLOW_HOME: '/tmp/airflow',
    AIRFLOW__CORE__DAGS_FOLDER: REPO_MOUNT,
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    AIRFLOW__CORE__DAG_DISCOVERY_SAFE_MODE: 'False',
    AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT: '0',
    AIRFLOW__CORE__UNIT_TEST_MODE: 'False',
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'sqlite:////tmp/airflow/airflow.db',
    AIRFLOW__LOGGING__LOGGING_LEVEL: 'ERROR',
    CONNECTION_CHECK_MAX_COUNT: '0',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    PYTHONHASHSEED: '0',
    ...canary.env,
  };
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

// ------------------------------------------------------------------------------------------------- run

interface Done {
  status: string;
  durationMs: number;
  dags: string[];
  importError?: string;
  reason?: string;
  outputBytes?: number;
}

interface RunState {
  hello?: Record<string, unknown>;
  ended: boolean;
  events: Map<number, SandboxEvent[]>;
  kindCounts: Map<number, Map<string, number>>;
  eventLines: Map<number, Array<{ line?: number; file?: string }>>;
  done: Map<number, Done>;
  /** files the harness reported as started in this container */
  started: Set<number>;
  /** files given up after repeated container deaths, with the reason */
  crashReason: Map<number, string>;
  unsigned: number;
  stdoutBytes: number;
  stdoutCapped: boolean;
  stderrTail: string;
}

/** Frame-level demux of a hijacked attach stream with hard caps: never buffers more than one bounded line. */
class Demux {
  private header = Buffer.alloc(0);
  private remaining = 0;
  private stream = 0;
  private line: Buffer[] = [];
  private lineLen = 0;
  private overlong = false;

  constructor(
    private readonly onLine: (line: Buffer) => void,
    private readonly onStderr: (chunk: Buffer) => void,
    private readonly onStdoutBytes: (n: number) => boolean,
  ) {}

  push(chunk: Buffer): boolean {
    let off = 0;
    while (off < chunk.length) {
      if (this.remaining === 0) {
        const need = 8 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(off, off + need)]);
        off += Math.min(need, chunk.length - off);
        if (this.header.length < 8) return true;
        this.stream = this.header[0];
        this.remaining = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - off);
      const part = chunk.subarray(off, off + n);
      off += n;
      this.remaining -= n;
      if (this.stream === 2) this.onStderr(part);
      else if (this.stream === 1) {
        if (!this.onStdoutBytes(n)) return false;
        this.stdout(part);
      }
    }
    return true;
  }

  private stdout(part: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = part.indexOf(10, start);
      const piece = part.subarray(start, nl < 0 ? part.length : nl);
      if (!this.overlong) {
        if (this.lineLen + piece.length > MAX_LINE_BYTES) {
          this.overlong = true;
          this.line = [];
        } else {
          this.line.push(Buffer.from(piece));
          this.lineLen += piece.length;
        }
      }
      if (nl < 0) return;
      if (this.overlong) this.onLine(Buffer.from('<overlong line>'));
      else this.onLine(Buffer.concat(this.line));
      this.line = [];
      this.lineLen = 0;
      this.overlong = false;
      start = nl + 1;
    }
  }
}

function rel(cwd: string, p: string): string {
  return path.relative(cwd, p).split(path.sep).join('/');
}

function looksLikeDagFile(p: string): boolean {
  // Airflow's safe-mode heuristic: only files mentioning both are considered DAG files.
  try {
    const s = fs.readFileSync(p, 'utf8').toLowerCase();
    return s.includes('airflow') && s.includes('dag');
  } catch {
    return false;
  }
}

function lastLine(tb: string): string {
  const lines = tb
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? tb;
}

export async function runSandbox(files: string[], opts: SandboxOptions): Promise<SandboxResult> {
  const root = path.resolve(opts.root);
  const errors: FileError[] = [];
  const inside: Array<{ host: string; container: string }> = [];
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

interface RunInfo {
  runTimedOut: boolean;
  oomKilled: boolean;
  exitCode?: number;
  durationMs: number;
}

function newRunState(): RunState {
  return {
    ended: false,
    events: new Map(),
    kindCounts: new Map(),
    eventLines: new Map(),
    done: new Map(),
    started: new Set(),
    crashReason: new Map(),
    unsigned: 0,
    stdoutBytes: 0,
    stdoutCapped: false,
    stderrTail: '',
  };
}

/** Fold one container run (its local file indexes) into the run state of the whole call (global indexes). */
function mergeRun(into: RunState, st: RunState, subset: number[]): void {
  into.hello ??= st.hello;
  into.ended = st.ended;
  into.unsigned += st.unsigned;
  into.stdoutBytes += st.stdoutBytes;
  into.stdoutCapped ||= st.stdoutCapped;
  into.stderrTail = st.stderrTail;
  const cap = 4 * MAX_EVENTS_PER_KIND * EVENT_RULE.size;
  subset.forEach((g, local) => {
    const done = st.done.get(local);
    if (done && !into.done.has(g)) into.done.set(g, done);
    const evs = st.events.get(local);
    if (evs) {
      into.events.set(g, [...(into.events.get(g) ?? []), ...evs].slice(-cap));
      into.eventLines.set(g, [...(into.eventLines.get(g) ?? []), ...(st.eventLines.get(local) ?? [])].slice(-cap));
    }
  });
}

async function runContainer(
  docker: Docker,
  root: string,
  inside: Array<{ host: string; container: string }>,
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

/** `<json>\t<hex HMAC-SHA256(nonce, json)>` -> the parsed record, or null for anything unsigned/forged/garbled. */
export function verifyRecord(line: Buffer, nonce: Buffer): Record<string, unknown> | null {
  const tab = line.lastIndexOf(9);
  if (tab < 0) return null;
  const data = line.subarray(0, tab);
  const mac = line.subarray(tab + 1).toString('ascii');
  const want = crypto.createHmac('sha256', nonce).update(data).digest('hex');
  if (mac.length !== want.length || !crypto.timingSafeEqual(Buffer.from(mac), Buffer.from(want))) return null;
  try {
    const msg = JSON.parse(data.toString('utf8'));
    return msg && typeof msg === 'object' && !Array.isArray(msg) ? (msg as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function handleLine(
  line: Buffer,
  nonce: Buffer,
  st: RunState,
  total: number,
  onProgress?: (done: number, total: number) => void,
  onEvent?: (idx: number, ev: SandboxEvent) => void,
): void {
  if (line.length === 0) return;
  const msg = verifyRecord(line, nonce);
  if (!msg) {
    st.unsigned++;
    return;
  }
  const idx = typeof msg.file === 'number' ? msg.file : -1;
  switch (msg.type) {
    case 'hello':
      st.hello = msg;
      break;
    case 'event': {
      if (!Number.isInteger(idx) || idx < 0 || idx >= total) break;
      const ev = (msg.event && typeof msg.event === 'object' ? msg.event : {}) as Record<string, unknown>;
      // Any kind name is data, never a property lookup: unknown kinds become tamper findings in buildResult.
      const kind = typeof ev.kind === 'string' ? ev.kind.slice(0, 40) : 'tamper';
      const counts = st.kindCounts.get(idx) ?? new Map<string, number>();
      st.kindCounts.set(idx, counts);
      const n = counts.get(kind) ?? 0;
      if (n >= MAX_EVENTS_PER_KIND || counts.size > EVENT_RULE.size + 1) break;
      counts.set(kind, n + 1);
      const list = st.events.get(idx) ?? [];
      const lines = st.eventLines.get(idx) ?? [];
      list.push({ kind, detail: String(ev.detail ?? '').slice(0, 400), t: typeof ev.t === 'number' ? ev.t : undefined });
      lines.push({ line: typeof ev.line === 'number' ? ev.line : undefined, file: typeof ev.file === 'string' ? ev.file : undefined });
      st.events.set(idx, list);
      st.eventLines.set(idx, lines);
      onEvent?.(idx, list[list.length - 1]);
      break;
    }
    case 'done':
      if (Number.isInteger(idx) && idx >= 0 && idx < total && !st.done.has(idx)) {
        st.done.set(idx, msg as unknown as Done);
        onProgress?.(st.done.size, total);
      }
      break;
    case 'start':
      if (Number.isInteger(idx) && idx >= 0 && idx < total) st.started.add(idx);
      break;
    case 'end':
      st.ended = true;
      break;
    default:
      break;
  }
}

/**
 * Decide a run from raw stdout lines alone (no engine): what the runner does with whatever the container sent.
 * For tests that feed it hostile records (unknown kinds, prototype names, malformed fields).
 */
export function decideFromLines(
  lines: Buffer[],
  nonce: Buffer,
  files: Array<{ host: string; container: string }>,
  opts: Pick<SandboxOptions, 'cwd' | 'timeoutSec'>,
): SandboxResult {
  const st = newRunState();
  for (const l of lines) handleLine(l, nonce, st, files.length);
  return buildResult(files, st, opts as SandboxOptions, { runTimedOut: false, oomKilled: false, exitCode: 0, durationMs: 0, errors: [] });
}

function buildResult(
  inside: Array<{ host: string; container: string }>,
  st: RunState,
  opts: SandboxOptions,
  run: { runTimedOut: boolean; oomKilled: boolean; exitCode?: number; durationMs: number; errors: FileError[] },
): SandboxResult {
  const findings: Finding[] = [];
  const reports: FileReport[] = [];
  if (!st.hello && !run.runTimedOut && !st.stdoutCapped) {
    run.errors.push({
      path: '.',
      message: `sandbox harness did not start (exit ${run.exitCode ?? '?'}): ${lastLine(st.stderrTail) || 'no output'}`,
    });
  }
  inside.forEach((f, idx) => {
    const p = rel(opts.cwd, f.host);
    const events = st.events.get(idx) ?? [];
    const lines = st.eventLines.get(idx) ?? [];
    const done = st.done.get(idx);
    const seen = new Set<string>();
    const add = (ruleId: string, detail: string, line = 1) => {
      const key = `${ruleId}:${line}`;
      if (seen.has(key)) return;
      seen.add(key);
      const rule = SANDBOX_RULE_BY_ID.get(ruleId);
      if (!rule) return;
      findings.push({
        ruleId,
        category: rule.category,
        severity: rule.severity,
        path: p,
        line,
        column: 1,
        endLine: line,
        endColumn: 1,
        message: detail ? `${rule.message}: ${detail.slice(0, 300)}` : rule.message,
        source: 'sandbox',
        fingerprint: fingerprint(ruleId, opts.identityOf ? opts.identityOf(f.host) : p, detail.slice(0, 120)),
      });
    };

    let status: string;
    let reason = '';
    if (!done) {
      // no authenticated record for this file: decide from what the engine/kernel says, never "clean"
      if (run.runTimedOut) status = 'timeout';
      else if (run.oomKilled) status = 'oom';
      else if (st.stdoutCapped) status = 'output-cap';
      else {
        status = 'tampered';
        reason =
          st.crashReason.get(idx) ??
          (st.hello ? `the sandbox ended without a result for this file (container exit ${run.exitCode ?? '?'})` : 'the sandbox harness did not start');
      }
    } else if (typeof done.status !== 'string' || !(done.status === 'ok' || STATUS_RULE.has(done.status)) || !Array.isArray(done.dags)) {
      status = 'tampered';
      reason = 'malformed result record for this file';
    } else {
      status = done.status;
      reason = typeof done.reason === 'string' ? done.reason : '';
      if (status === 'ok' && done.dags.length === 0 && looksLikeDagFile(f.host)) status = 'no-dag';
    }
    if (st.unsigned > 0) {
      status = status === 'ok' || status === 'no-dag' ? 'tampered' : status;
      add('DG907', `${st.unsigned} unauthenticated line(s) on the sandbox result channel`);
    }

    events.forEach((ev, i) => {
      const known = EVENT_RULE.get(ev.kind);
      const loc = lines[i];
      const line = loc?.file === f.container && loc.line ? loc.line : 1;
      if (known) add(known, ev.detail, line);
      else add('DG907', `unknown event kind from the harness: ${JSON.stringify(ev.kind)}`);
    });

    const statusRule = STATUS_RULE.get(status);
    if (statusRule) {
      let detail = reason;
      if (status === 'import-error' && done?.importError) detail = lastLine(done.importError);
      if (status === 'timeout') detail = run.runTimedOut && !done ? 'the whole sandbox run hit its time limit' : `> ${opts.timeoutSec}s`;
      add(statusRule, detail);
    }
    const hasViolation = findings.some((x) => x.path === p && x.category === 'sandbox-violation');
    const finalStatus = status === 'ok' || status === 'no-dag' ? (hasViolation ? 'flagged' : status === 'ok' ? 'clean' : 'no-dag') : status;
    reports.push({
      path: p,
      dags: Array.isArray(done?.dags) ? done!.dags.filter((d): d is string => typeof d === 'string') : [],
      sandbox: {
        status: finalStatus,
        durationMs: done?.durationMs ?? 0,
        events,
        ...(done?.importError ? { importError: done.importError } : {}),
      },
    });
  });
  return { findings, files: reports, errors: run.errors };
}
