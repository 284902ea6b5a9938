#!/usr/bin/env node
'use strict';
/**
 * Which rules have files parsed (needs `npm run build`):
 *
 *   node bench/parse-triggers.js CORPUS_DIR [--top 30]
 *
 * A file is parsed when some call or query rule may match it (its declared words are in the file). For each rule:
 * the share of the corpus bytes in files it makes parsed, and in files it alone makes parsed (what narrowing its
 * declaration could save). The parse is most of a cold run's cost, so this is where a narrower declaration pays.
 */
const fs = require('node:fs');
const path = require('node:path');
const { pyFiles } = require('./corpus-files');
const { built, numberOption } = require('./built');

const { ALL_RULES } = built('rules');
const { compileRules, parseTriggers } = built('src', 'engine', 'analyze');

const args = process.argv.slice(2);
const TOP = numberOption(args, '--top', 30);
if (!args[0]) {
  process.stderr.write('usage: node bench/parse-triggers.js CORPUS_DIR [--top N]\n');
  process.exit(2);
}
const compiled = compileRules(ALL_RULES);
const any = new Map();
const sole = new Map();
let total = 0;
let parsed = 0;
for (const f of pyFiles(path.resolve(args[0]))) {
  const text = fs.readFileSync(f, 'utf8');
  total += text.length;
  const ids = parseTriggers(compiled, text);
  if (ids.length) parsed += text.length;
  for (const id of ids) any.set(id, (any.get(id) ?? 0) + text.length);
  if (ids.length === 1) sole.set(ids[0], (sole.get(ids[0]) ?? 0) + text.length);
}
const pct = (n) => `${((100 * n) / total).toFixed(1)} %`;
console.log(`${pct(parsed)} of ${(total / 1e6).toFixed(2)} M characters are in files some call or query rule has parsed`);
console.log('rule    files it makes parsed   files only it makes parsed');
for (const [id, n] of [...any].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  console.log(`${id.padEnd(8)}${pct(n).padStart(21)}${pct(sole.get(id) ?? 0).padStart(29)}`);
}
