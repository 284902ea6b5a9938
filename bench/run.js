#!/usr/bin/env node
'use strict';
/**
 * dag-guard static benchmark (see bench/README.md). Needs the build (`npm run build`).
 *
 *   node bench/run.js CORPUS_DIR [--runs 3] [--workers N] [--bandit-runs N] [--no-bandit] [--no-ruff] [--ruff PATH]
 *                                [--bandit PATH] [--one-file FILE] [--one-file-runs 7] [--json OUT]
 *
 * Every measurement runs in a fresh child process and is repeated, the rows interleaved round by round; the median
 * is reported, and the dag-guard / parse ratio of each round.
 * Its only network use: installing bandit from PyPI into a cached venv (BANDIT_VENV, default
 * $TMPDIR/dag-guard-bench-venv) when no --bandit is given and none is on PATH.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const argv = process.argv.slice(2);
function opt(name, dflt) {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
}
function flag(name) {
  const i = argv.indexOf(name);
  if (i < 0) return false;
  argv.splice(i, 1);
  return true;
}
const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
const RUNS = parseInt(opt('--runs', '3'), 10);
const WORKERS = parseInt(opt('--workers', String(cores)), 10);
const BANDIT_RUNS = parseInt(opt('--bandit-runs', String(RUNS)), 10);
const ONE_FILE_RUNS = parseInt(opt('--one-file-runs', '7'), 10);
let banditBin = opt('--bandit', null);
const oneFileArg = opt('--one-file', null);
const jsonOut = opt('--json', null);
const noBandit = flag('--no-bandit');
const noRuff = flag('--no-ruff');
const corpus = argv[0] && path.resolve(argv[0]);
if (!corpus || !fs.existsSync(corpus)) {
  process.stderr.write('usage: node bench/run.js CORPUS_DIR [--runs N] [--workers N] [--no-bandit] [--bandit PATH]\n');
  process.exit(2);
}
if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'check.js'))) {
  process.stderr.write('bench: dist/ is missing: run `npm run build` first\n');
  process.exit(2);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const log = (s) => process.stderr.write(s + '\n');
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/** Runs argv under /usr/bin/time (peak RSS) when available; returns {ms, rssMB, stdout, status}. */
const HAVE_TIME = fs.existsSync('/usr/bin/time');
function timed(cmd, args, opts = {}) {
  const tfile = path.join(os.tmpdir(), `dg-bench-time-${process.pid}.txt`);
  const full = HAVE_TIME ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', tfile, cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0], full[1], { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  let rssMB = null;
  let cpuMs = null;
  if (HAVE_TIME) {
    try {
      const [m, u, sy] = fs.readFileSync(tfile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      rssMB = +(m / 1024).toFixed(1);
      cpuMs = Math.round((u + sy) * 1000);
      fs.unlinkSync(tfile);
    } catch {
      /* no number */
    }
  }
  if (r.error) throw r.error;
  return { ms, rssMB, cpuMs, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function measure(mode, target, workers) {
  const r = timed(process.execPath, [path.join(__dirname, 'measure.js'), mode, target, String(workers)]);
  if (r.status !== 0) throw new Error(`measure ${mode} failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  out.processMs = r.ms;
  out.cpuMs = r.cpuMs;
  if (r.rssMB) out.maxRssMB = r.rssMB;
  return out;
}

function repeat(label, n, fn) {
  const rs = [];
  for (let i = 0; i < n; i++) {
    const r = fn();
    log(`  ${label} run ${i + 1}/${n}: ${r.ms.toFixed(0)} ms wall, ${r.cpuMs ?? '?'} ms CPU (load ${loadavg()})`);
    rs.push(r);
  }
  return summarize(rs);
}

/**
 * Several measurements, interleaved: round after round, every measurement once, in a rotated order. On a shared
 * machine a burst of load then hits every row alike instead of all the runs of one row, and the ratio of two rows
 * can be taken per round (`roundRatios`).
 */
function interleave(n, specs) {
  const runs = Object.fromEntries(specs.map((s) => [s.key, []]));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < specs.length; k++) {
      const s = specs[(i + k) % specs.length];
      const r = s.fn();
      log(`  ${s.label} run ${i + 1}/${n}: ${r.ms.toFixed(0)} ms wall, ${r.cpuMs ?? '?'} ms CPU (load ${loadavg()})`);
      runs[s.key].push(r);
    }
  }
  return runs;
}

function roundRatios(a, b) {
  return a.map((r, i) => r.ms / b[i].ms);
}

function summarize(rs) {
  const ms = median(rs.map((r) => r.ms));
  return {
    ...rs[0],
    ms,
    minMs: Math.min(...rs.map((r) => r.ms)),
    cpuMs: rs.every((r) => r.cpuMs != null) ? median(rs.map((r) => r.cpuMs)) : null,
    runs: rs.map((r) => Math.round(r.ms)),
    maxRssMB: Math.max(...rs.map((r) => r.maxRssMB || 0)),
  };
}

/** A Python tool (bandit, ruff) on PATH, else installed from PyPI into the cached venv (the only network use). */
function ensureTool(name) {
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  const venv = process.env.BANDIT_VENV || path.join(os.tmpdir(), 'dag-guard-bench-venv');
  const bin = path.join(venv, 'bin', name);
  if (fs.existsSync(bin)) return bin;
  log(`installing ${name} into ${venv} (the benchmark's only network use)…`);
  if (!fs.existsSync(path.join(venv, 'bin', 'pip'))) {
    const r = spawnSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('python3 -m venv failed');
  }
  const r = spawnSync(path.join(venv, 'bin', 'pip'), ['install', '-q', name], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`pip install ${name} failed`);
  return bin;
}

function ensureBandit() {
  return banditBin || ensureTool('bandit');
}

// ---- files: exactly what dag-guard scans (its discovery), for the bare parse too
log(`corpus ${corpus}; ${cores} cores, workers ${WORKERS}, runs ${RUNS}; load ${loadavg()}`);
const listScript = `const {discover}=require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'discover'))});
const {resolveConfig}=require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'config'))});
const d=${JSON.stringify(corpus)};const c=resolveConfig(null,d,d);
const r=discover({paths:[d],cwd:d,include:[],exclude:[],airflowignore:c.airflowignore,airflowignoreSyntax:c.airflowignoreSyntax});
process.stdout.write(r.files.map(f=>f.abs).join('\\n'))`;
const listed = spawnSync(process.execPath, ['-e', listScript], { encoding: 'utf8', maxBuffer: 1 << 30 });
if (listed.status !== 0) throw new Error(listed.stderr);
const files = listed.stdout.split('\n').filter(Boolean);
const listFile = path.join(os.tmpdir(), `dg-bench-files-${process.pid}.txt`);
fs.writeFileSync(listFile, files.join('\n') + '\n');
const bytes = files.reduce((s, f) => s + fs.statSync(f).size, 0);
const MB = bytes / 1e6;
log(`${files.length} files, ${MB.toFixed(2)} MB`);

const results = {
  date: new Date().toISOString(),
  node: process.version,
  cores,
  cpu: os.cpus()[0]?.model,
  loadBefore: loadavg(),
  corpus,
  files: files.length,
  MB: +MB.toFixed(2),
  rows: {},
};

// warm the page cache once
for (const f of files) fs.readFileSync(f);

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-bench-cache-'));
function cli(extra) {
  const r = timed(process.execPath, [path.join(ROOT, 'bin', 'dag-guard.js'), 'check', '--no-config', '-f', 'json', ...extra, corpus], { cwd: corpus });
  if (r.status !== 0 && r.status !== 1) throw new Error(`dag-guard CLI exited ${r.status}: ${r.stderr}`);
  const rep = JSON.parse(r.stdout);
  return { ms: r.ms, cpuMs: r.cpuMs, maxRssMB: r.rssMB, files: rep.summary.filesScanned, findings: rep.findings.length };
}
/** ruff's native binary, security rules only, no cache: the warm-run target of issue 12. */
let ruffBin = noRuff ? null : opt('--ruff', null);
if (!noRuff && !ruffBin) {
  try {
    ruffBin = ensureTool('ruff');
  } catch (e) {
    log(`ruff skipped: ${e.message}`);
  }
}
function ruff() {
  const r = timed(ruffBin, ['check', '--no-cache', '--isolated', '--select', 'S', '--exit-zero', '--output-format', 'json', corpus], { cwd: corpus });
  if (r.status !== 0) throw new Error(`ruff exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  return { ms: r.ms, cpuMs: r.cpuMs, maxRssMB: r.rssMB, files: NaN, findings: JSON.parse(r.stdout).length };
}
cli(['--cache-dir', cacheDir]); // fills the cache: every measured warm run is warm
log(`bare parse x1 / x${WORKERS}, dag-guard check (in-process runCheck) x1 / x${WORKERS}, dag-guard CLI (automatic workers) cold and warm, ruff: interleaved`);
const raw = interleave(RUNS, [
  { key: 'parse1', label: 'parse x1', fn: () => measure('parse', listFile, 1) },
  { key: 'parseN', label: `parse x${WORKERS}`, fn: () => measure('parse', listFile, WORKERS) },
  { key: 'check1', label: 'check x1', fn: () => measure('check', corpus, 1) },
  { key: 'checkN', label: `check x${WORKERS}`, fn: () => measure('check', corpus, WORKERS) },
  { key: 'checkAllN', label: `check x${WORKERS} --check-syntax`, fn: () => measure('check-all', corpus, WORKERS) },
  { key: 'cli', label: 'cli --no-cache (cold)', fn: () => cli(['--no-cache']) },
  { key: 'cliWarm', label: 'cli warm cache', fn: () => cli(['--cache-dir', cacheDir]) },
  ...(ruffBin ? [{ key: 'ruff', label: 'ruff --no-cache --select S', fn: () => ruff() }] : []),
]);
for (const [k, rs] of Object.entries(raw)) results.rows[k] = summarize(rs);
results.roundRatios = {
  checkN_parseN: roundRatios(raw.checkN, raw.parseN),
  checkAllN_parseN: roundRatios(raw.checkAllN, raw.parseN),
  check1_parse1: roundRatios(raw.check1, raw.parse1),
};

if (!noBandit) {
  try {
    banditBin = ensureBandit();
    const ver = spawnSync(banditBin, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
    results.banditVersion = ver;
    log(`bandit -r -q -f json (${ver})`);
    results.rows.bandit = repeat('bandit', BANDIT_RUNS, () => {
      const r = timed(banditBin, ['-r', '-q', '-f', 'json', '-o', path.join(os.tmpdir(), `dg-bench-bandit-${process.pid}.json`), corpus]);
      if (r.status !== 0 && r.status !== 1) throw new Error(`bandit exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
      let n = null;
      let findings = null;
      try {
        const rep = JSON.parse(fs.readFileSync(path.join(os.tmpdir(), `dg-bench-bandit-${process.pid}.json`), 'utf8'));
        n = Object.keys(rep.metrics || {}).filter((k) => k !== '_totals').length;
        findings = rep.results.length;
      } catch {
        /* keep timings */
      }
      return { ms: r.ms, cpuMs: r.cpuMs, maxRssMB: r.rssMB, files: n, findings };
    });
  } catch (e) {
    log(`bandit skipped: ${e.message}`);
  }
}

// ---- one-file run: the pre-commit case, whole CLI process wall time
const oneFile = oneFileArg
  ? path.resolve(oneFileArg)
  : [...files].map((f) => [f, fs.statSync(f).size]).sort((a, b) => a[1] - b[1])[Math.floor(files.length / 2)][0];
log(`one-file CLI run: ${oneFile}`);
const nodeOnly = [];
const oneRuns = [];
for (let i = 0; i < ONE_FILE_RUNS; i++) {
  nodeOnly.push(timed(process.execPath, ['-e', '0']).ms);
  const r = timed(process.execPath, [path.join(ROOT, 'bin', 'dag-guard.js'), 'check', '--no-config', oneFile]);
  if (r.status !== 0 && r.status !== 1) throw new Error(`dag-guard exited ${r.status}: ${r.stderr}`);
  oneRuns.push(r);
}
results.oneFile = {
  file: oneFile,
  bytes: fs.statSync(oneFile).size,
  ms: median(oneRuns.map((r) => r.ms)),
  runs: oneRuns.map((r) => Math.round(r.ms)),
  maxRssMB: Math.max(...oneRuns.map((r) => r.rssMB || 0)),
  nodeStartupMs: median(nodeOnly),
};
results.loadAfter = loadavg();

// ---- report
const rows = results.rows;
const line = (name, r, w) => {
  if (!r) return;
  const s = r.ms / 1000;
  const cells = [
    String(w).padStart(7),
    s.toFixed(2).padStart(8),
    (r.minMs / 1000).toFixed(2).padStart(7),
    r.cpuMs != null ? (r.cpuMs / 1000).toFixed(2).padStart(7) : '      ?',
    (files.length / s).toFixed(0).padStart(8),
    (MB / s).toFixed(2).padStart(7),
    String(r.maxRssMB ?? '').padStart(7),
  ];
  process.stdout.write(`${name.padEnd(44)} ${cells.join(' ')}\n`);
};
process.stdout.write(`\ndag-guard static benchmark — ${results.date}, node ${results.node}, ${cores} cores (${results.cpu})\n`);
process.stdout.write(`corpus: ${corpus}: ${files.length} files, ${MB.toFixed(2)} MB; load avg before ${results.loadBefore}, after ${results.loadAfter}\n`);
process.stdout.write(`median of ${RUNS} runs (bandit: ${BANDIT_RUNS})\n\n`);
process.stdout.write(
  `${'measurement'.padEnd(44)} ${'workers'.padStart(7)} ${'wall s'.padStart(8)} ${'min s'.padStart(7)} ${'CPU s'.padStart(7)} ${'files/s'.padStart(8)} ${'MB/s'.padStart(7)} ${'RSS MB'.padStart(7)}\n`,
);
process.stdout.write('(wall s, files/s, MB/s: median wall time; min s: fastest run; CPU s: median user+sys of the process)\n');
line('bare tree-sitter parse (read+decode+parse)', rows.parse1, 1);
line('bare tree-sitter parse', rows.parseN, WORKERS);
line('dag-guard check (runCheck, in-process)', rows.check1, 1);
line('dag-guard check (runCheck, in-process)', rows.checkN, WORKERS);
line('dag-guard check --check-syntax (every file parsed)', rows.checkAllN, WORKERS);
line('dag-guard CLI process, --no-cache (cold)', rows.cli, 'auto');
line('dag-guard CLI process, warm result cache', rows.cliWarm, 'auto');
line('ruff check --no-cache --select S (native)', rows.ruff, 'auto');
line(`bandit -r -q -f json`, rows.bandit, 1);
process.stdout.write('\n');
const ratio = (a, b, k = 'ms') => (a && b && a[k] != null && b[k] != null ? a[k] / b[k] : NaN);
const verdict = (ok) => (ok ? 'OK' : 'MISSED');
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '?');
const row = (label, med, min, cpu, target) =>
  process.stdout.write(`${label.padEnd(40)} median ${fmt(med, 2).padStart(6)}x  min ${fmt(min, 2).padStart(6)}x  CPU ${fmt(cpu, 2).padStart(6)}x   ${target}\n`);
process.stdout.write('ratios (wall medians / fastest runs / CPU seconds):\n');
if (rows.bandit) {
  const x = ratio(rows.bandit, rows.cli);
  row('bandit / dag-guard CLI (x faster)', x, ratio(rows.bandit, rows.cli, 'minMs'), ratio(rows.bandit, rows.cli, 'cpuMs'), `target >= 12x: ${verdict(x >= 12)}`);
  row(`bandit / dag-guard runCheck x${WORKERS}`, ratio(rows.bandit, rows.checkN), ratio(rows.bandit, rows.checkN, 'minMs'), ratio(rows.bandit, rows.checkN, 'cpuMs'), '');
}
if (rows.ruff) {
  const w = ratio(rows.cliWarm, rows.ruff);
  row('dag-guard warm / ruff cold', w, ratio(rows.cliWarm, rows.ruff, 'minMs'), ratio(rows.cliWarm, rows.ruff, 'cpuMs'), `target <= 1.0x: ${verdict(w <= 1)}`);
}
const f = ratio(rows.checkN, rows.parseN);
row(`dag-guard x${WORKERS} / bare parse x${WORKERS}`, f, ratio(rows.checkN, rows.parseN, 'minMs'), ratio(rows.checkN, rows.parseN, 'cpuMs'), `target <= 2x: ${verdict(f <= 2)}`);
row(`dag-guard --check-syntax x${WORKERS} / parse x${WORKERS}`, ratio(rows.checkAllN, rows.parseN), ratio(rows.checkAllN, rows.parseN, 'minMs'), ratio(rows.checkAllN, rows.parseN, 'cpuMs'), '(every file parsed)');
row('dag-guard x1 / bare parse x1', ratio(rows.check1, rows.parse1), ratio(rows.check1, rows.parse1, 'minMs'), ratio(rows.check1, rows.parse1, 'cpuMs'), '');
row(`parse speed-up 1 -> ${WORKERS} workers`, ratio(rows.parse1, rows.parseN), ratio(rows.parse1, rows.parseN, 'minMs'), NaN, '');
row(`check speed-up 1 -> ${WORKERS} workers`, ratio(rows.check1, rows.checkN), ratio(rows.check1, rows.checkN, 'minMs'), NaN, '');
const per = (xs) => xs.map((x) => x.toFixed(2)).join(' ');
process.stdout.write(
  `per-round ratios (same round, so the same load on both sides): dag-guard x${WORKERS} / parse x${WORKERS} ${per(results.roundRatios.checkN_parseN)} ` +
    `(median ${fmt(median(results.roundRatios.checkN_parseN), 2)}x); --check-syntax ${per(results.roundRatios.checkAllN_parseN)} ` +
    `(median ${fmt(median(results.roundRatios.checkAllN_parseN), 2)}x); x1 / x1 ${per(results.roundRatios.check1_parse1)}\n`,
);
const o = results.oneFile;
process.stdout.write(
  `one-file CLI run (${path.basename(o.file)}, ${o.bytes} B): median ${o.ms.toFixed(0)} ms (runs ${o.runs.join(' ')}; bare \`node -e 0\` ${o.nodeStartupMs.toFixed(0)} ms; RSS ${o.maxRssMB} MB)   (target < 300 ms: ${verdict(o.ms < 300)})\n`,
);
process.stdout.write(`findings: dag-guard ${rows.cli?.findings ?? rows.checkN.findings}${rows.bandit ? `, bandit ${rows.bandit.findings} (files ${rows.bandit.files})` : ''}\n`);
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(results, null, 2) + '\n');
fs.unlinkSync(listFile);
