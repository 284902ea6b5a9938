/**
 * Hostile DAGs against the real sandbox, for every entry of the image x runtime matrix (DAG_GUARD_SANDBOX_MATRIX,
 * see helpers.ts). Each test performs an attack of issue 10 (classes 1-8) or an older hostile sample and asserts the
 * finding. Many fixtures share one sandbox run per matrix entry (beforeAll), so the whole matrix stays affordable in
 * CI, gVisor's ptrace platform included.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideFromLines, runSandbox, type SandboxResult } from '../../src/sandbox';
import { dockerDescribe, FIXTURES, fx, labelledContainers, matrixStatus, runtimeOpt, sandboxMatrix, snapshotTree } from './helpers';

const byPath = (r: SandboxResult, p: string) => {
  const f = r.files.find((x) => x.path === p);
  if (!f) throw new Error(`no report for ${p}`);
  return f;
};
const rulesOf = (r: SandboxResult, p: string) => [...new Set(r.findings.filter((f) => f.path === p).map((f) => f.ruleId))].sort();

const CLEAN = ['clean/classic_dag.py', 'clean/taskflow_dag.py', 'clean/dynamic_factory.py', 'clean/uses_variable.py'];
const HOSTILE = [
  'net_connect', 'dns_lookup', 'subprocess_spawn', 'write_dag_folder', 'fork_bomb', 'memory_bomb', 'cpu_spin',
  'output_flood', 'forged_result', 'ctypes_syscalls', 'canary_exfil', 'dynamic_exec', 'kill_harness', 'segfault',
].map((n) => `hostile/${n}.py`);
const CANARY_FIELDS = ['dagid', 'tags', 'description', 'doc_md', 'params', 'stdout'];
// procfs_parent runs next to slow_victim (two children at a time): the victim must come out untouched
const ATTACKS = [
  'attacks/procfs_parent.py', 'attacks/slow_victim.py', 'attacks/syscall_ptrace.py', 'attacks/syscall_process_vm_readv.py',
  'attacks/syscall_pidfd.py', 'attacks/hook_reentry.py', 'attacks/forge_kind.py', 'attacks/event_flood.py',
  ...CANARY_FIELDS.map((f) => `attacks/canary_${f}.py`),
];

it('class 5: the runner turns unknown or prototype-named kinds and statuses into DG907, never a crash', () => {
  const nonce = crypto.randomBytes(32);
  const sign = (o: unknown) => {
    const json = JSON.stringify(o);
    return Buffer.from(`${json}\t${crypto.createHmac('sha256', nonce).update(json).digest('hex')}`);
  };
  const files = ['a.py', 'b.py', 'c.py', 'd.py'].map((n) => ({ host: path.join(FIXTURES, n), container: `/opt/airflow/dags/${n}` }));
  const lines = [
    sign({ type: 'hello' }),
    ...['constructor', '__proto__', 'toString', 'hasOwnProperty'].map((kind) => sign({ type: 'event', file: 0, event: { kind, detail: 'x' } })),
    sign({ type: 'event', file: 0, event: { kind: { nested: 1 } } }),
    sign({ type: 'done', file: 0, status: 'ok', dags: ['a'] }),
    sign({ type: 'done', file: 1, status: 'constructor', dags: [] }),
    sign({ type: 'done', file: 2, status: 'ok', dags: 'not-a-list' }),
    sign({ type: 'done', file: '__proto__', status: 'ok', dags: [] }),
    sign({ type: 'constructor', file: 3 }),
    sign({ type: 'done', file: 3, status: '__proto__', dags: [] }),
    ...Array.from({ length: 10_000 }, () => sign({ type: 'event', file: 3, event: { kind: 'tamper', detail: 'x'.repeat(300) } })),
    sign({ type: 'end' }),
  ];
  let r: SandboxResult | undefined;
  expect(() => (r = decideFromLines(lines, nonce, files, { cwd: FIXTURES, timeoutSec: 5 }))).not.toThrow();
  for (const n of ['a.py', 'b.py', 'c.py', 'd.py']) {
    expect(rulesOf(r!, n), n).toContain('DG907');
    expect(byPath(r!, n).sandbox?.status, n).not.toBe('clean');
  }
  expect(byPath(r!, 'd.py').sandbox?.events.length).toBeLessThanOrEqual(40); // per-kind cap on the host side too
});

for (const entry of sandboxMatrix()) {
  const status = await matrixStatus(entry);
  const runtime = runtimeOpt(entry);
  // gVisor's ptrace platform is several times slower: the memory bomb needs longer to reach the OOM killer
  const timeoutSec = entry.runtime === 'runsc' ? 30 : 12;

  dockerDescribe(status)(`hostile DAGs against ${entry.name}`, () => {
    let before: Map<string, string>;
    let r: SandboxResult;
    let peakGrowth = 0;
    const streamed: Array<{ path: string; kind: string; at: number }> = [];
    let finished = 0;

    beforeAll(async () => {
      before = snapshotTree(FIXTURES);
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
      try {
        r = await runSandbox([...HOSTILE, ...ATTACKS, ...CLEAN].map(fx), {
          image: entry.image,
          runtime,
          root: FIXTURES,
          cwd: FIXTURES,
          timeoutSec,
          onEvent: (p, ev) => streamed.push({ path: p, kind: ev.kind, at: Date.now() }),
        });
      } finally {
        clearInterval(sampler);
      }
      finished = Date.now();
      peakGrowth = peak - rss0;
      // DAG_GUARD_TEST_DUMP=dir: keep the whole result per matrix entry for diagnosis
      if (process.env.DAG_GUARD_TEST_DUMP) {
        fs.writeFileSync(path.join(process.env.DAG_GUARD_TEST_DUMP, `${entry.name.replace(/[^\w.-]+/g, '_')}.json`), JSON.stringify(r, null, 1));
      }
    }, 600_000);

    afterAll(async () => {
      expect(snapshotTree(FIXTURES)).toEqual(before); // no hostile DAG changed a host file
      expect(await labelledContainers()).toEqual([]); // and no container was left behind
    });

    it('the run completes: every file has its own verdict, clean files stay clean with their DAG ids', () => {
      expect(r.errors).toEqual([]);
      expect(r.files.length).toBe(HOSTILE.length + ATTACKS.length + CLEAN.length);
      expect(byPath(r, 'clean/classic_dag.py').dags).toEqual(['classic_etl']);
      expect(byPath(r, 'clean/taskflow_dag.py').dags).toEqual(['taskflow_pipeline']);
      expect(byPath(r, 'clean/dynamic_factory.py').dags).toEqual(['factory_crm', 'factory_ops', 'factory_sales']);
      expect(byPath(r, 'clean/uses_variable.py').dags).toEqual(['vars_True']);
      for (const p of CLEAN) {
        expect(byPath(r, p).sandbox?.status, p).toBe('clean');
        expect(rulesOf(r, p), p).toEqual([]);
      }
    });

    it('older hostile samples: each is flagged with its rule (network/exec/fork now end with SIGSYS: DG909)', () => {
      const expected: Record<string, string[]> = {
        'hostile/net_connect.py': ['DG901', 'DG909'],
        'hostile/dns_lookup.py': ['DG902', 'DG909'],
        'hostile/subprocess_spawn.py': ['DG903', 'DG909'],
        'hostile/write_dag_folder.py': ['DG904'],
        'hostile/fork_bomb.py': ['DG903', 'DG909'],
        'hostile/memory_bomb.py': ['DG951'],
        'hostile/cpu_spin.py': ['DG950'],
        'hostile/output_flood.py': ['DG953'],
        'hostile/forged_result.py': ['DG907'],
        'hostile/ctypes_syscalls.py': ['DG906', 'DG909'],
        'hostile/canary_exfil.py': ['DG902', 'DG908'],
        'hostile/dynamic_exec.py': ['DG905'],
        'hostile/kill_harness.py': ['DG907'],
        'hostile/segfault.py': ['DG962'],
      };
      for (const [p, ids] of Object.entries(expected)) {
        const file = byPath(r, p);
        expect(file.sandbox?.status, p).not.toBe('clean');
        expect(rulesOf(r, p), p).toEqual(expect.arrayContaining(ids));
        expect(file.dags, p).not.toContain('innocent');
      }
      expect(byPath(r, 'hostile/cpu_spin.py').sandbox?.status).toBe('timeout');
      expect(byPath(r, 'hostile/memory_bomb.py').sandbox?.status).toBe('oom');
      expect(byPath(r, 'hostile/output_flood.py').sandbox?.status).toBe('output-cap');
      expect(byPath(r, 'hostile/fork_bomb.py').sandbox?.status).toBe('forbidden-syscall');
      expect(byPath(r, 'hostile/segfault.py').sandbox?.status).toBe('crashed');
      const w = r.findings.find((f) => f.path === 'hostile/write_dag_folder.py' && f.ruleId === 'DG904')!;
      expect(w.line).toBeGreaterThan(1); // events carry the DAG line that did it
      expect(r.findings.find((f) => f.ruleId === 'DG908')!.message).toMatch(/dgcanary[0-9a-f]{12}/);
      // events are streamed while the run is still going (cpu_spin alone keeps it busy for timeoutSec)
      const dns = streamed.find((e) => e.path === 'hostile/dns_lookup.py' && e.kind === 'dns');
      expect(dns).toBeDefined();
      expect(finished - dns!.at).toBeGreaterThan(1000);
    });

    it('class 1: a child cannot read the parent (/proc/<ppid>/mem by path and dir_fd, fd), write its channel, stop it or a sibling', () => {
      const f = byPath(r, 'attacks/procfs_parent.py');
      expect(f.dags.length).toBe(1);
      // procfs_<mem by path>_<mem by dir_fd>_<environ>_<fd list>_<write parent stdout>_<kill STOP>_<kill 0>_sib...
      const [, memPath, memDirFd, environ, fdList, writeOut, killStop, kill0, sib] = f.dags[0].split('_');
      expect(['D', '13']).toContain(memPath); // the hook refuses first; the kernel (EACCES) would too
      expect(memDirFd).toBe('13'); // the dir_fd trick of issue 10: the kernel says EACCES (other uid)
      expect(writeOut).toBe('13');
      expect(killStop).toBe('1'); // EPERM: the child has another uid and no CAP_KILL
      expect(kill0).toBe('1');
      expect(sib).toBe('sibdenied'); // no SIGSTOP to the sibling, no write into any process's pipes
      if (entry.runtime === 'runc') {
        expect(environ).toBe('13');
        expect(fdList).toBe('13');
      } // gVisor's procfs shows other processes' environ and fd list (docs/sandbox.md#gvisor): nothing secret there
      expect(f.sandbox?.status).not.toBe('clean');
      expect(rulesOf(r, 'attacks/procfs_parent.py')).toEqual(expect.arrayContaining(['DG906', 'DG907']));
      // the victim that ran next to it is untouched and clean
      expect(byPath(r, 'attacks/slow_victim.py').sandbox?.status).toBe('clean');
      expect(byPath(r, 'attacks/slow_victim.py').dags).toEqual(['slow_victim']);
    });

    it('class 1: ptrace attach, process_vm_readv and pidfd_open+pidfd_send_signal on the parent end the child with SIGSYS', () => {
      for (const n of ['ptrace', 'process_vm_readv', 'pidfd']) {
        const p = `attacks/syscall_${n}.py`;
        expect(byPath(r, p).sandbox?.status, p).toBe('forbidden-syscall');
        expect(rulesOf(r, p), p).toContain('DG909');
        expect(byPath(r, p).dags, p).toEqual([]);
      }
    });

    it('class 3: code run from an argument the hook would have inspected (__fspath__/__repr__) is still seen and stopped', () => {
      const p = 'attacks/hook_reentry.py';
      expect(byPath(r, p).sandbox?.status).toBe('forbidden-syscall');
      expect(rulesOf(r, p)).toEqual(expect.arrayContaining(['DG902', 'DG909']));
    });

    it('class 5: forged events of kind "constructor" and a forged result make the file DG907, not the runner crash', () => {
      const f = byPath(r, 'attacks/forge_kind.py');
      expect(f.sandbox?.status).toBe('tampered');
      expect(f.dags).not.toContain('forged_clean');
      expect(rulesOf(r, 'attacks/forge_kind.py')).toContain('DG907');
    });

    it('class 6: a canary copied into dag_id, tags, description (hex), doc_md, params or stdout is DG908', () => {
      for (const field of CANARY_FIELDS) {
        const p = `attacks/canary_${field}.py`;
        expect(rulesOf(r, p), p).toContain('DG908');
        expect(byPath(r, p).sandbox?.status, p).toBe('flagged');
      }
    });

    it('class 7: an event flood of every kind is capped per kind and file; host memory stays < 200 MB above start', () => {
      const f = byPath(r, 'attacks/event_flood.py');
      expect(f.sandbox?.status).toBe('flagged');
      const perKind = new Map<string, number>();
      for (const ev of f.sandbox?.events ?? []) perKind.set(ev.kind, (perKind.get(ev.kind) ?? 0) + 1);
      for (const k of ['write', 'delete', 'connect', 'spawn', 'exec', 'ctypes', 'tamper', 'exfiltration']) {
        expect(perKind.get(k) ?? 0, k).toBeGreaterThan(0);
        expect(perKind.get(k), k).toBeLessThanOrEqual(40);
      }
      expect(peakGrowth).toBeLessThan(200 * 1024 * 1024); // the 4 GiB output flood ran in the same run
    });
  });

  // A second run per matrix entry on a generated root (bytecode compiled by the image's own interpreter), one file
  // at a time so that "the next child" is well defined.
  dockerDescribe(status)(`generated repository against ${entry.name}`, () => {
    let dir: string;
    let r: SandboxResult;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-sandbox-gen-'));
      execFileSync('docker', ['run', '--rm', '--network', 'none', '--user', '0:0', '--entrypoint', 'python3',
        '-v', `${dir}:/w`, '-v', `${path.join(__dirname, 'generated')}:/gen:ro`, entry.image, '/gen/make_root.py', '/w/root'], { stdio: 'pipe' });
      const root = path.join(dir, 'root');
      const files = ['ls_probe.py', 'pyc_dag.py', 'sourceless_user.py', 'zip_clean.zip', 'zip_hostile.zip', 'zip_pyc.zip', 'leftovers.py', 'leftovers_check.py'];
      r = await runSandbox(files.map((f) => path.join(root, f)), { image: entry.image, runtime, root, cwd: root, timeoutSec, cpus: 1 });
    }, 600_000);
    afterAll(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('class 2: airflow_local_settings from the repo runs only in a child (never uid 0, never the verdict process)', () => {
      expect(r.errors).toEqual([]);
      const f = byPath(r, 'ls_probe.py');
      expect(f.sandbox?.status).toBe('clean');
      expect(f.dags).toHaveLength(1);
      expect(Number(f.dags[0].replace('ls_probe_', ''))).toBeGreaterThanOrEqual(200000);
      // had it run in the parent, it would have replaced the verdict function and this would say "clean"
      expect(byPath(r, 'zip_hostile.zip').sandbox?.status).toBe('forbidden-syscall');
    });

    it('class 4: a hostile unchecked-hash __pycache__ .pyc beside a benign .py is ignored; a sourceless .pyc does not import', () => {
      expect(byPath(r, 'pyc_dag.py').dags).toEqual(['pyc_source']);
      expect(byPath(r, 'pyc_dag.py').sandbox?.status).toBe('clean');
      expect(rulesOf(r, 'sourceless_user.py')).toEqual(['DG960']);
    });

    it('zip DAGs: top-level members are imported as DagBag does, from source; findings name the zip', () => {
      expect(byPath(r, 'zip_clean.zip').dags).toEqual(['zipped_clean']);
      expect(byPath(r, 'zip_clean.zip').sandbox?.status).toBe('clean');
      expect(rulesOf(r, 'zip_hostile.zip')).toEqual(expect.arrayContaining(['DG901', 'DG909']));
      expect(byPath(r, 'zip_pyc.zip').dags).toEqual(['zipped_source']);
    });

    it('nothing one child leaves (thread, /tmp and /dev/shm files, its tmpdir) reaches the next child', () => {
      expect(rulesOf(r, 'leftovers.py')).toContain('DG904'); // the /dev/shm write is outside /tmp
      expect(byPath(r, 'leftovers_check.py').dags).toEqual(['left_0_0_0_0']);
    });
  });
}

describe('sandboxMatrix()', () => {
  it('parses image@runtime lists and defaults to the local image under runc', async () => {
    const { sandboxMatrix: m } = await import('./helpers');
    expect(m('a:1@runc, b:2@runsc,c@runc')).toEqual([
      { image: 'a:1', runtime: 'runc', name: 'a:1@runc' },
      { image: 'b:2', runtime: 'runsc', name: 'b:2@runsc' },
      { image: 'c', runtime: 'runc', name: 'c@runc' },
    ]);
    expect(m('')[0].runtime).toBe('runc');
  });
});
