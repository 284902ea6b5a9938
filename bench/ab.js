#!/usr/bin/env node
'use strict';
/**
 * A/B of the static engine between two builds, robust to a noisy host: `analyzeSource` over every `.py` file of a
 * corpus (texts read beforehand, so no I/O is timed), each build in a fresh process, the builds alternating round by
 * round so that a burst of load hits both alike. Prints each round's B/A ratio and the medians, and checks that both
 * builds report the same number of findings.
 *
 *   node bench/ab.js BUILD_A BUILD_B CORPUS_DIR [--rounds N]
 *
 * BUILD_A / BUILD_B: checkouts with `dist/` built (`npx tsc -p tsconfig.json`), e.g. a `git worktree` of the
 * previous commit and this one.
 */
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const args = process.argv.slice(2);
const ri = args.indexOf('--rounds');
const rounds = ri >= 0 ? Math.max(1, parseInt(args.splice(ri, 2)[1], 10)) : 5;
const [A, B, corpus] = args.map((a) => path.resolve(a));
if (!A || !B || !corpus) {
  process.stderr.write('usage: node bench/ab.js BUILD_A BUILD_B CORPUS_DIR [--rounds N]\n');
  process.exit(2);
}

const one = `
const fs = require('fs'), path = require('path');
const [D, corpus] = process.argv.slice(1);
const { analyzeSource, compileRules } = require(D + '/dist/src/engine/analyze');
const { DEFAULT_SETTINGS } = require(D + '/dist/src/engine/settings');
const { ALL_RULES } = require(D + '/dist/rules');
const files = [];
(function walk(d) { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (e.name.endsWith('.py')) files.push(p); } })(corpus);
files.sort();
const texts = files.map((f) => fs.readFileSync(f, 'utf8'));
const c = compileRules(ALL_RULES.filter((r) => !r.onPath));
(async () => {
  const t = process.hrtime.bigint();
  let n = 0;
  for (let i = 0; i < texts.length; i++) {
    n += analyzeSource(files[i], texts[i], c, DEFAULT_SETTINGS).findings.length;
    if (i % 16 === 15) await new Promise((r) => setImmediate(r)); // as src/pool.ts: lets finalizers free trees
  }
  console.log(Number(process.hrtime.bigint() - t) / 1e6, n);
})();`;

const res = { A: [], B: [] };
const findings = { A: new Set(), B: new Set() };
for (let r = 0; r < rounds; r++) {
  for (const [k, d] of r % 2 ? [['B', B], ['A', A]] : [['A', A], ['B', B]]) {
    const [ms, n] = execFileSync(process.execPath, ['-e', one, d, corpus]).toString().trim().split(' ');
    res[k].push(+ms);
    findings[k].add(n);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const fmt = (a) => a.map((x) => x.toFixed(0)).join(' ');
console.log(`A ${A}: ${fmt(res.A)} ms, median ${med(res.A).toFixed(0)}`);
console.log(`B ${B}: ${fmt(res.B)} ms, median ${med(res.B).toFixed(0)}`);
console.log(`B/A per round: ${res.A.map((a, i) => (res.B[i] / a).toFixed(2)).join(' ')}; median of rounds ${med(res.A.map((a, i) => res.B[i] / a)).toFixed(3)}`);
console.log(`findings: A ${[...findings.A].join('/')}, B ${[...findings.B].join('/')}`);
