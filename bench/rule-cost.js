#!/usr/bin/env node
'use strict';
/**
 * Where does dag-guard's time go, rule by rule? (Needs `npm run build`.)
 *
 *   node bench/rule-cost.js CORPUS_DIR [--max-files N] [--reps 3] [--only DG2] [--marginal]
 *
 * For every file, interleaved so that machine noise hits all rows alike: a bare parse (the unit), analyzeSource
 * with no rule (the engine floor: parse, locating imports and suppression comments, report assembly), with each
 * rule alone, and with all rules. Wall time per row is summed over the files, the minimum of --reps rounds is kept,
 * and shown as a multiple of the parse. A rule's own cost is its row minus the floor. `--marginal` adds, per rule,
 * all rules but that one: what the rule costs in a real run, where the parse and the shared services are paid anyway
 * (its "alone" row counts the parses it causes, which other rules would mostly cause too).
 *
 * Each row gets its own copy of the file's text, and the rows take turns going first: V8 caches the results of some
 * regular expressions per subject string, and the CPU cache holds the file after the first row, so a row that reused
 * the text or always ran second looked cheaper than it is (the all-rules row read 1.5× the parse that way; 2.2×
 * measured fairly).
 */
const fs = require('node:fs');
const path = require('node:path');
const { pyFiles } = require('./corpus-files');

const dist = path.join(__dirname, '..', 'dist');
const { parse } = require(path.join(dist, 'src', 'parse'));
const { readSource } = require(path.join(dist, 'src', 'source'));
const { ALL_RULES } = require(path.join(dist, 'rules'));
const { analyzeSource, compileRules } = require(path.join(dist, 'src', 'engine', 'analyze'));
const { DEFAULT_SETTINGS } = require(path.join(dist, 'src', 'engine', 'settings'));

const args = process.argv.slice(2);
const opt = (n, d) => {
  const i = args.indexOf(n);
  return i < 0 ? d : args.splice(i, 2)[1];
};
const MAX = parseInt(opt('--max-files', '1200'), 10);
const REPS = parseInt(opt('--reps', '3'), 10);
const ONLY = opt('--only', '');
const mi = args.indexOf('--marginal');
const MARGINAL = mi >= 0 && Boolean(args.splice(mi, 1));
const corpus = path.resolve(args[0] || '.');

const files = pyFiles(corpus).slice(0, MAX);
const texts = [];
for (const f of files) {
  const s = readSource(f, 8 << 20);
  if ('text' in s) texts.push(s.text);
}
const bytes = texts.reduce((a, t) => a + t.length, 0);

const selected = ALL_RULES.filter((r) => r.meta.id.startsWith(ONLY));
const rows = [
  { label: 'engine floor (no rule)', compiled: compileRules([]) },
  ...selected.map((r) => ({ label: `${r.meta.id} ${r.meta.name}`, alone: r, compiled: compileRules([r]) })),
  ...(MARGINAL ? selected.map((r) => ({ label: `all but ${r.meta.id}`, but: r, compiled: compileRules(ALL_RULES.filter((x) => x !== r)) })) : []),
  // a marginal cost is taken against every rule, whatever --only selects
  ...(MARGINAL && selected.length < ALL_RULES.length ? [{ label: `all ${ALL_RULES.length} rules`, every: true, compiled: compileRules(ALL_RULES) }] : []),
  { label: `${selected.length === ALL_RULES.length ? 'all' : 'the'} ${selected.length} rules`, compiled: compileRules(selected) },
];
const ALL_ROW = rows[rows.length - 1];
const EVERY_ROW = rows.find((r) => r.every) ?? ALL_ROW;
const ALONE = rows.slice(1, 1 + selected.length);
const now = () => Number(process.hrtime.bigint()) / 1e6;
/** A new string with the same text (see the header: no row may find another's regular-expression results). */
const copy = (text) => Buffer.from(text, 'utf8').toString('utf8');

(async () => {
  const best = { parse: Infinity };
  const findings = {};
  for (let rep = 0; rep < REPS; rep++) {
    const sum = { parse: 0 };
    for (const r of rows) sum[r.label] = 0;
    for (let i = 0; i < texts.length; i++) {
      // the parse takes its turn with the rows
      for (let k = 0; k <= rows.length; k++) {
        const j = (k + i) % (rows.length + 1);
        const text = copy(texts[i]);
        if (j === rows.length) {
          const t = now();
          parse(text);
          sum.parse += now() - t;
          continue;
        }
        const r = rows[j];
        const t = now();
        const res = analyzeSource(`f${i}.py`, text, r.compiled, DEFAULT_SETTINGS);
        sum[r.label] += now() - t;
        if (rep === 0) findings[r.label] = (findings[r.label] ?? 0) + res.findings.length;
      }
      // Let Node run the finalizers that free native trees (as src/pool.ts does).
      if (i % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
    }
    for (const k of Object.keys(sum)) best[k] = Math.min(best[k] ?? Infinity, sum[k]);
  }
  const floor = best[rows[0].label];
  const x = (ms) => (ms / best.parse).toFixed(2).padStart(6);
  process.stdout.write(`${texts.length} files, ${(bytes / 1e6).toFixed(2)} MB; wall ms summed per row, min of ${REPS}\n`);
  process.stdout.write(`${'parse (the unit)'.padEnd(44)} ${best.parse.toFixed(0).padStart(7)} ms  1.00x\n`);
  process.stdout.write(`${'row'.padEnd(44)} ${'ms'.padStart(7)}    ${'x parse'.padStart(7)}  ${'own'.padStart(6)}  findings\n`);
  const all = best[EVERY_ROW.label];
  const marginal = (r) => {
    const but = rows.find((m) => m.but === r.alone);
    return but ? all - best[but.label] : null;
  };
  if (MARGINAL) process.stdout.write(`(marginal: all rules minus all but this one, as a multiple of the parse)\n`);
  const ordered = [rows[0], ...new Set([EVERY_ROW, ALL_ROW]), ...[...ALONE].sort((a, b) => (MARGINAL ? marginal(b) - marginal(a) : best[b.label] - best[a.label]))];
  for (const r of ordered) {
    const own = r === rows[0] ? '' : x(best[r.label] - floor) + 'x';
    const m = ALONE.includes(r) && MARGINAL ? `  marginal ${x(marginal(r))}x` : '';
    process.stdout.write(`${r.label.slice(0, 44).padEnd(44)} ${best[r.label].toFixed(0).padStart(7)} ms ${x(best[r.label])}x  ${own.padStart(7)}  ${findings[r.label]}${m}\n`);
  }
})();
