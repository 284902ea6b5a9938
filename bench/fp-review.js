#!/usr/bin/env node
'use strict';
/**
 * Helper for the false-positive review (docs/false-positive-review.md): runs
 * `node bin/dag-guard.js check --no-config -f json` on every repository directory of a corpus
 * (bench/make-corpus.sh layout) and groups findings by rule and message shape, with examples.
 *
 *   node bench/fp-review.js CORPUS_DIR [--examples 3] [--json OUT]
 *
 * The message shape replaces `backticked names` and redacted values by placeholders so that
 * "hardcoded secret in `DB_PASSWORD`: ab***" and "... in `api_token`: x***" fall in one class.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const args = process.argv.slice(2);
const exIdx = args.indexOf('--examples');
const EXAMPLES = exIdx >= 0 ? parseInt(args.splice(exIdx, 2)[1], 10) : 3;
const jIdx = args.indexOf('--json');
const jsonOut = jIdx >= 0 ? args.splice(jIdx, 2)[1] : null;
const corpus = path.resolve(args[0] || '/work/corpus');
const bin = path.join(__dirname, '..', 'bin', 'dag-guard.js');

const manifest = new Map();
try {
  for (const line of fs.readFileSync(path.join(corpus, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1)) {
    const [repo, commit] = line.split('\t');
    if (repo) manifest.set(repo.replace('/', '__'), commit);
  }
} catch {
  /* no manifest */
}

const shape = (m) =>
  m
    .replace(/`[^`]*`/g, '`…`')
    .replace(/: [^ ;]*\*+[^ ;]*/g, ': <redacted>')
    .replace(/\d+/g, 'N');

const all = [];
const perRepo = {};
for (const d of fs.readdirSync(corpus).sort()) {
  const dir = path.join(corpus, d);
  if (!fs.statSync(dir).isDirectory()) continue;
  const r = spawnSync(process.execPath, [bin, 'check', '--no-config', '-f', 'json', dir], {
    cwd: corpus,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0 && r.status !== 1) {
    process.stderr.write(`${d}: exit ${r.status}: ${r.stderr.slice(0, 500)}\n`);
    continue;
  }
  const rep = JSON.parse(r.stdout);
  perRepo[d] = { commit: manifest.get(d), files: rep.summary.filesScanned, findings: rep.findings.length, byRule: {}, errors: rep.errors.length };
  for (const f of rep.findings) {
    perRepo[d].byRule[f.ruleId] = (perRepo[d].byRule[f.ruleId] || 0) + 1;
    all.push({ ...f, repo: d });
  }
}

const classes = new Map();
for (const f of all) {
  const k = `${f.ruleId}\t${shape(f.message)}`;
  if (!classes.has(k)) classes.set(k, []);
  classes.get(k).push(f);
}

const out = [];
out.push('# per repository');
for (const [d, s] of Object.entries(perRepo)) {
  out.push(`${d} @ ${(s.commit || '?').slice(0, 12)}: ${s.files} files, ${s.findings} findings ${JSON.stringify(s.byRule)}${s.errors ? `, ${s.errors} errors` : ''}`);
}
out.push('', '# classes (rule × message shape), most frequent first');
for (const [k, fs_] of [...classes.entries()].sort((a, b) => b[1].length - a[1].length)) {
  const [rule, msg] = k.split('\t');
  const repos = new Set(fs_.map((f) => f.repo));
  out.push(`\n## ${rule} ×${fs_.length} (${repos.size} repos) — ${msg}`);
  for (const f of fs_.slice(0, EXAMPLES)) out.push(`   ${f.path}:${f.line}  ${f.message}`);
}
process.stdout.write(out.join('\n') + '\n');
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ perRepo, findings: all }, null, 2));
