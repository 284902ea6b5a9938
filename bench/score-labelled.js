#!/usr/bin/env node
'use strict';
/**
 * Detection on a labelled set of DAG files kept outside the repository (a held-out or blind set):
 *
 *   node bench/score-labelled.js DIR [BIN]
 *
 * DIR/LABELS.tsv: one line per file — path (relative to DIR), `dangerous` or `clean`, category, line of the danger
 * (or `-`), description. A dangerous file counts as found when a finding at severity >= low is within 3 lines of the
 * labelled line (and, separately, anywhere in the file); a clean file is a false alarm when it has a finding >= low.
 * Files are matched by their name (keep names unique in a set). BIN: the CLI to score (default: this checkout's
 * bin/dag-guard.js).
 */
const fs = require('fs'), path = require('path'), { execFileSync } = require('child_process');
const [dir, bin = path.join(__dirname, '..', 'bin', 'dag-guard.js')] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: node bench/score-labelled.js DIR [BIN]\n');
  process.exit(2);
}
const rows = fs.readFileSync(path.join(dir, 'LABELS.tsv'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.split('\t'));
let out;
try { out = execFileSync('node', [bin, 'check', '--no-config', '--no-cache', '-f', 'json', dir], { maxBuffer: 1 << 28 }).toString(); } catch (e) { out = e.stdout.toString(); }
const rep = JSON.parse(out);
const SEV = ['info', 'low', 'medium', 'high', 'critical'];
const by = new Map();
for (const f of rep.findings) { const k = path.basename(f.path); if (!by.has(k)) by.set(k, []); by.get(k).push(f); }
const cat = {}; let found = 0, near = 0, dang = 0, clean = 0, fa = 0; const misses = [], alarms = [];
for (const [file, kind, category, line, desc] of rows) {
  if (!file || file === 'filename') continue;
  const fs_ = (by.get(path.basename(file)) || []).filter((f) => SEV.indexOf(f.severity) >= 1);
  if (kind === 'dangerous') {
    dang++; cat[category] ??= [0, 0]; cat[category][1]++;
    const ln = parseInt(line, 10);
    const isNear = fs_.some((f) => isNaN(ln) || Math.abs(f.line - ln) <= 3);
    if (fs_.length) found++;
    if (isNear) { near++; cat[category][0]++; } else misses.push(`${file} [${category}] line ${line}: ${desc}${fs_.length ? ` (elsewhere: ${fs_.map((f) => f.ruleId + '@' + f.line).join(',')})` : ''}`);
  } else if (kind === 'clean') {
    clean++;
    if (fs_.length) { fa++; alarms.push(`${file}: ${fs_.map((f) => `${f.ruleId}@${f.line} ${f.severity}`).join(', ')} — ${desc}`); }
  }
}
console.log(`dangerous found near the labelled line: ${near}/${dang} (${(100 * near / dang).toFixed(0)} %), anywhere in the file: ${found}/${dang}`);
console.log(`false alarms (clean files with a finding >= low): ${fa}/${clean}`);
for (const [c, [a, b]] of Object.entries(cat)) console.log(`  ${c}: ${a}/${b}`);
if (misses.length) console.log('MISSES:\n  ' + misses.join('\n  '));
if (alarms.length) console.log('FALSE ALARMS:\n  ' + alarms.join('\n  '));
