/**
 * The engine's prefilters are derived from what rules declare (callee patterns, keywords) and must never change a
 * result: every rule, with every prefilter, must report exactly what it reports when it runs on every file and
 * every call of the tree (`exhaustive`). Compared on every rule fixture, sample, sandbox fixture and a generated
 * DAG corpus, file by file, and on the fixtures statement by statement — one top-level statement at a time (with
 * the file's imports), so that a prefilter that wrongly rules a call out cannot hide behind another call of the
 * same file that rules it in.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeDataFile, analyzeSource, compileRules, type CompiledRules } from '../../src/engine/analyze';
import { dataKindOf } from '../../src/data/kinds';
import { DEFAULT_SETTINGS } from '../../src/engine/settings';
import { parse } from '../../src/parse';
import { ALL_RULES } from '../../rules';

const repo = path.resolve(__dirname, '..', '..');

function pyFiles(dir: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...pyFiles(p));
    else if (e.name.endsWith('.py')) out.push(p);
  }
  return out;
}

const key = (r: ReturnType<typeof analyzeSource>): string[] => [
  ...r.findings.map((x) => `${x.ruleId}:${x.line}:${x.column}:${x.severity}:${x.message}`),
  ...r.ruleErrors.map((e) => `error:${e}`),
];

function compare(compiled: CompiledRules, name: string, text: string): number {
  const want = key(analyzeSource(name, text, compiled, DEFAULT_SETTINGS, name, { exhaustive: true }));
  expect(key(analyzeSource(name, text, compiled, DEFAULT_SETTINGS)), name).toEqual(want);
  return want.length;
}

/** A generated corpus of realistic DAG files (bench/gen-corpus.js, fixed seed): factories, TaskFlow, KPO… */
function generatedCorpus(): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-prefilter-'));
  execFileSync(process.execPath, [path.join(repo, 'bench', 'gen-corpus.js'), '1', dir, '--seed', '7'], { stdio: 'ignore' });
  return pyFiles(dir);
}

describe('derived prefilters never change findings', () => {
  const all = compileRules(ALL_RULES.filter((r) => !r.onPath));
  const files = [
    ...pyFiles(path.join(repo, 'test', 'rules', 'fixtures')),
    ...pyFiles(path.join(repo, 'samples')),
    ...pyFiles(path.join(repo, 'test', 'sandbox', 'fixtures')),
  ];

  it('on every fixture, sample and sandbox fixture, all rules together', () => {
    let findings = 0;
    for (const f of files) findings += compare(all, path.relative(repo, f), fs.readFileSync(f, 'utf8'));
    expect(files.length).toBeGreaterThan(80);
    expect(findings).toBeGreaterThan(300);
  });

  it('on every fixture and sample, each rule alone', () => {
    for (const rule of ALL_RULES.filter((r) => !r.onPath)) {
      const one = compileRules([rule]);
      for (const f of files) compare(one, `${rule.meta.id} ${path.relative(repo, f)}`, fs.readFileSync(f, 'utf8'));
    }
  });

  it('on a generated DAG corpus', () => {
    const corpus = generatedCorpus();
    expect(corpus.length).toBeGreaterThan(50);
    let findings = 0;
    for (const f of corpus) findings += compare(all, path.basename(f), fs.readFileSync(f, 'utf8'));
    expect(findings).toBeGreaterThan(10);
  });

  it('on every top-level statement of every fixture, alone with the file\'s imports', () => {
    let statements = 0;
    let withFindings = 0;
    for (const f of pyFiles(path.join(repo, 'test', 'rules', 'fixtures'))) {
      const text = fs.readFileSync(f, 'utf8');
      const top = parse(text).rootNode.namedChildren;
      const imports = top.filter((n) => /^(import_statement|import_from_statement|future_import_statement)$/.test(n.type)).map((n) => n.text);
      for (const stmt of top) {
        if (/import|comment/.test(stmt.type)) continue;
        const name = `${path.relative(repo, f)}:${stmt.startPosition.row + 1}`;
        if (compare(all, name, [...imports, stmt.text, ''].join('\n'))) withFindings++;
        compare(all, `${name} (alone)`, stmt.text + '\n');
        statements++;
      }
    }
    expect(statements).toBeGreaterThan(500);
    expect(withFindings).toBeGreaterThan(200);
  });

  it('on every data-file fixture, line by line (the text rules\' hints never lose a secret)', () => {
    const dir = path.join(repo, 'test', 'rules', 'fixtures', 'data');
    const dkey = (r: ReturnType<typeof analyzeDataFile>): string[] => r.findings.map((x) => `${x.ruleId}:${x.line}:${x.column}:${x.message}`);
    let findings = 0;
    for (const f of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const kind = dataKindOf(f)!;
      const want = dkey(analyzeDataFile(f, text, kind, all, DEFAULT_SETTINGS, f, { exhaustive: true }));
      expect(dkey(analyzeDataFile(f, text, kind, all, DEFAULT_SETTINGS)), f).toEqual(want);
      findings += want.length;
      // and each line alone, for the line-based kinds (a hint that needs another line would show here)
      if (kind === 'yaml' || kind === 'json') continue;
      for (const line of text.split('\n')) {
        expect(dkey(analyzeDataFile(f, line, kind, all, DEFAULT_SETTINGS)), `${f}: ${line}`).toEqual(dkey(analyzeDataFile(f, line, kind, all, DEFAULT_SETTINGS, f, { exhaustive: true })));
      }
    }
    expect(findings).toBeGreaterThan(20);
  });

  it('on calls written the ways an evasion would', () => {
    const cases = [
      'import subprocess\n(subprocess.run)("x", shell=True)\n',
      'import subprocess\nsubprocess.run \\\n("ls " + input(), shell=True)\n',
      'import subprocess as sp\nf = sp.run\nf(input(), shell=True)\n',
      'import os\ngetattr(os, "system")(input())\n',
      '__import__("os").system(input())\n',
      'import importlib\nimportlib.import_module("os").system(input())\n',
      'from os import system as s\ns(input())\n',
      'import pickle\n[pickle.loads][0](data)\n',
      'import requests\nr = (requests.\n    get("https://example.net"))\n',
      'import requests\nr = (requests  # why\n    .get("https://example.net"))\n',
      'from requests \\\n    import get\nget("https://example.net")\n',
      // the callee's name written nowhere whole: assembled from string pieces
      'import builtins\n_e = vars(builtins)["ev" + "al"]\n_e(input())\n',
      'import builtins\nbuiltins.__dict__["ex" "ec"](input())\n',
      'import os\nf = getattr(os, "".join(["sys", "tem"]))\nf(input())\n',
    ];
    for (const src of cases) compare(all, src, src);
    // … and the assembled call is found at all (the comparison alone would pass if both runs missed it)
    const found = analyzeSource('a.py', cases.at(-3)!, all, DEFAULT_SETTINGS).findings.map((f) => `${f.ruleId}:${f.line}`);
    expect(found).toContain('DG301:3');
  });

  it('finds what engine v1\'s hand-written text prefilters missed', () => {
    const lines = (src: string, id: string) =>
      analyzeSource('m.py', src, all, DEFAULT_SETTINGS).findings.filter((f) => f.ruleId === id).map((f) => f.line);
    // the value on a continuation line: v1's binding trigger wanted the value on the `=` line
    expect(lines('DB_PASSWORD = \\\n    "S3cr3tValue!9"\n', 'DG101')).toEqual([2]);
    // a comment between a lookup's arguments: v1's `mayCall` read the text after `get(` and gave up
    const lookup = 'from airflow.models import Variable\n\npw = Variable.get(\n    # c\n    "db_password", "S3cr3tValue!9x")\n';
    expect(lines(lookup, 'DG101')).toEqual([5]);
    expect(lines(lookup, 'DG604')).toEqual([3]);
  });
});
