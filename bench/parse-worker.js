'use strict';
// Bare-parse worker for bench/measure.js: the same read + decode + parse as src/scan.ts, no rules.
const path = require('node:path');
const { parentPort } = require('node:worker_threads');
const dist = path.join(__dirname, '..', 'dist', 'src');
const { readSource } = require(path.join(dist, 'source'));
const { parse } = require(path.join(dist, 'parse'));

parentPort.on('message', (batch) => {
  let bytes = 0;
  for (const f of batch) {
    const src = readSource(f, 8 * 1024 * 1024);
    if ('text' in src) {
      parse(src.text);
      bytes += src.text.length;
    }
  }
  parentPort.postMessage(bytes);
});
