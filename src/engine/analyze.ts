import { fingerprint } from '../fingerprint';
import Parser = require('tree-sitter');
import type { SyntaxNode } from 'tree-sitter';
import { compareText, type Finding, type Warning } from '../report';
import { RuleContext, type RawFinding } from './context';
import type { DataKind } from '../data/kinds';
import { resolvedCalls } from './calls';
import { calleeMemo, compilePattern, type CalleePattern } from './patterns';
import { KeywordScanner } from './keywords';
import type { KeywordMatch, QueryCaptures, Rule } from './rule';
import type { Settings } from './settings';
import { describeUnknownCodes, isBlanket, parseSuppression, suppressionCovers, unknownSuppressionCodes, unusedCodes, type Suppression } from './suppressions';
import { getLanguage, parse } from '../parse';
import { findSuppressionComments, hasSuppressionWord, SUPPRESSION_CANDIDATE } from './locate';
import { patternRootTypes } from './query-roots';

const KEYWORD_MATCHES: KeywordMatch[] = ['substring', 'token', 'name-word', 'name-word-end'];

export interface QueriedRule {
  /** Rules with the very same query share the search and the matches (DG203 and DG204 do). */
  rules: Rule[];
  roots: Set<string>;
  /** Compiled on first use: a one-file run compiles only the queries its files need. */
  query: Parser.Query | null;
}

export interface CallRule {
  rule: Rule;
  patterns: CalleePattern[];
  /** Scanner ids of each pattern's words (whole tokens the file must hold for a call to resolve to it). */
  wordIds: number[][];
  /**
   * One word of each pattern (its last), deduplicated: a file holding none of them matches no pattern, which rules the
   * rule out with a few lookups instead of one per word of each of its patterns. Null when a pattern has no word.
   */
  anyOf: number[] | null;
}

export interface CompiledRules {
  rules: Rule[];
  byId: Map<string, Rule>;
  calling: CallRule[];
  queried: QueriedRule[];
  /** Scanner ids of the keywords of each rule that declares them (`scanner.word(id)`: lower-cased, as written for
   *  `token` keywords). */
  keywordIds: Map<Rule, number[]>;
  /** Scanner ids of each rule's `andKeywords`. */
  andKeywordIds: Map<Rule, number[]>;
  /** Finds every keyword and pattern word of the rules in one pass per file. */
  scanner: KeywordScanner;
  /** The call rules (in rule order) with a pattern matching a callee, memoised. */
  rulesCalling: (fn: string) => CallRule[];
  /** Active call rules (their ids) -> their patterns (see patternsOf). */
  patternSets: Map<string, CalleePattern[]>;
  /** Upper-cased ids, names and aliases of every rule: codes we recognise in suppressions. */
  knownCodes: Set<string>;
}

export class RuleQueryError extends Error {}

/**
 * Index the rules for one pass per file: callee patterns, queries, keywords. Every prefilter the engine applies is
 * derived here from what the rules declare (patterns.ts); no rule writes one.
 */
export function compileRules(rules: Rule[]): CompiledRules {
  const calling: CallRule[] = [];
  const queried: QueriedRule[] = [];
  const scanner = new KeywordScanner();
  const keywordIds = new Map<Rule, number[]>();
  for (const rule of rules) {
    if (rule.calls?.length) {
      if (!rule.onCall) throw new RuleQueryError(`rule ${rule.meta.id}: \`calls\` needs \`onCall\``);
      try {
        // A bare name (`run`) is any callee ending in it.
        const patterns = rule.calls.map((c) => compilePattern(/[.*]/.test(c) ? c : `**.${c}`));
        const wordIds = patterns.map((p) => p.words.map((w) => scanner.add(w, 'token')));
        const anyOf = wordIds.some((ids) => !ids.length) ? null : [...new Set(wordIds.map((ids) => ids[ids.length - 1]))];
        calling.push({ rule, patterns, wordIds, anyOf });
      } catch (e) {
        throw new RuleQueryError(`rule ${rule.meta.id}: ${(e as Error).message}`);
      }
    }
    if (rule.keywords) {
      if (!rule.keywords.length || rule.keywords.some((k) => !k)) throw new RuleQueryError(`rule ${rule.meta.id}: empty keyword list or keyword`);
      const mode = rule.keywordMatch ?? 'substring';
      if (!KEYWORD_MATCHES.includes(mode)) throw new RuleQueryError(`rule ${rule.meta.id}: unknown keywordMatch \`${mode}\``);
      if (mode === 'token' && rule.keywords.some((k) => !/^[A-Za-z_]\w*$/.test(k))) throw new RuleQueryError(`rule ${rule.meta.id}: \`token\` keywords must be names`);
      if (mode.startsWith('name-word') && rule.keywords.some((k) => !/^[a-z]+$/i.test(k))) throw new RuleQueryError(`rule ${rule.meta.id}: name-word keywords must be letters`);
      keywordIds.set(rule, [...new Set(rule.keywords.map((k) => (mode === 'token' ? k : k.toLowerCase())))].map((w) => scanner.add(w, mode)));
    }
    if (rule.query) {
      if (!rule.onMatch) throw new RuleQueryError(`rule ${rule.meta.id}: \`query\` needs \`onMatch\``);
      const roots = patternRootTypes(rule.query);
      if (!roots.size) throw new RuleQueryError(`rule ${rule.meta.id}: no pattern root type found in its query`);
      const same = queried.find((q) => q.rules[0].query === rule.query);
      if (same) same.rules.push(rule);
      else queried.push({ rules: [rule], roots, query: null });
    }
  }
  const andKeywordIds = new Map<Rule, number[]>();
  for (const rule of rules) {
    if (!rule.andKeywords) continue;
    if (!rule.keywords || !rule.andKeywords.length || rule.andKeywords.some((k) => !k)) throw new RuleQueryError(`rule ${rule.meta.id}: \`andKeywords\` needs \`keywords\` and no empty word`);
    andKeywordIds.set(rule, [...new Set(rule.andKeywords.map((k) => k.toLowerCase()))].map((w) => scanner.add(w, 'substring')));
  }
  const knownCodes = new Set<string>();
  const byId = new Map<string, Rule>();
  for (const r of rules) {
    byId.set(r.meta.id, r);
    knownCodes.add(r.meta.id.toUpperCase());
    knownCodes.add(r.meta.name.toUpperCase());
    for (const a of r.meta.aliases ?? []) knownCodes.add(a.toUpperCase());
  }
  const rulesCalling = calleeMemo((fn) => calling.filter((c) => c.patterns.some((p) => p.test(fn))));
  return { rules, byId, calling, queried, keywordIds, andKeywordIds, scanner, rulesCalling, patternSets: new Map(), knownCodes };
}

function queryOf(q: QueriedRule): Parser.Query {
  if (!q.query) {
    try {
      q.query = new Parser.Query(getLanguage(), q.rules[0].query!);
    } catch (e) {
      throw new RuleQueryError(`rule ${q.rules.map((r) => r.meta.id).join(', ')}: invalid tree-sitter query: ${(e as Error).message}`);
    }
  }
  return q.query;
}

/** Where the rules' keywords and pattern words occur in the file (src/engine/keywords.ts), found on first use. */
class FileWords {
  private hitsOf: number[][] | null = null;
  private assembledOf: number[][] | null = null;
  constructor(private readonly text: string, private readonly scanner: KeywordScanner) {}
  /** Start offsets of each scanner word, by id. */
  get hits(): number[][] {
    return (this.hitsOf ??= this.scanner.scan(this.text));
  }
  /**
   * Does the file hold the word — written out, or assembled from string pieces (`"ev" + "al"`, `"".join(["sys",
   * "tem"])`)? Names are resolved through such strings (`vars(builtins)["ev" + "al"]`, `getattr(os, "sys" + "tem")`),
   * so a prefilter that only read the words as written would let the assembled call skip its rule.
   */
  has(id: number): boolean {
    if (this.hits[id].length > 0) return true;
    this.assembledOf ??= this.scanner.scan(assembledWords(this.text));
    return this.assembledOf[id].length > 0;
  }
}

/** Runs of two or more short word-like string literals, joined by `+` or juxtaposed, or listed in a `join`. */
const PIECES = /(?:["'][\w.]{1,30}["']\s*\+?\s*){2,}|\bjoin\(\s*[[(](?:\s*["'][\w.]{0,30}["']\s*,?)+\s*[\])]/g;

/** The words string pieces of the text spell when joined (`"ev" + "al"` -> `eval`), one per line; `''` if none. */
export function assembledWords(text: string): string {
  let out = '';
  for (const m of text.matchAll(PIECES)) out += m[0].replace(/^join\(|["'+,\s()[\]]/g, '') + '\n';
  return out;
}

/**
 * The rules that may find something in this file: a call rule when the file holds every word of one of its
 * patterns (as whole tokens), a rule with keywords when it holds one of them as its `keywordMatch` says.
 * `exhaustive` (tests): every rule.
 */
function activeRules(compiled: CompiledRules, text: string, words: FileWords, exhaustive: boolean): { calls: CallRule[]; queries: Set<Rule>; files: Rule[] } {
  const hasKeyword = (rule: Rule): boolean => {
    const ids = compiled.keywordIds.get(rule);
    if (exhaustive || !ids) return true;
    const and = compiled.andKeywordIds.get(rule);
    return ids.some((id) => words.has(id)) && (!and || and.some((id) => words.has(id)));
  };
  const calls = exhaustive
    ? compiled.calling
    : compiled.calling.filter(
        (c) => (!c.anyOf || c.anyOf.some((id) => words.has(id))) && c.patterns.some((p, k) => c.wordIds[k].every((id) => words.has(id)) && p.pieces.every((w) => text.includes(w))),
      );
  const queries = new Set<Rule>();
  for (const q of compiled.queried) for (const r of q.rules) if (hasKeyword(r)) queries.add(r);
  // keywords gate a rule's query; they gate its onFile only when it has no query (a text-scan rule)
  const files = compiled.rules.filter((r) => r.onFile && (r.query ? true : hasKeyword(r)));
  return { calls, queries, files };
}

/**
 * The rules that make this file parsed (their calls or queries may match it): what bench/parse-triggers.js counts to
 * show which declarations have most files parsed.
 */
export function parseTriggers(compiled: CompiledRules, text: string): string[] {
  const active = activeRules(compiled, text, new FileWords(text, compiled.scanner), false);
  return [...new Set([...active.calls.map((c) => c.rule.meta.id), ...[...active.queries].map((r) => r.meta.id)])];
}

/** The patterns of a set of call rules, one array per distinct set (so that calls.ts can memoise by array). */
function patternsOf(compiled: CompiledRules, calls: CallRule[]): CalleePattern[] {
  const key = calls.map((c) => c.rule.meta.id).join(',');
  let v = compiled.patternSets.get(key);
  if (!v) compiled.patternSets.set(key, (v = calls.flatMap((c) => c.patterns)));
  return v;
}

/** Hand each call to the rules whose patterns match its callee. */
function dispatchCalls(compiled: CompiledRules, ctx: RuleContext, text: string, calls: CallRule[], exhaustive: boolean, ruleErrors: string[]): void {
  if (!calls.length) return;
  const active = new Set(calls);
  for (const { call, fn } of resolvedCalls(ctx, text, patternsOf(compiled, calls), exhaustive)) {
    for (const c of compiled.rulesCalling(fn)) {
      if (!active.has(c)) continue;
      ctx.rule = c.rule;
      try {
        c.rule.onCall!(call, fn, ctx);
      } catch (err) {
        ruleErrors.push(`internal error in rule ${c.rule.meta.id}: ${(err as Error).message}`);
      }
    }
  }
}

/** Run each active rule's query: around its keywords, or on the whole tree when it has none (or exhaustive). */
function runQueries(compiled: CompiledRules, ctx: RuleContext, text: string, fileWords: FileWords, active: Set<Rule>, exhaustive: boolean, ruleErrors: string[]): void {
  let windows: Map<string, [number, number][]> | null = null;
  for (const q of compiled.queried) {
    const rules = q.rules.filter((r) => active.has(r));
    if (!rules.length) continue;
    let query: Parser.Query;
    try {
      query = queryOf(q);
    } catch (err) {
      ruleErrors.push(`internal error: ${(err as Error).message}`);
      continue;
    }
    const all: QueryCaptures[] = [];
    const collect = (match: Parser.QueryMatch): void => {
      const caps: QueryCaptures = {};
      for (const c of match.captures) (caps[c.name] ??= []).push(c.node);
      all.push(caps);
    };
    const ids = exhaustive || rules.some((r) => !compiled.keywordIds.has(r)) ? null : [...new Set(rules.flatMap((r) => compiled.keywordIds.get(r)!))];
    if (!ids) {
      for (const match of query.matches(ctx.root)) collect(match);
    } else {
      // Every match contains a keyword, so its root node intersects a keyword occurrence: the query runs natively
      // on windows around the occurrences (tree-sitter completes a match that starts in the window, whatever its
      // extent), never walking the rest of the tree and never climbing parents in JavaScript.
      windows ??= new Map();
      const key = ids.join(',');
      let win = windows.get(key);
      if (!win) windows.set(key, (win = hitWindows(fileWords.hits, ids, compiled.scanner)));
      const seen = new Set<string>();
      const found: { m: Parser.QueryMatch; start: number; end: number }[] = [];
      for (const [a, b] of win) {
        for (const match of rangeMatches(query, ctx.root, a, b)) {
          let start = Infinity;
          let end = -1;
          for (const c of match.captures) {
            start = Math.min(start, c.node.startIndex);
            end = Math.max(end, c.node.endIndex);
          }
          // a match that reaches into the next window is found again there
          if (win.length > 1) {
            let id = `${match.pattern}`;
            for (const c of match.captures) id += `,${c.name}:${c.node.startIndex}:${c.node.endIndex}:${c.node.typeId}`;
            if (seen.has(id)) continue;
            seen.add(id);
          }
          found.push({ m: match, start, end });
        }
      }
      found.sort((x, y) => x.start - y.start || y.end - x.end);
      for (const f of found) collect(f.m);
    }
    for (const rule of rules) {
      ctx.rule = rule;
      try {
        for (const caps of all) rule.onMatch!(caps, ctx);
      } catch (err) {
        ruleErrors.push(`internal error in rule ${rule.meta.id}: ${(err as Error).message}`);
      }
    }
  }
}

/**
 * Occurrences of the words closer than this are searched as one window (fewer native calls, same matches). 128 was
 * the fastest for the secret rules' binding query on the corpus (512: more nodes walked between occurrences; 0–32:
 * more calls).
 */
const WINDOW_GAP = 128;

/** Sorted, merged [start, end) windows around the occurrences of the words `ids` found by the scanner. */
function hitWindows(hits: number[][], ids: number[], scanner: KeywordScanner): [number, number][] {
  const keys: number[] = [];
  for (const id of ids) {
    const len = Math.min(scanner.word(id).length, 255);
    for (const i of hits[id]) keys.push(i * 256 + len);
  }
  return mergeWindows(keys);
}

/** `keys`: start * 256 + length of each occurrence; sorted as numbers in a typed array (far cheaper than pairs). */
function mergeWindows(keys: number[]): [number, number][] {
  const sorted = Float64Array.from(keys).sort();
  const out: [number, number][] = [];
  for (const key of sorted) {
    const start = Math.floor(key / 256);
    const end = start + (key % 256);
    const last = out[out.length - 1];
    if (last && start <= last[1] + WINDOW_GAP) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/**
 * How this build of node-tree-sitter takes a character range for `Query.matches` — 0.22 shifts the end offset
 * from UTF-16 units to bytes but not the start — found once by trying both on a two-line file; null: neither
 * works, and queries then run on the whole tree (slower, same matches).
 */
let rangeConvention: ((a: number, b: number) => { startIndex: number; endIndex: number }) | null | undefined;

function calibrateRange(): typeof rangeConvention {
  const text = 'ab = 1\ncd = 2\nef = 3\n';
  const root = parse(text).rootNode;
  const q = new Parser.Query(getLanguage(), '(identifier) @i');
  const a = text.indexOf('cd');
  const candidates = [(x: number, y: number) => ({ startIndex: 2 * x, endIndex: y }), (x: number, y: number) => ({ startIndex: x, endIndex: y })];
  for (const conv of candidates) {
    const got = q.matches(root, conv(a, a + 2)).map((m) => m.captures[0].node.text);
    if (got.length === 1 && got[0] === 'cd') return conv;
  }
  return null;
}

function rangeMatches(query: Parser.Query, root: SyntaxNode, a: number, b: number): Parser.QueryMatch[] {
  if (rangeConvention === undefined) rangeConvention = calibrateRange();
  return rangeConvention ? query.matches(root, rangeConvention(a, b)) : query.matches(root);
}

export interface FileAnalysis {
  findings: Finding[];
  warnings: Warning[];
  /** Internal errors of a rule (a bug in dag-guard, reported rather than hidden). */
  ruleErrors: string[];
  suppressed: number;
  /** Did any rule need the syntax tree? (A file with nothing for any rule to look at is not parsed.) */
  parsed: boolean;
}

/**
 * `identityPath` is the path hashed into fingerprints: relative to a stable root (config folder or repository
 * top), so that the same repository checked from another directory keeps its baselines. Defaults to `path`.
 */
export function analyzeSource(
  path: string,
  text: string,
  compiled: CompiledRules,
  settings: Settings,
  identityPath: string = path,
  opts: { exhaustive?: boolean } = {},
): FileAnalysis {
  const raw: RawFinding[] = [];
  // Parsed on the first question that needs the tree, which in most files comes from a text candidate of some rule:
  // a file in which no rule finds anything to look at is not parsed at all (as semgrep's literal prefilter skips
  // files). Everything the rules report is confirmed in the tree, so the findings do not depend on it.
  const ctx = new RuleContext({ path, text }, settings, raw, () => parse(text).rootNode, opts.exhaustive === true);
  const warnings: Warning[] = [];
  const ruleErrors: string[] = [];
  const suppressions: Suppression[] = [];
  const lines = new LineIndex(text);

  const exhaustive = opts.exhaustive === true;
  const fileWords = new FileWords(text, compiled.scanner);
  const active = activeRules(compiled, text, fileWords, exhaustive);
  // A file that some call or query rule may match is parsed, whether or not a candidate is found in it: which
  // files are parsed (and so can report a syntax error, DG000) follows from the words in the file alone.
  if (active.calls.length || active.queries.size) void ctx.root;
  dispatchCalls(compiled, ctx, text, active.calls, exhaustive, ruleErrors);
  runQueries(compiled, ctx, text, fileWords, active.queries, exhaustive, ruleErrors);
  for (const rule of active.files) {
    ctx.rule = rule;
    try {
      rule.onFile!(ctx);
    } catch (err) {
      ruleErrors.push(`internal error in rule ${rule.meta.id}: ${(err as Error).message}`);
    }
  }

  // Only a parsed file can be known to have a syntax error; an unparsed one had nothing any rule could report,
  // so no finding can hide behind an error in it. `checkSyntax` parses every file for this report alone.
  if ((ctx.parsed || settings.checkSyntax) && ctx.root.hasError) {
    const bad = firstError(ctx.root);
    if (bad) {
      const p = lines.position(bad.startIndex);
      warnings.push({
        code: 'DG000',
        path,
        line: p.line,
        column: p.column,
        message: 'syntax error: Python would refuse this file; findings after this point may be incomplete',
      });
    }
  }

  // Suppression comments are confirmed in the tree (a `# nosec` inside a string is not one). Many files carry
  // `# noqa: E501`-style comments that concern other tools: look only when there is a finding to suppress or a
  // comment of ours that could be reported unused.
  if (raw.length || mayWarnUnused(text, compiled.knownCodes)) {
    for (const c of findSuppressionComments(text, () => ctx.root)) {
      const s = parseSuppression(c.text, c.startPosition.row + 1, c.startPosition.column + 1);
      if (s) suppressions.push(s);
    }
  }

  const { findings, suppressed } = applySuppressions(path, raw, suppressions, compiled, settings, identityPath, lines, warnings);
  return { findings, warnings, ruleErrors, suppressed, parsed: ctx.parsed };
}

/** Findings after inline suppressions, with fingerprints; warnings about the suppressions themselves (DG001–DG006). */
function applySuppressions(
  path: string,
  raw: RawFinding[],
  suppressions: Suppression[],
  compiled: CompiledRules,
  settings: Settings,
  identityPath: string,
  lines: LineIndex,
  warnings: Warning[],
): { findings: Finding[]; suppressed: number } {
  const findings: Finding[] = [];
  let suppressed = 0;
  const seen = new Map<string, number>();
  raw.sort((a, b) => a.startIndex - b.startIndex || compareText(a.ruleId, b.ruleId));
  for (const f of raw) {
    const rule = compiled.byId.get(f.ruleId)!;
    const sup = suppressions.find((s) => s.line >= f.stmtStart && s.line <= f.stmtEnd && suppressionCovers(s, rule));
    if (sup && settings.suppressible && !settings.suppressible.includes(rule.meta.id)) {
      // Enforce mode: the committer wrote this comment; only the trusted configuration decides what it may silence.
      sup.used = true;
      warnings.push({
        code: 'DG006',
        path,
        line: sup.line,
        column: sup.column,
        message: `suppression not honoured (enforce mode): ${rule.meta.id} is not in the trusted configuration's \`suppressible\``,
      });
    } else if (sup && (sup.kind === 'dag-guard' || settings.honourNosec)) {
      sup.used = true;
      if (!settings.requireSuppressionReason || sup.reason) {
        suppressed++;
        continue;
      }
    }
    const start = lines.position(f.startIndex);
    const end = lines.position(f.endIndex);
    const identity = `${f.ruleId}\0${identityPath}\0${f.key}`;
    const occurrence = seen.get(identity) ?? 0;
    seen.set(identity, occurrence + 1);
    const fp = fingerprint(f.ruleId, identityPath, f.key, occurrence);
    findings.push({
      ruleId: f.ruleId,
      category: rule.meta.category,
      severity: f.severity,
      path,
      line: start.line,
      column: start.column,
      endLine: end.line,
      endColumn: end.column,
      message: f.message,
      source: 'static',
      fingerprint: fp,
    });
  }

  for (const s of suppressions) {
    const unknown = unknownSuppressionCodes(s);
    if (unknown.length) {
      warnings.push({
        code: 'DG003',
        path,
        line: s.line,
        column: s.column,
        message: `unknown rule in suppression: ${describeUnknownCodes(unknown)} (see \`dag-guard rules\`)`,
      });
    }
    if (s.used) {
      if (settings.requireSuppressionReason && !s.reason) {
        warnings.push({
          code: 'DG002',
          path,
          line: s.line,
          column: s.column,
          message: 'suppression has no reason (`-- why`), which this configuration requires: it was not applied',
        });
      } else if (s.kind === 'dag-guard' && isBlanket(s) && !s.reason) {
        warnings.push({
          code: 'DG004',
          path,
          line: s.line,
          column: s.column,
          message: 'blanket `# dag-guard: ignore` silences every rule on this statement: name the rules (`ignore[DG101]`) or give a reason (`-- why`)',
        });
      }
      continue;
    }
    const own = unusedCodes(s, compiled.knownCodes).filter((c) => !unknown.includes(c));
    if (own.length === 0) continue;
    warnings.push({
      code: 'DG001',
      path,
      line: s.line,
      column: s.column,
      message: isBlanket(s) && s.kind === 'dag-guard'
        ? 'unused suppression: no finding on this statement'
        : `unused suppression: no ${own.join(', ')} finding on this statement`,
    });
  }
  return { findings, suppressed };
}

/**
 * A data file (src/data/kinds.ts): only rules with `onDataFile` run, on the text; no tree, no parse time.
 * Suppression comments are the file kind's line comments (`#`, `--` in SQL; none in JSON).
 */
export function analyzeDataFile(
  path: string,
  text: string,
  kind: DataKind,
  compiled: CompiledRules,
  settings: Settings,
  identityPath: string = path,
  opts: { exhaustive?: boolean } = {},
): FileAnalysis {
  const raw: RawFinding[] = [];
  const ctx = new RuleContext({ path, text, dataKind: kind }, settings, raw, () => {
    throw new Error('data files have no syntax tree');
  }, opts.exhaustive === true);
  const warnings: Warning[] = [];
  const ruleErrors: string[] = [];
  for (const rule of compiled.rules) {
    if (!rule.onDataFile) continue;
    ctx.rule = rule;
    try {
      rule.onDataFile(ctx);
    } catch (err) {
      ruleErrors.push(`internal error in rule ${rule.meta.id}: ${(err as Error).message}`);
    }
  }
  const suppressions = raw.length || hasSuppressionWord(text) ? dataSuppressions(text, kind) : [];
  const { findings, suppressed } = applySuppressions(path, raw, suppressions, compiled, settings, identityPath, new LineIndex(text), warnings);
  return { findings, warnings, ruleErrors, suppressed, parsed: false };
}

function dataSuppressions(text: string, kind: DataKind): Suppression[] {
  const out: Suppression[] = [];
  if (kind === 'json' || !hasSuppressionWord(text)) return out;
  const start = kind === 'sql' ? /--/ : /(?:^|[ \t])#/;
  text.split('\n').forEach((line, i) => {
    const m = start.exec(line);
    if (!m) return;
    const at = m.index + (m[0].length - (kind === 'sql' ? 2 : 1));
    const comment = kind === 'sql' ? `#${line.slice(at + 2)}` : line.slice(at);
    const s = parseSuppression(comment, i + 1, at + 1);
    if (s) out.push(s);
  });
  return out;
}

function firstError(node: SyntaxNode): SyntaxNode | null {
  if (node.type === 'ERROR' || node.isMissing) return node;
  for (const c of node.children) {
    if (c.hasError || c.isMissing || c.type === 'ERROR') {
      const r = firstError(c);
      if (r) return r;
    }
  }
  return null;
}

/** Maps string indices to 1-based line/column, lazily. */
class LineIndex {
  private starts: number[] | null = null;
  constructor(private readonly text: string) {}
  position(index: number): { line: number; column: number } {
    if (!this.starts) {
      const s = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) s.push(i + 1);
      this.starts = s;
    }
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: index - s[lo] + 1 };
  }
}

/**
 * Could a suppression comment of this file earn a DG001 "unused" warning? Text only, over-approximating: every `#`
 * of a candidate line is tried as the start of a comment (the first may be inside a string).
 */
function mayWarnUnused(text: string, known: Set<string>): boolean {
  if (!hasSuppressionWord(text)) return false;
  const re = new RegExp(SUPPRESSION_CANDIDATE.source, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let end = text.indexOf('\n', m.index);
    if (end < 0) end = text.length;
    for (let i = m.index; i >= 0 && i < end; i = text.indexOf('#', i + 1)) {
      const s = parseSuppression(text.slice(i, end), 0, 0);
      if (s && unusedCodes(s, known).length) return true;
    }
    re.lastIndex = end;
  }
  return false;
}
