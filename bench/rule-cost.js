#!/usr/bin/env node
'use strict';
/**
 * Where does dag-guard's time go, rule by rule? (Needs `npm run build`.)
 *
 *   node bench/rule-cost.js CORPUS_DIR [--max-files N] [--reps 3]
 *
 * Parses every file once (the floor), then for each rule separately measures, in CPU time, min of
 * --reps: its query alone over every tree (tree-sitter's walk + node marshalling + the JS-evaluated
 * predicates `#match?`/`#eq?`/`#any-of?`), the number of matches handed to JS, and the time of its
 * onMatch/onFile callbacks. Also the combined query (what analyze.ts runs) and a trivial query (the
 * cost of one query walk, whatever the patterns). Costs are shown as a fraction of the parse time, the
 * unit of the ≤ 1.5× target. Per-rule query costs do not add up: one combined walk is shared.
 */
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const Parser = require(path.join(__dirname, '..', 'node_modules', 'tree-sitter'));
const { parse, getLanguage } = require(path.join(dist, 'src', 'parse'));
const { readSource } = require(path.join(dist, 'src', 'source'));
const { ALL_RULES } = require(path.join(dist, 'rules'));
const { compileRules } = require(path.join(dist, 'src', 'engine', 'analyze'));
const { RuleContext } = require(path.join(dist, 'src', 'engine', 'context'));
const { importRecords } = require(path.join(dist, 'src', 'engine', 'imports'));

const args = process.argv.slice(2);
const opt = (n, d) => {
  const i = args.indexOf(n);
  return i < 0 ? d : args.splice(i, 2)[1];
};
const MAX = parseInt(opt('--max-files', '1000000'), 10);
const REPS = parseInt(opt('--reps', '3'), 10);
const corpus = path.resolve(args[0] || '.');

function walk(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === '__pycache__') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && e.name.endsWith('.py')) out.push(p);
  }
  return out;
}
const files = walk(corpus, []).sort().slice(0, MAX);
const texts = [];
for (const f of files) {
  const s = readSource(f, 8 << 20);
  if ('text' in s) texts.push(s.text);
}
const bytes = texts.reduce((a, t) => a + t.length, 0);
const cpu = (fn) => {
  let best = Infinity;
  let r;
  for (let i = 0; i < REPS; i++) {
    if (global.gc) global.gc();
    const c = process.cpuUsage();
    r = fn();
    const u = process.cpuUsage(c);
    best = Math.min(best, (u.user + u.system) / 1000);
  }
  return [best, r];
};

const [parseMs, trees] = cpu(() => texts.map((t) => parse(t)));
const lang = getLanguage();
const settings = { importAllow: [], importDeny: [], requireSuppressionReason: false, honourNosec: true, ruleOptions: {} };
// per-file contexts with imports resolved, as analyze.ts does before running rules
const imports = trees.map((t) => {
  const recs = [];
  for (const n of t.rootNode.descendantsOfType(['import_statement', 'import_from_statement', 'future_import_statement'])) recs.push(...importRecords(n));
  return recs;
});
const newCtx = (i) => {
  const ctx = new RuleContext({ path: files[i], text: texts[i] }, settings, []);
  for (const r of imports[i]) ctx.addImport(r);
  return ctx;
};

const rows = [];
const queryCost = (label, src) => {
  const q = new Parser.Query(lang, src);
  const [ms, n] = cpu(() => {
    let n = 0;
    for (const t of trees) n += q.matches(t.rootNode).length;
    return n;
  });
  return { label, q, ms, n };
};
const trivial = queryCost('(one query walk: `(module) @m`)', '(module) @m');
const combined = compileRules(ALL_RULES);
const [combMs, combN] = cpu(() => {
  let n = 0;
  for (const t of trees) n += combined.query.matches(t.rootNode).length;
  return n;
});

for (const rule of ALL_RULES) {
  let qms = 0;
  let n = 0;
  let jsMs = 0;
  let fileMs = 0;
  let findings = 0;
  if (rule.query) {
    const qc = queryCost(rule.meta.id, rule.query);
    qms = qc.ms;
    n = qc.n;
    const all = trees.map((t) => qc.q.matches(t.rootNode));
    [jsMs, findings] = cpu(() => {
      let found = 0;
      all.forEach((ms, i) => {
        const ctx = newCtx(i);
        ctx.rule = rule;
        const sink = ctx.sink ?? null;
        for (const m of ms) {
          const caps = {};
          for (const c of m.captures) (caps[c.name] ??= []).push(c.node);
          try {
            rule.onMatch?.(caps, ctx);
          } catch {
            /* counted elsewhere */
          }
        }
        found += sink ? sink.length : 0;
      });
      return found;
    });
  }
  if (rule.onFile) {
    [fileMs] = cpu(() => {
      trees.forEach((t, i) => {
        const ctx = newCtx(i);
        ctx.rule = rule;
        try {
          rule.onFile(ctx);
        } catch {
          /* counted elsewhere */
        }
      });
    });
  }
  rows.push({ id: rule.meta.id, name: rule.meta.name, qms, n, jsMs, fileMs });
}

const x = (ms) => (ms / parseMs).toFixed(2).padStart(6);
process.stdout.write(`${files.length} files, ${(bytes / 1e6).toFixed(2)} MB; CPU ms, min of ${REPS}\n`);
process.stdout.write(`parse (the unit)                          ${parseMs.toFixed(0).padStart(7)} ms  1.00x\n`);
process.stdout.write(`${trivial.label.padEnd(41)} ${trivial.ms.toFixed(0).padStart(7)} ms ${x(trivial.ms)}x\n`);
process.stdout.write(`combined query (analyze.ts), ${String(combN).padStart(8)} matches ${combMs.toFixed(0).padStart(5)} ms ${x(combMs)}x\n\n`);
process.stdout.write(`${'rule'.padEnd(34)} ${'matches'.padStart(8)} ${'query alone'.padStart(12)} ${'onMatch'.padStart(9)} ${'onFile'.padStart(9)}   (x parse)\n`);
for (const r of rows.sort((a, b) => b.qms + b.jsMs + b.fileMs - (a.qms + a.jsMs + a.fileMs))) {
  process.stdout.write(
    `${(r.id + ' ' + r.name).slice(0, 34).padEnd(34)} ${String(r.n).padStart(8)} ${r.qms ? x(r.qms) + 'x' : '     -'.padStart(7)}      ${r.jsMs ? x(r.jsMs) + 'x' : '      -'.padStart(7)}  ${r.fileMs ? x(r.fileMs) + 'x' : '      -'.padStart(7)}\n`,
  );
}
