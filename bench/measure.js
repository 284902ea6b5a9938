#!/usr/bin/env node
'use strict';
/**
 * One measurement in a fresh process (so JIT warm-up, caches and RSS do not leak between modes):
 *
 *   node bench/measure.js parse FILELIST WORKERS   bare read+decode+tree-sitter parse of the listed files
 *   node bench/measure.js check DIR WORKERS        dag-guard runCheck() in-process (no config)
 *   node bench/measure.js check-all DIR WORKERS    the same with checkSyntax (every file parsed)
 *
 * Prints one JSON line: {mode, workers, files, bytes, ms, maxRssMB, findings?}.
 * `ms` is wall time from just before the work starts (module loading excluded, worker start-up included).
 */
const fs = require('node:fs');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const dist = path.join(__dirname, '..', 'dist', 'src');
const [mode, target, workersArg] = process.argv.slice(2);
const workers = Math.max(1, parseInt(workersArg || '1', 10));

function done(extra) {
  const ru = process.resourceUsage();
  process.stdout.write(JSON.stringify({ mode, workers, ...extra, maxRssMB: +(ru.maxRSS / 1024).toFixed(1) }) + '\n');
}

async function parseMode() {
  const files = fs.readFileSync(target, 'utf8').split('\n').filter(Boolean);
  const BATCH = 8; // same batch shape as src/pool.ts
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  if (workers === 1) {
    const { readSource } = require(path.join(dist, 'source'));
    const { parse } = require(path.join(dist, 'parse'));
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      // same event-loop turn every 16 files as src/pool.ts's in-thread path (lets Node free native trees)
      if (i % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
      const src = readSource(f, 8 * 1024 * 1024);
      if ('text' in src) {
        const tree = parse(src.text);
        bytes += src.text.length;
        if (!tree.rootNode) throw new Error('no tree');
      }
    }
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, () => {
        const w = new Worker(path.join(__dirname, 'parse-worker.js'));
        return new Promise((resolve, reject) => {
          const feed = () => {
            if (next >= files.length) {
              w.terminate().then(() => resolve());
              return;
            }
            const batch = files.slice(next, next + BATCH);
            next += batch.length;
            w.postMessage(batch);
          };
          w.on('message', (n) => {
            bytes += n;
            feed();
          });
          w.on('error', reject);
          feed();
        });
      }),
    );
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  done({ files: files.length, bytes, ms });
}

async function checkMode() {
  const { runCheck } = require(path.join(dist, 'check'));
  const dir = path.resolve(target);
  const t0 = process.hrtime.bigint();
  const res = await runCheck({ paths: [dir], cwd: dir, configPath: null, workers, checkSyntax: mode === 'check-all' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  done({
    files: res.files.length,
    ms,
    findings: res.report.findings.length,
    errors: res.report.errors.length,
  });
}

(mode === 'parse' ? parseMode() : mode === 'check' || mode === 'check-all' ? checkMode() : Promise.reject(new Error(`unknown mode ${mode}`))).catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
