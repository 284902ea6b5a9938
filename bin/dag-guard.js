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
  // A broken install or a bug at load time: the one-line message of README "Exit codes", not a stack trace.
  process.stderr.write(`dag-guard: internal error: ${String((err && err.message) || err).split('\n')[0]}\n`);
  process.stderr.write(process.env.DAG_GUARD_DEBUG ? `${(err && err.stack) || ''}\n` : 'This is a bug in dag-guard; rerun with DAG_GUARD_DEBUG=1 for details and report it.\n');
  process.exit(3);
}
main(process.argv).then((code) => {
  process.exitCode = code;
  // The command is done (workers, containers and files are closed before main resolves): leave now rather than after
  // the event loop drains — the garbage collector's pending work was ~5 ms of a 0.2 s cached run. Only when stdout
  // and stderr hold nothing unwritten (a pipe can be asynchronous outside Linux); otherwise the loop drains as usual.
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
});
