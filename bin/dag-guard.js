#!/usr/bin/env node
'use strict';
// Thin launcher so the bin works from a fresh clone once `npm install` ran the `prepare` build.
let main;
try {
  main = require('../dist/src/cli.js').main;
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]cli/.test(String(err.message))) {
    process.stderr.write('dag-guard: not built yet. Run `npm install` (or `npm run build`) in the dag-guard checkout.\n');
    process.exit(2);
  }
  throw err;
}
main(process.argv).then((code) => { process.exitCode = code; });
