import { execFileSync, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerSpec,
  removeStaleContainers,
  runSandbox,
  SANDBOX_LABEL,
  SANDBOX_RULES,
  SandboxUnavailableError,
  verifyRecord,
  type SandboxResult,
} from '../../src/sandbox';
import { SANDBOX_CATEGORIES } from '../../src/report';
import { dockerDescribe, engineStatus, FIXTURES, fx, IMAGE, labelledContainers, snapshotTree } from './helpers';

const status = await engineStatus();
const dockerSuite = dockerDescribe(status);

const base = { image: IMAGE, root: FIXTURES, cwd: FIXTURES };
const byPath = (r: SandboxResult, p: string) => r.files.find((f) => f.path === p)!;
const rulesOf = (r: SandboxResult, p: string) => [...new Set(r.findings.filter((f) => f.path === p).map((f) => f.ruleId))].sort();

it('rule metadata is complete and uses sandbox categories', () => {
  const ids = SANDBOX_RULES.map((r) => r.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const r of SANDBOX_RULES) {
    expect(r.id).toMatch(/^DG9\d\d$/);
    expect(SANDBOX_CATEGORIES).toContain(r.category);
    expect(r.docs.what && r.docs.why && r.docs.example && r.docs.useInstead).toBeTruthy();
  }
});

it('createContainer options keep the query string to the name (seccomp JSON only in the body)', () => {
  const spec = containerSpec({
    image: IMAGE, root: FIXTURES, memoryBytes: 1 << 30, cpus: 1, pidsLimit: 64, user: '50000:0', env: [], name: 'x',
  });
  expect(Object.keys(spec._query)).toEqual(['name']);
  const sec = (spec._body.HostConfig as { SecurityOpt: string[] }).SecurityOpt;
  expect(sec.some((s) => s.startsWith('seccomp={'))).toBe(true);
});

it('the runner accepts only records signed with the run nonce', () => {
  const nonce = Buffer.alloc(32, 7);
  const sign = (json: string, key = nonce) => Buffer.from(`${json}\t${crypto.createHmac('sha256', key).update(json).digest('hex')}`);
  const good = '{"type":"done","file":0,"status":"ok","dags":["x"]}';
  expect(verifyRecord(sign(good), nonce)).toMatchObject({ type: 'done', status: 'ok' });
  expect(verifyRecord(Buffer.from(good), nonce)).toBeNull(); // unsigned
  expect(verifyRecord(Buffer.from(`${good}\t${'0'.repeat(64)}`), nonce)).toBeNull(); // forged mac
  expect(verifyRecord(sign(good, Buffer.alloc(32, 8)), nonce)).toBeNull(); // another key (e.g. a child's)
  expect(verifyRecord(sign(good.replace('"ok"', '"bad"')).subarray(0, 10), nonce)).toBeNull(); // truncated
  expect(verifyRecord(sign('[1,2]'), nonce)).toBeNull(); // not a record
});

dockerSuite('sandbox against the real engine and image', () => {
  let before: Map<string, string>;
  beforeAll(() => {
    before = snapshotTree(FIXTURES);
  });
  afterAll(async () => {
    expect(snapshotTree(FIXTURES)).toEqual(before); // no hostile DAG changed a host file
    expect(await labelledContainers()).toEqual([]); // and no container was left behind
  });

  it('clean DAGs (classic, TaskFlow, dynamic factory, parse-time Variable/Connection) pass with the right dag ids', async () => {
    const progress: number[] = [];
    const r = await runSandbox(
      ['clean/classic_dag.py', 'clean/taskflow_dag.py', 'clean/dynamic_factory.py', 'clean/uses_variable.py'].map(fx),
      { ...base, timeoutSec: 30, onProgress: (d) => progress.push(d) },
    );
    expect(r.errors).toEqual([]);
    expect(r.findings).toEqual([]);
    expect(byPath(r, 'clean/classic_dag.py').dags).toEqual(['classic_etl']);
    expect(byPath(r, 'clean/taskflow_dag.py').dags).toEqual(['taskflow_pipeline']);
    expect(byPath(r, 'clean/dynamic_factory.py').dags).toEqual(['factory_crm', 'factory_ops', 'factory_sales']);
    expect(byPath(r, 'clean/uses_variable.py').dags).toEqual(['vars_True']);
    for (const f of r.files) expect(f.sandbox?.status).toBe('clean');
    expect(progress).toEqual([0, 1, 2, 3, 4]);
  });

  it('a missing provider import is an import-error; a DAG-looking file without a DAG is reported', async () => {
    const r = await runSandbox([fx('broken/missing_provider.py'), fx('broken/no_dag.py')], { ...base, timeoutSec: 30 });
    const mp = byPath(r, 'broken/missing_provider.py');
    expect(mp.sandbox?.status).toBe('import-error');
    expect(mp.sandbox?.importError).toContain('airflow.providers.snowflake');
    const f = r.findings.find((x) => x.path === 'broken/missing_provider.py')!;
    expect(f).toMatchObject({ ruleId: 'DG960', category: 'import-error', source: 'sandbox' });
    expect(f.message).toContain("No module named 'airflow.providers.snowflake'");
    expect(rulesOf(r, 'broken/no_dag.py')).toEqual(['DG961']);
  });

  it('the created container has every hardening setting', async () => {
    let inspected: Docker.ContainerInspectInfo | undefined;
    await runSandbox([fx('clean/classic_dag.py')], {
      ...base,
      timeoutSec: 30,
      onContainer: async (c) => {
        inspected = await c.inspect();
      },
    });
    const hc = inspected!.HostConfig as Docker.HostConfig & Record<string, unknown>;
    const cfg = inspected!.Config;
    expect(hc.NetworkMode).toBe('none');
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.CapDrop).toEqual(['ALL']);
    // only what the harness parent needs to give each file its own uid and to kill it (the children hold none)
    expect([...(hc.CapAdd ?? [])].sort()).toEqual(['KILL', 'SETGID', 'SETUID']);
    expect(hc.Privileged).toBe(false);
    expect(hc.SecurityOpt).toContain('no-new-privileges:true');
    const seccomp = (hc.SecurityOpt ?? []).find((s: string) => s.startsWith('seccomp='))!;
    const profile = JSON.parse(seccomp.slice('seccomp='.length));
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO');
    const allowed = new Set<string>(profile.syscalls.filter((s: { action: string }) => s.action === 'SCMP_ACT_ALLOW').flatMap((s: { names: string[] }) => s.names));
    for (const sc of ['mount', 'umount2', 'unshare', 'setns', 'ptrace', 'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'userfaultfd', 'kexec_load', 'init_module', 'finit_module', 'personality', 'process_vm_readv']) {
      expect(allowed.has(sc), sc).toBe(false);
    }
    expect(hc.PidsLimit).toBe(128);
    expect(hc.Memory).toBeGreaterThan(0);
    expect(hc.MemorySwap).toBe(hc.Memory);
    expect((hc.NanoCpus ?? 0) > 0 || (hc.CpuQuota ?? 0) > 0).toBe(true);
    const ulimits = Object.fromEntries((hc.Ulimits ?? []).map((u) => [u.Name ?? "", u]));
    expect(ulimits.nofile).toMatchObject({ Soft: 1024, Hard: 1024 });
    expect(ulimits.fsize.Hard).toBeGreaterThan(0);
    expect(ulimits.core).toMatchObject({ Soft: 0, Hard: 0 });
    const tmp = (hc.Tmpfs as Record<string, string>)['/tmp'];
    for (const o of ['noexec', 'nosuid', 'nodev', 'size=']) expect(tmp).toContain(o);
    const mounts = inspected!.Mounts;
    expect(mounts.length).toBe(2);
    for (const m of mounts) expect(m.RW).toBe(false);
    expect(cfg.User).toBe('0:0'); // the parent; every file's child runs as its own non-root uid (attacks.test.ts)
    expect(cfg.Labels[SANDBOX_LABEL]).toBe('1');
    expect(cfg.Labels['dag-guard.pid']).toBe(String(process.pid));
    expect(cfg.Entrypoint).toEqual(['python3', '-B', '/opt/dag-guard/harness/dagguard_harness.py']);
    // no host environment: none of the host's variables (names or values) appears
    const env = cfg.Env ?? [];
    for (const [k, v] of Object.entries(process.env)) {
      if (['PATH', 'HOME', 'HOSTNAME', 'LANG', 'TERM'].includes(k) || !v || v.length < 6) continue;
      expect(env.some((e) => e.startsWith(`${k}=`) && e.endsWith(v)), k).toBe(false);
    }
    expect(hc.LogConfig?.Type).toBe('none');
    expect(hc.Init).toBe(true);
  });

  it('clear SandboxUnavailableError for a missing image and for an unreachable engine', async () => {
    await expect(runSandbox([fx('clean/classic_dag.py')], { ...base, image: 'dag-guard-no-such-image:0', timeoutSec: 5 })).rejects.toThrow(
      SandboxUnavailableError,
    );
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${path.join(os.tmpdir(), 'dag-guard-no-engine.sock')}`;
    try {
      const p = runSandbox([fx('clean/classic_dag.py')], { ...base, timeoutSec: 5 });
      await expect(p).rejects.toThrow(SandboxUnavailableError);
      await expect(p).rejects.toThrow(/DOCKER_HOST/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('honours DOCKER_HOST (explicit unix socket of the same engine)', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = saved ?? 'unix:///var/run/docker.sock';
    try {
      const r = await runSandbox([fx('clean/classic_dag.py')], { ...base, timeoutSec: 30 });
      expect(r.files[0].sandbox?.status).toBe('clean');
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('the per-run wall clock kills the container and flags what did not finish', async () => {
    const r = await runSandbox([fx('hostile/cpu_spin.py')], { ...base, timeoutSec: 120, runTimeoutSec: 8 });
    expect(r.files[0].sandbox?.status).toBe('timeout');
    expect(rulesOf(r, 'hostile/cpu_spin.py')).toEqual(['DG950']);
    expect(r.findings[0].message).toContain('whole sandbox run');
  }, 60_000);

  it('a container that dies mid-run is replaced: files without a verdict run again, no file is lost', async () => {
    const created: Docker.Container[] = [];
    const r = await runSandbox(['attacks/slow_exec.py', 'clean/classic_dag.py', 'clean/taskflow_dag.py'].map(fx), {
      ...base,
      timeoutSec: 30,
      cpus: 1,
      onContainer: (c) => void created.push(c),
      // the first container dies (as gVisor's Sentry did: "container exit 2") while slow_exec is being parsed
      onEvent: (p) => {
        if (p === 'attacks/slow_exec.py' && created.length === 1) void created[0].kill({ signal: 'SIGKILL' }).catch(() => undefined);
      },
    });
    expect(created.length).toBe(2);
    expect(byPath(r, 'attacks/slow_exec.py').sandbox?.status).toBe('flagged'); // its verdict comes from the second run
    expect(rulesOf(r, 'attacks/slow_exec.py')).toEqual(['DG905']);
    expect(byPath(r, 'attacks/slow_exec.py').dags).toEqual(['slow_exec']);
    for (const p of ['clean/classic_dag.py', 'clean/taskflow_dag.py']) expect(byPath(r, p).sandbox?.status, p).toBe('clean');
  }, 180_000);

  it('an unknown --runtime is a SandboxUnavailableError naming the fix', async () => {
    const p = runSandbox([fx('clean/classic_dag.py')], { ...base, timeoutSec: 5, runtime: 'dag-guard-no-such-runtime' });
    await expect(p).rejects.toThrow(SandboxUnavailableError);
    await expect(p).rejects.toThrow(/runsc install/);
  });

  it('removes stale labelled containers of dead dag-guard processes', async () => {
    const docker = new Docker();
    const c = await docker.createContainer({
      Image: IMAGE,
      Cmd: ['true'],
      Labels: { [SANDBOX_LABEL]: '1', 'dag-guard.pid': '999999', 'dag-guard.host': os.hostname() },
    });
    await removeStaleContainers(docker);
    await expect(c.inspect()).rejects.toThrow();
  });

  it('Ctrl-C (SIGINT) during a run removes the container', async () => {
    const dist = path.resolve(__dirname, '../../dist/src/sandbox/index.js');
    execFileSync('test', ['-f', dist]);
    const script = `require(${JSON.stringify(dist)}).runSandbox([${JSON.stringify(fx('hostile/cpu_spin.py'))}], {image: ${JSON.stringify(IMAGE)}, timeoutSec: 60, root: ${JSON.stringify(FIXTURES)}, cwd: ${JSON.stringify(FIXTURES)}}).then(() => process.exit(0))`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    while ((await labelledContainers(child.pid)).length === 0) {
      if (Date.now() > deadline) throw new Error('sandbox container never appeared');
      // Poll fast: the signal then often lands while the child's create request is still in flight (the engine
      // lists the container before the child knows its id), the window in which a container used to leak.
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(130);
    expect(await labelledContainers(child.pid)).toEqual([]);
  }, 60_000);
});

// The harness's fallback without Airflow (plain import + discovery of DAG-shaped objects), on the plain Debian
// python3 image that sandbox/build-test-image.sh also builds.
const PLAIN_IMAGE = process.env.DAG_GUARD_SANDBOX_IMAGE_PLAIN ?? 'dag-guard-sandbox:plain';
const plain = await engineStatus(PLAIN_IMAGE);
dockerDescribe(plain)('sandbox without Airflow in the image', () => {
  it('finds DAG-shaped objects by plain import and still records hostile behaviour', async () => {
    const r = await runSandbox([fx('plain/fake_dag.py'), fx('plain/plain_dns.py')], { ...base, image: PLAIN_IMAGE, timeoutSec: 30 });
    expect(byPath(r, 'plain/fake_dag.py').dags).toEqual(['plain_pipeline']);
    expect(byPath(r, 'plain/fake_dag.py').sandbox?.status).toBe('clean');
    expect(byPath(r, 'plain/plain_dns.py').sandbox?.status).toBe('forbidden-syscall'); // the lookup's socket: SIGSYS
    expect(rulesOf(r, 'plain/plain_dns.py')).toEqual(['DG902', 'DG904', 'DG909']);
  });
});
