import { createHash } from 'node:crypto';
import Parser = require('tree-sitter');
import type { SyntaxNode } from 'tree-sitter';
import type { Finding, Warning } from '../report';
import { RuleContext, type RawFinding } from './context';
import { importAliasCandidates, importStatementTexts, lastSegment, statementBindings } from './imports';
import type { QueryCaptures, Rule } from './rule';
import type { Settings } from './settings';
import { describeUnknownCodes, isBlanket, parseSuppression, suppressionCovers, unknownSuppressionCodes, unusedCodes, type Suppression } from './suppressions';
import { getLanguage, parse } from '../parse';
import { callAt, enclosingOfTypes, findCallNames, findSuppressionComments, hasSuppressionWord, SUPPRESSION_CANDIDATE } from './locate';
import { patternRootTypes } from './query-roots';

export interface QueriedRule {
  /** Rules with the very same query and trigger share the search and the matches (DG203 and DG204 do). */
  rules: Rule[];
  trigger: RegExp;
  roots: Set<string>;
  /** Compiled on first use: a one-file run compiles only the queries its file triggers. */
  query: Parser.Query | null;
}

export interface CompiledRules {
  rules: Rule[];
  byId: Map<string, Rule>;
  /** Rules subscribed to each callee name (last dotted segment). */
  callSubscribers: Map<string, Rule[]>;
  /** The subscribed names, plus `getattr` (for `getattr(m, "name")(…)`); empty when no rule subscribes. */
  callNames: Set<string>;
  /** Names whose every subscriber has a `mayCall` prefilter: only these can be ruled out before parsing. */
  prefiltered: Set<string>;
  queried: QueriedRule[];
  /** Upper-cased ids, names and aliases of every rule: codes we recognise in suppressions. */
  knownCodes: Set<string>;
}

export class RuleQueryError extends Error {}

/**
 * Index the rules for one pass per file: call subscriptions by callee name, queries by their text triggers.
 * Nothing walks the whole tree: see locate.ts for why.
 */
export function compileRules(rules: Rule[]): CompiledRules {
  const callSubscribers = new Map<string, Rule[]>();
  const queried: QueriedRule[] = [];
  for (const rule of rules) {
    for (const name of new Set(rule.calls ?? [])) {
      const list = callSubscribers.get(name);
      if (list) list.push(rule);
      else callSubscribers.set(name, [rule]);
    }
    if (rule.query) {
      if (!rule.trigger) throw new RuleQueryError(`rule ${rule.meta.id}: a query needs a text trigger`);
      const roots = patternRootTypes(rule.query);
      if (!roots.size) throw new RuleQueryError(`rule ${rule.meta.id}: no pattern root type found in its query`);
      const flags = rule.trigger.flags.includes('g') ? rule.trigger.flags : rule.trigger.flags + 'g';
      const same = queried.find((q) => q.rules[0].query === rule.query && q.trigger.source === rule.trigger!.source && q.trigger.flags === flags);
      if (same) same.rules.push(rule);
      else queried.push({ rules: [rule], trigger: new RegExp(rule.trigger.source, flags), roots, query: null });
    }
  }
  const callNames = new Set(callSubscribers.size ? [...callSubscribers.keys(), 'getattr'].filter((n) => /^[A-Za-z_]\w*$/.test(n)) : []);
  const prefiltered = new Set([...callSubscribers].filter(([, subs]) => subs.every((r) => r.mayCall)).map(([name]) => name));
  const knownCodes = new Set<string>();
  const byId = new Map<string, Rule>();
  for (const r of rules) {
    byId.set(r.meta.id, r);
    knownCodes.add(r.meta.id.toUpperCase());
    knownCodes.add(r.meta.name.toUpperCase());
    for (const a of r.meta.aliases ?? []) knownCodes.add(a.toUpperCase());
  }
  return { rules, byId, callSubscribers, callNames, prefiltered, queried, knownCodes };
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

/**
 * Would any candidate call of this file interest a rule? Answered from the text alone, so that a file whose only
 * candidates are `config.get(…)` or `name.replace(…)` needs no tree. Conservative: a callee that is not a plain
 * dotted name (`f()(…)`, `x[0].get(…)`), an alias, `getattr`, or a rule without `mayCall` means yes.
 */
function callsMayMatter(compiled: CompiledRules, text: string, found: { index: number; name: string }[], aliases: Set<string>): boolean {
  let bindings: Map<string, string[]> | null = null;
  for (const m of found) {
    const name = m.name;
    if (!compiled.prefiltered.has(name) || aliases.has(name)) return true;
    const rules = compiled.callSubscribers.get(name)!;
    const written = dottedBefore(text, m.index, name);
    if (written === null) return true;
    bindings ??= new Map();
    const dot = written.search(/[.(]/); // the first name, also of `F(…).rest`
    const head = dot < 0 ? written : written.slice(0, dot);
    let targets = bindings.get(head);
    if (!targets) bindings.set(head, (targets = textImportTargets(text, head)));
    const candidates = [written, ...targets.map((t) => (dot < 0 ? t : t + written.slice(dot)))];
    if (candidates.some((fn) => RESOLVES_TO_MODULE.test(fn))) return true;
    if (candidates.some((fn) => rules.some((r) => r.mayCall!(fn, text, m.index)))) return true;
  }
  return false;
}

/**
 * `a.b.name` when the text before `name` at `at` is a plain dotted name on the same line; `str.name` for a method of
 * a string literal (`"a-b".replace(…)`: its receiver is a `str`, whatever the literal); null when unsure (the
 * receiver is a call or subscript — `__import__("os").system` is a module —, or the chain continues across a line
 * break or a comment).
 */
function dottedBefore(text: string, at: number, name: string): string | null {
  let parts = name;
  let i = at - 1;
  for (;;) {
    while (i >= 0 && (text[i] === ' ' || text[i] === '\t')) i--;
    if (i >= 0 && (text[i] === '\n' || text[i] === '\r' || text[i] === '\\')) {
      // `(requests.\n get(…))` is one name in Python: a dot before the line break means unsure.
      let j = i;
      while (j >= 0 && /[\s\\]/.test(text[j])) j--;
      return j >= 0 && text[j] === '.' ? null : parts;
    }
    if (i < 0 || text[i] !== '.') return i >= 0 && /[#'"`]/.test(text[i]) ? null : parts;
    i--;
    while (i >= 0 && (text[i] === ' ' || text[i] === '\t')) i--;
    if (i >= 0 && (text[i] === '"' || text[i] === "'") && parts === name) return `str.${name}`;
    if (i >= 0 && text[i] === ')') return calledBefore(text, i, parts);
    const end = i + 1;
    while (i >= 0 && /[\w\u00C0-\uFFFF]/.test(text[i])) i--;
    if (end === i + 1) return null; // `)`, `]`, a quote, a line break: not a plain name
    const word = text.slice(i + 1, end);
    if (/^\d/.test(word)) return null;
    parts = `${word}.${parts}`;
  }
}

/**
 * `F(…).rest` when the `)` at `close` ends a call of a plain dotted name F whose arguments hold no string, comment
 * or line continuation (a backward scan cannot skip those safely); else null. The tree would give the callee as
 * written, `F(args).rest` (or a module, for `__import__(…)`, `importlib.import_module(…)`, `getattr(…)`: see
 * RESOLVES_TO_MODULE), and every `mayCall` judges `F(…).rest` the same way.
 */
function calledBefore(text: string, close: number, rest: string): string | null {
  let depth = 0;
  let i = close;
  for (; i >= 0 && close - i < 2000; i--) {
    const c = text[i];
    if (c === ')') depth++;
    else if (c === '(' && --depth === 0) break;
    else if (c === '"' || c === "'" || c === '#' || c === '\\') return null;
  }
  if (depth !== 0 || i < 0) return null;
  let j = i - 1;
  while (j >= 0 && (text[j] === ' ' || text[j] === '\t')) j--;
  const end = j + 1;
  while (j >= 0 && /[\w\u00C0-\uFFFF]/.test(text[j])) j--;
  if (end === j + 1) return null;
  const f = dottedBefore(text, j + 1, text.slice(j + 1, end));
  return f === null || f.includes('(') || f.startsWith('str.') ? null : `${f}(…).${rest}`;
}

/**
 * Calls whose result the tree resolves to a module (`__import__("os").system`): their methods are module functions.
 * (Defensive: these names are themselves subscribed by rules without a prefilter, so such a file is parsed anyway.)
 */
const RESOLVES_TO_MODULE = /^(?:builtins\.)?(?:__import__|getattr)\(|^importlib\.import_module\(/;

/** Every target `name` may be bound to by an import line of the text (strings included: over-approximate). */
function textImportTargets(text: string, name: string): string[] {
  const out: string[] = [];
  for (const stmt of importStatementTexts(text)) {
    if (!stmt.includes(name)) continue;
    for (const r of statementBindings(stmt)) if (r.local === name) out.push(r.target);
  }
  return out;
}

/** Find every subscribed call, resolve its callee once, and hand it to the rules that asked for that name. */
function dispatchCalls(compiled: CompiledRules, ctx: RuleContext, text: string, ruleErrors: string[]): void {
  if (!compiled.callNames.size) return;
  const found = findCallNames(text, compiled.callNames);
  // Names bound by `from m import name as alias` are called under the alias. Candidates from the text alone (no
  // tree needed for a file without such an alias); `deliver` resolves each call through the real imports.
  const aliases: string[] = [];
  for (const rec of importAliasCandidates(text)) {
    if (compiled.callSubscribers.has(lastSegment(rec.target))) aliases.push(rec.local);
  }
  const aliased = aliases.length ? findCallNames(text, new Set(aliases)) : [];
  if (!aliased.length && !callsMayMatter(compiled, text, found, new Set(aliases))) return;
  const subs = compiled.callSubscribers;
  const seen = new Set<string>();
  const deliver = (call: SyntaxNode, fn: string): void => {
    const rules = subs.get(lastSegment(fn));
    if (!rules) return;
    const key = `${call.startIndex}:${call.endIndex}`;
    if (seen.has(key)) return;
    seen.add(key);
    ctx.setCallee(call, fn);
    for (const rule of rules) {
      ctx.rule = rule;
      try {
        rule.onCall!(call, fn, ctx);
      } catch (err) {
        ruleErrors.push(`internal error in rule ${rule.meta.id}: ${(err as Error).message}`);
      }
    }
  };
  const visit = (list: { index: number; name: string }[]): void => {
    for (const { index, name } of list) {
      const site = callAt(ctx.root, index, index + name.length);
      if (!site) continue;
      deliver(site.call, ctx.calleeOfFunction(site.fn) ?? site.fn.text);
      if (name === 'getattr') {
        // `getattr(os, "system")(cmd)`: the outer call is a call of `os.system`.
        const outer = site.call.parent;
        if (outer && outer.type === 'call' && outer.startIndex === site.call.startIndex) {
          const q = ctx.qualifiedName(site.call);
          if (q) deliver(outer, q);
        }
      }
    }
  };
  visit(found);
  visit(aliased);
}

/** Run each triggered rule's query on the nodes around its triggers. */
function runQueries(compiled: CompiledRules, ctx: RuleContext, text: string, ruleErrors: string[]): void {
  for (const q of compiled.queried) {
    const re = q.trigger;
    re.lastIndex = 0;
    let m = re.exec(text);
    if (!m) continue;
    const anchors = new Map<number, SyntaxNode>();
    for (; m; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      for (const n of enclosingOfTypes(ctx.root, m.index, m.index + m[0].length, q.roots)) {
        const key = n.startIndex * 1024 + (n.typeId & 1023);
        if (!anchors.has(key)) anchors.set(key, n);
      }
    }
    if (!anchors.size) continue;
    let query: Parser.Query;
    try {
      query = queryOf(q);
    } catch (err) {
      ruleErrors.push(`internal error: ${(err as Error).message}`);
      continue;
    }
    const ordered = [...anchors.values()].sort((a, b) => a.startIndex - b.startIndex || b.endIndex - a.endIndex);
    const all: QueryCaptures[] = [];
    for (const anchor of ordered) {
      for (const match of query.matches(anchor, { maxStartDepth: 0 })) {
        const caps: QueryCaptures = {};
        for (const c of match.captures) (caps[c.name] ??= []).push(c.node);
        all.push(caps);
      }
    }
    for (const rule of q.rules) {
      ctx.rule = rule;
      try {
        for (const caps of all) rule.onMatch!(caps, ctx);
      } catch (err) {
        ruleErrors.push(`internal error in rule ${rule.meta.id}: ${(err as Error).message}`);
      }
    }
  }
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
): FileAnalysis {
  const raw: RawFinding[] = [];
  // Parsed on the first question that needs the tree, which in most files comes from a text candidate of some rule:
  // a file in which no rule finds anything to look at is not parsed at all (as semgrep's literal prefilter skips
  // files). Everything the rules report is confirmed in the tree, so the findings do not depend on it.
  const ctx = new RuleContext({ path, text }, settings, raw, () => parse(text).rootNode);
  const warnings: Warning[] = [];
  const ruleErrors: string[] = [];
  const suppressions: Suppression[] = [];
  const lines = new LineIndex(text);

  dispatchCalls(compiled, ctx, text, ruleErrors);
  runQueries(compiled, ctx, text, ruleErrors);
  for (const rule of compiled.rules) {
    if (!rule.onFile) continue;
    ctx.rule = rule;
    try {
      rule.onFile(ctx);
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

  const findings: Finding[] = [];
  let suppressed = 0;
  const seen = new Map<string, number>();
  raw.sort((a, b) => a.startIndex - b.startIndex || a.ruleId.localeCompare(b.ruleId));
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
    const fingerprint = createHash('sha256').update(`${identity}\0${occurrence}`).digest('hex').slice(0, 32);
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
      fingerprint,
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
  return { findings, warnings, ruleErrors, suppressed, parsed: ctx.parsed };
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
