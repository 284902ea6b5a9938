/**
 * The container the sandbox creates: every hardening setting in one place (docs/sandbox.md, SECURITY.md), and the
 * environment it gets — an allow-list with canary credentials, nothing from the host.
 */
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import { harnessDir, seccompProfile } from './assets';

export const SANDBOX_LABEL = 'dag-guard.sandbox';
/** The only capabilities of the container (held by the harness parent alone). */
export const SANDBOX_CAPS = ['SETUID', 'SETGID', 'KILL'] as const;
export const REPO_MOUNT = '/opt/airflow/dags';
export const HARNESS_MOUNT = '/opt/dag-guard/harness';
const HARNESS_ENTRY = `${HARNESS_MOUNT}/dagguard_harness.py`;


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

export interface Canary {
  tokens: string[];
  variable: string;
  connection: { host: string; login: string; password: string };
  env: Record<string, string>;
}

export function makeCanary(): Canary {
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

export function sandboxEnv(canary: Canary): string[] {
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

