#!/usr/bin/env node
'use strict';
/**
 * dag-guard sandbox benchmark (docs/sandbox.md#benchmark). Needs the build (`npm run build`), a Docker engine and the
 * sandbox image (`bash sandbox/build-test-image.sh`).
 *
 *   node bench/sandbox.js [--files 100] [--large 1000] [--runs 3] [--image dag-guard-sandbox:local] [--runtime runsc]
 *                         [--venv DIR] [--wheels DIR]
 *
 * Measures in one run, medians of --runs:
 *   1. container overhead: create -> start -> wait -> remove of a hardened container running `true`
 *   2. fixed sandbox overhead: runSandbox() on ONE trivial DAG file (container + Python + Airflow import + harness)
 *   3. runSandbox() on a generated folder of N realistic DAG files (classic, TaskFlow, factories): wall, files/s
 *   4. the same folder parsed by Airflow's own DagBag directly on the host (fresh python process, incl. `import airflow`),
 *      from a venv installed offline from the same wheels the image uses
 *   5. runSandbox() on --large files (default 1000; 0 skips): the per-file cost (large - N) / (large - N files), which
 *      must not grow with the number of files (target <= 20 ms)
 * and prints the ratios against the issue's targets (sandbox <= 2x host DagBag for 100 files; <= 3 s fixed overhead).
 * No network: the host venv is built with `pip install --no-index --find-links <wheels>`.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i < 0 ? dflt : argv[i + 1];
};
const N = Number(opt('--files', 100));
const RUNS = Number(opt('--runs', 3));
const LARGE = Number(opt('--large', 1000));
const RUNTIME = opt('--runtime', undefined);
const IMAGE = opt('--image', 'dag-guard-sandbox:local');
const AIRFLOW_VERSION = process.env.AIRFLOW_VERSION || '3.1.8';
const STD_VERSION = process.env.PROVIDERS_STANDARD_VERSION || '1.21.0';
const CACHE = process.env.DAG_GUARD_CACHE || '/var/cache/dag-guard';
const WHEELS = opt('--wheels', path.join(CACHE, `wheels-airflow-${AIRFLOW_VERSION}-std-${STD_VERSION}`));
const VENV = opt('--venv', path.join(CACHE, `bench-venv-${AIRFLOW_VERSION}`));

const sandbox = require(path.join(ROOT, 'dist', 'src', 'sandbox', 'index.js'));
const Docker = require('dockerode');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

function genCorpus(dir, n) {
  return genCorpusImpl(dir, n);
}

function genCorpusImpl(dir, n) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'dags'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'common'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'common', 'factory.py'),
    `from datetime import datetime, timedelta
from airflow import DAG
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.operators.empty import EmptyOperator

DEFAULT_ARGS = {"owner": "data", "retries": 2, "retry_delay": timedelta(minutes=5)}

def make(name, tables, schedule="@daily"):
    dag = DAG(dag_id=name, start_date=datetime(2024, 1, 1), schedule=schedule, catchup=False,
              default_args=DEFAULT_ARGS, tags=["factory"])
    start = EmptyOperator(task_id="start", dag=dag)
    for t in tables:
        start >> PythonOperator(task_id=f"load_{t}", python_callable=print, op_args=[t], dag=dag)
    return dag
`,
  );
  const files = [];
  for (let i = 0; i < n; i++) {
    let src;
    if (i % 3 === 0) {
      src = `"""Classic ETL DAG ${i}."""
from datetime import datetime, timedelta
from airflow import DAG
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator

def transform(**context):
    return context["ds"]

with DAG(dag_id="etl_${i}", start_date=datetime(2024, 1, 1), schedule="0 ${i % 24} * * *", catchup=False,
         default_args={"owner": "etl", "retries": 1, "retry_delay": timedelta(minutes=3)}, tags=["etl"]) as dag:
    start = EmptyOperator(task_id="start")
    extract = BashOperator(task_id="extract", bash_command="echo extracting {{ ds }}")
    steps = [PythonOperator(task_id=f"transform_{k}", python_callable=transform) for k in range(${(i % 5) + 2})]
    end = EmptyOperator(task_id="end")
    start >> extract >> steps >> end
`;
    } else if (i % 3 === 1) {
      src = `"""TaskFlow DAG ${i}."""
from datetime import datetime
from airflow.sdk import dag, task

@dag(dag_id="taskflow_${i}", start_date=datetime(2024, 1, 1), schedule="@hourly", catchup=False, tags=["taskflow"])
def pipeline():
    @task
    def extract():
        return list(range(${i % 7 + 3}))

    @task
    def transform(rows: list):
        return [r * 2 for r in rows]

    @task
    def load(rows: list):
        print(len(rows))

    load(transform(extract()))

pipeline()
`;
    } else {
      src = `"""Dynamic factory DAGs ${i}."""
from common.factory import make

for name, tables in {"sales_${i}": ["orders", "refunds"], "crm_${i}": ["contacts", "leads", "accounts"]}.items():
    globals()[name] = make(name, tables)
`;
    }
    const p = path.join(dir, 'dags', `dag_${String(i).padStart(4, '0')}.py`);
    fs.writeFileSync(p, src);
    files.push(p);
  }
  return files;
}

function ensureVenv() {
  const py = path.join(VENV, 'bin', 'python');
  const ok = fs.existsSync(py) && spawnSync(py, ['-c', 'import airflow'], { stdio: 'ignore' }).status === 0;
  if (ok) return py;
  if (!fs.existsSync(WHEELS)) throw new Error(`wheels not found at ${WHEELS}: run bash sandbox/build-test-image.sh first`);
  console.error(`installing apache-airflow ${AIRFLOW_VERSION} into ${VENV} (offline, from ${WHEELS})`);
  spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  const r = spawnSync(
    path.join(VENV, 'bin', 'pip'),
    ['install', '-q', '--no-index', '--find-links', WHEELS, `apache-airflow==${AIRFLOW_VERSION}`, `apache-airflow-providers-standard==${STD_VERSION}`],
    { stdio: 'inherit', env: { ...process.env, PIP_FIND_LINKS: '' } },
  );
  if (r.status !== 0) throw new Error('venv install failed');
  return py;
}

function hostDagBag(py, dir) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-bench-airflow-'));
  const script = `
import time, sys
t0 = time.monotonic()
sys.path.insert(0, ${JSON.stringify(dir)})
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:
    from airflow.models.dagbag import DagBag
t1 = time.monotonic()
bag = DagBag(dag_folder=${JSON.stringify(path.join(dir, 'dags'))}, include_examples=False, safe_mode=False)
t2 = time.monotonic()
print(len(bag.dags), len(bag.import_errors), int((t1 - t0) * 1000), int((t2 - t1) * 1000))
`;
  const t = Date.now();
  const r = spawnSync(py, ['-c', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AIRFLOW_HOME: home,
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
      AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT: '0',
      AIRFLOW__LOGGING__LOGGING_LEVEL: 'ERROR',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${home}/airflow.db`,
      PYTHONDONTWRITEBYTECODE: '1',
    },
  });
  const wall = Date.now() - t;
  fs.rmSync(home, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`host DagBag failed: ${r.stderr.slice(-2000)}`);
  const [dags, errors, importMs, parseMs] = r.stdout.trim().split('\n').pop().split(' ').map(Number);
  return { wall, dags, errors, importMs, parseMs };
}

async function containerOverhead(docker) {
  const spec = sandbox.containerSpec({
    image: IMAGE, root: ROOT, memoryBytes: 1 << 30, cpus: 2, pidsLimit: 128, user: '50000:0', env: [],
    name: `dag-guard-bench-${process.pid}-${Date.now()}`,
  });
  spec._body.Entrypoint = ['true'];
  const t = Date.now();
  const c = await docker.createContainer(spec);
  try {
    const w = c.wait({ condition: 'next-exit' });
    await c.start();
    await w;
  } finally {
    await c.remove({ force: true });
  }
  return Date.now() - t;
}

async function main() {
  const dir = path.join(os.tmpdir(), 'dag-guard-bench-sandbox');
  const files = genCorpus(dir, N);
  const one = files[0];
  const bigDir = path.join(os.tmpdir(), 'dag-guard-bench-sandbox-large');
  const bigFiles = LARGE > N ? genCorpus(bigDir, LARGE) : [];
  const sb = { image: IMAGE, runtime: RUNTIME, timeoutSec: 60 };
  const docker = new Docker();
  const py = ensureVenv();
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`sandbox benchmark: ${N} files, ${RUNS} runs, image ${IMAGE}${RUNTIME ? ` (${RUNTIME})` : ''}, ${os.cpus().length} CPUs, load ${load()}`);

  const overhead = [], fixed = [], sandboxWall = [], host = [], large = [];
  let last;
  for (let r = 0; r < RUNS; r++) {
    overhead.push(await containerOverhead(docker));
    let t = Date.now();
    await sandbox.runSandbox([one], { ...sb, root: dir, cwd: dir });
    fixed.push(Date.now() - t);
    t = Date.now();
    last = await sandbox.runSandbox(files, { ...sb, root: dir, cwd: dir });
    sandboxWall.push(Date.now() - t);
    host.push(hostDagBag(py, dir));
    if (bigFiles.length) {
      t = Date.now();
      const r = await sandbox.runSandbox(bigFiles, { ...sb, root: bigDir, cwd: bigDir });
      large.push(Date.now() - t);
      const bad = r.files.filter((f) => !f.sandbox || f.sandbox.status !== 'clean').length;
      if (bad) console.log(`  (large run: ${bad} files not clean)`);
    }
  }
  const clean = last.files.filter((f) => f.sandbox && f.sandbox.status === 'clean').length;
  const sbDags = last.files.reduce((n, f) => n + f.dags.length, 0);
  const hostWall = median(host.map((h) => h.wall));
  const sbWall = median(sandboxWall);
  const rows = [
    ['container create->start->remove (true)', median(overhead)],
    ['sandbox fixed overhead (1 file, incl. Airflow import)', median(fixed)],
    [`sandbox ${N} files`, sbWall],
    [`host DagBag ${N} files (fresh python, incl. import)`, hostWall],
    ['  of which host `import airflow` + DagBag import', median(host.map((h) => h.importMs))],
    ['  of which host DagBag parse', median(host.map((h) => h.parseMs))],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(56)} ${fmt(v)}`);
  console.log(`sandbox files/s: ${(N / (sbWall / 1000)).toFixed(1)}   host DagBag files/s: ${(N / (hostWall / 1000)).toFixed(1)}`);
  console.log(`sandbox: ${clean}/${N} clean, ${sbDags} DAGs; host DagBag: ${host[0].dags} DAGs, ${host[0].errors} import errors`);
  const ratio = sbWall / hostWall;
  console.log(`ratio sandbox / host DagBag = ${ratio.toFixed(2)}x (target <= 2x) ${ratio <= 2 ? 'OK' : 'MISSED'}`);
  console.log(`fixed overhead = ${fmt(median(fixed))} (target <= 3 s) ${median(fixed) <= 3000 ? 'OK' : 'MISSED'}`);
  if (large.length) {
    const perFile = (median(large) - sbWall) / (LARGE - N);
    const perFile100 = (sbWall - median(fixed)) / (N - 1);
    console.log(`sandbox ${LARGE} files: ${fmt(median(large))}; per file ${perFile.toFixed(1)} ms between ${N} and ${LARGE} files ` +
      `(${perFile100.toFixed(1)} ms between 1 and ${N}) (target <= 20 ms) ${perFile <= 20 ? 'OK' : 'MISSED'}`);
  }
  console.log(`load after: ${load()}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
