#!/usr/bin/env node
'use strict';
/**
 * Reproduces the mechanism behind "terminate called after throwing an instance of 'Napi::Error'" (exit 134 / SIGABRT,
 * issue 10 class 8): a worker thread is terminated (worker.terminate(), or process.exit() in the main thread, which
 * terminates every worker) while it is inside tree-sitter's parser.parse(). The binding reads the source through a JS
 * callback (CallbackInput::Read in node-tree-sitter's parser.cc); once the isolate is terminating that call fails,
 * node-addon-api (C++ exceptions on) throws Napi::Error from inside the C parser (ts_parser_parse), the exception
 * cannot unwind through C frames, and std::terminate aborts the whole process: no report, exit 134.
 *
 *   node bench/napi-abort-repro.js [--runs 20]
 * Prints how many child processes aborted. Expect nearly all of them: the window is the whole parse.
 */
const { Worker } = require('node:worker_threads');
const { spawnSync } = require('node:child_process');

if (process.argv[2] === 'child') {
  const w = new Worker(
    `const Parser = require('tree-sitter');
     const Python = require('tree-sitter-python');
     const p = new Parser(); p.setLanguage(Python);
     const src = 'x = 1\\n'.repeat(20000);
     for (;;) p.parse(src, undefined, { bufferSize: 1024 });`,
    { eval: true },
  );
  setTimeout(() => w.terminate(), 300 + Math.random() * 200);
} else {
  const i = process.argv.indexOf('--runs');
  const runs = i < 0 ? 20 : Number(process.argv[i + 1]);
  const counts = {};
  let sample = '';
  for (let k = 0; k < runs; k++) {
    const r = spawnSync(process.execPath, [__filename, 'child'], { encoding: 'utf8', cwd: __dirname });
    const key = String(r.signal ?? r.status);
    counts[key] = (counts[key] ?? 0) + 1;
    if (r.signal && !sample) sample = r.stderr.trim().split('\n')[0];
  }
  console.log(`worker.terminate() during parser.parse(): ${JSON.stringify(counts)} ${sample ? `(stderr: ${sample})` : ''}`);
}
