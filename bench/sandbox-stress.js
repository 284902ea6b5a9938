#!/usr/bin/env node
'use strict';
/**
 * Stress test for issue 10, class 8 ("terminate called after throwing an instance of 'Napi::Error'", exit 134, no
 * report, in ~3 of 110 sandbox CLI runs). Runs the real CLI (`bin/dag-guard.js check --sandbox`) many times on a
 * tiny repository (one clean DAG, one hostile DAG, a directory argument so the static pass starts its worker pool
 * early, exactly like a CI run) and fails if any run dies of a signal, exits outside 0..3, prints a native abort,
 * or does not write a complete JSON report.
 *
 *   node bench/sandbox-stress.js [--runs 200] [--concurrency 4] [--image dag-guard-sandbox:local] [--runtime runsc]
 *
 * Needs the build (`npm run build`), a Docker engine and the image. CI runs it after the test suite; on 2 cores
 * 200 runs take about 4-6 minutes with --concurrency 4 (each run is one container of ~3 s, mostly waiting).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i < 0 ? dflt : argv[i + 1];
};
const RUNS = Number(opt('--runs', 200));
const CONC = Number(opt('--concurrency', 4));
const IMAGE = opt('--image', 'dag-guard-sandbox:local');
const RUNTIME = opt('--runtime', '');

function makeRepo() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-stress-'));
  fs.mkdirSync(path.join(dir, 'dags'));
  fs.writeFileSync(
    path.join(dir, 'dags', 'ok_dag.py'),
    `from datetime import datetime
from airflow import DAG
try:
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:
    from airflow.operators.empty import EmptyOperator

with DAG(dag_id="stress_ok", start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="t")
`,
  );
  fs.writeFileSync(
    path.join(dir, 'dags', 'net_dag.py'),
    `import socket
from datetime import datetime
from airflow import DAG

try:
    socket.create_connection(("203.0.113.7", 443), timeout=1)
except OSError:
    pass
with DAG(dag_id="stress_net", start_date=datetime(2024, 1, 1), schedule=None):
    pass
`,
  );
  return dir;
}

function once(dir, i) {
  return new Promise((resolve) => {
    const args = [path.join(ROOT, 'bin', 'dag-guard.js'), 'check', '--sandbox', '--image', IMAGE, '--format', 'json', 'dags'];
    if (RUNTIME) args.push('--runtime', RUNTIME);
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DAG_GUARD_DEBUG: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code, signal) => {
      let report = null;
      try {
        report = JSON.parse(out);
      } catch {
        /* counted below */
      }
      const flagged = report && report.findings.some((f) => f.path.endsWith('net_dag.py') && f.source === 'sandbox');
      resolve({ i, code, signal, abort: /terminate called|Napi::Error|Aborted/.test(err), report: Boolean(report), flagged, err: err.slice(-400) });
    });
  });
}

async function main() {
  const dir = makeRepo();
  const t0 = Date.now();
  const results = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (next < RUNS) {
        const i = next++;
        const r = await once(dir, i);
        results.push(r);
        if (r.signal || r.abort || r.code === null || r.code > 3 || !r.report || !r.flagged) {
          console.error(`run ${i}: exit ${r.code} signal ${r.signal} report=${r.report} flagged=${r.flagged}\n${r.err}`);
        }
      }
    }),
  );
  fs.rmSync(dir, { recursive: true, force: true });
  const hist = {};
  for (const r of results) hist[r.signal ?? r.code] = (hist[r.signal ?? r.code] ?? 0) + 1;
  const bad = results.filter((r) => r.signal || r.abort || r.code === null || r.code > 3 || !r.report || !r.flagged);
  console.log(`${RUNS} sandbox CLI runs in ${((Date.now() - t0) / 1000).toFixed(0)} s (concurrency ${CONC}): exit codes ${JSON.stringify(hist)}; bad runs: ${bad.length}`);
  process.exitCode = bad.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 3;
});
