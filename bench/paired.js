#!/usr/bin/env node
'use strict';
/**
 * The rules' cost relative to the parse, measured so that a busy machine cannot fake it (needs `npm run build`):
 *
 *   node bench/paired.js CORPUS_DIR [--rounds 3] [--check-syntax]
 *
 * For every file, in one thread: (a) read + decode + parse — the floor — and (b) read + decode + analyzeSource with
 * every rule, back to back, alternating which goes first (the second run of a file finds its text in the CPU cache).
 * Time is summed per side; a burst of load hits both sides alike, so the ratio b/a is stable where separate-process
 * medians are not. Reports the minimum ratio over --rounds and the per-round ratios.
 */
const fs = require('node:fs');
const path = require('node:path');
const { pyFiles } = require('./corpus-files');
const { built, numberOption } = require('./built');

const { parse } = built('src', 'parse');
const { readSource } = built('src', 'source');
const { ALL_RULES } = built('rules');
const { analyzeSource, compileRules } = built('src', 'engine', 'analyze');
const { DEFAULT_SETTINGS } = built('src', 'engine', 'settings');

const args = process.argv.slice(2);
const ROUNDS = numberOption(args, '--rounds', 3);
const corpus = path.resolve(args[0] || '.');

const files = pyFiles(corpus);
const compiled = compileRules(ALL_RULES);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const MAX = 8 * 1024 * 1024;

const SETTINGS = { ...DEFAULT_SETTINGS, checkSyntax: process.argv.includes('--check-syntax') };

(async () => {
  const ratios = [];
  let best = null;
  for (let r = 0; r < ROUNDS; r++) {
    let floor = 0;
    let full = 0;
    let findings = 0;
    let bytes = 0;
    let parsedFiles = 0;
    let parsedBytes = 0;
    for (let i = 0; i < files.length; i++) {
      const runFloor = () => {
        const t = now();
        const s = readSource(files[i], MAX);
        if ('text' in s) parse(s.text);
        floor += now() - t;
      };
      const runFull = () => {
        const t = now();
        const s = readSource(files[i], MAX);
        if ('text' in s) {
          const res = analyzeSource(files[i], s.text, compiled, SETTINGS);
          findings += res.findings.length;
          bytes += s.text.length;
          if (res.parsed || SETTINGS.checkSyntax) {
            parsedFiles++;
            parsedBytes += s.text.length;
          }
        }
        full += now() - t;
      };
      if ((i + r) % 2) {
        runFloor();
        runFull();
      } else {
        runFull();
        runFloor();
      }
      if (i % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
    }
    ratios.push(full / floor);
    if (!best || full / floor < best.ratio) best = { ratio: full / floor, floor, full, findings, bytes, parsedFiles, parsedBytes };
  }
  process.stdout.write(
    `${files.length} files, ${(best.bytes / 1e6).toFixed(2)} MB, ${compiled.rules.length} rules, ${best.findings} findings` +
      `${SETTINGS.checkSyntax ? ' (--check-syntax: every file parsed)' : ''}\n` +
      `parsed (a rule needed the tree): ${best.parsedFiles} files (${((100 * best.parsedFiles) / files.length).toFixed(1)} %), ` +
      `${((100 * best.parsedBytes) / best.bytes).toFixed(1)} % of the bytes\n` +
      `read+parse ${best.floor.toFixed(0)} ms, read+parse+rules ${best.full.toFixed(0)} ms: rules cost ${best.ratio.toFixed(2)}x the parse floor ` +
      `(rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})\n`,
  );
})();
