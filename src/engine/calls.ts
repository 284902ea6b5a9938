/**
 * Finding calls by callee pattern, for the engine's dispatch to rules and for services that need the calls of a
 * file (`ctx.findCalls`): candidates from the text, confirmed and resolved in the tree.
 */
import Parser = require('tree-sitter');
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from './context';
import { lastSegment } from './imports';
import { callAt, findCallNames } from './locate';
import type { CalleePattern } from './patterns';
import { getLanguage } from '../parse';

export interface ResolvedCall {
  call: SyntaxNode;
  /** Qualified callee, or the callee as written when it cannot be resolved. */
  fn: string;
}

/**
 * Every call of the file whose callee may match one of the patterns, resolved, in document order (an enclosing
 * call before the calls in it); `getattr(os, "system")(cmd)` is also a call of `os.system`. Callers test `fn`
 * against their patterns.
 */
export function resolvedCalls(ctx: RuleContext, text: string, patterns: readonly CalleePattern[], exhaustive: boolean): ResolvedCall[] {
  const candidates = candidateCalls(ctx, text, patterns, exhaustive);
  candidates.sort((a, b) => a.startIndex - b.startIndex || b.endIndex - a.endIndex);
  const out: ResolvedCall[] = [];
  const seen = new Set<number>();
  const add = (call: SyntaxNode, fn: string): void => {
    if (seen.has(call.id)) return;
    seen.add(call.id);
    ctx.setCallee(call, fn);
    out.push({ call, fn });
  };
  for (const call of candidates) {
    const f = call.childForFieldName('function');
    if (!f) continue;
    const fn = ctx.calleeOfFunction(f) ?? (f.type === 'call' ? ctx.methodcallerCallee(call) : null) ?? f.text;
    // `getattr(os, "system")(cmd)`: the outer call is a call of `os.system`, seen with its real name before the
    // inner one is seen as `getattr`.
    if ((fn === 'getattr' || fn === 'builtins.getattr') && call.parent?.type === 'call' && call.parent.startIndex === call.startIndex) {
      const q = ctx.qualifiedName(call);
      if (q) add(call.parent, q);
    }
    add(call, fn);
  }
  return out;
}

/**
 * Candidate calls of the file: from the text, every `name(` whose name is the last segment (or prefix) of an
 * active pattern or a local alias of one, every `getattr(` (for `getattr(m, "f")(…)`), and every `)(` / `](`
 * (a call of a call or subscript, `(subprocess.run)(…)`); or, when a pattern's last segment is open (`os.*`) or
 * in exhaustive mode, every call of the tree. Each candidate is confirmed and resolved in the tree.
 */
function candidateCalls(ctx: RuleContext, text: string, patterns: readonly CalleePattern[], exhaustive: boolean): SyntaxNode[] {
  const names = lastNames(patterns);
  if (names.open || exhaustive) return allCalls(ctx.root);
  const base = names.exact;
  const prefixes = names.prefixes;
  // local names bound to a matching callee, `getattr` (for `getattr(m, "f")(…)`) and `__call__` (`eval.__call__(…)`)
  const extra = new Set<string>(['getattr', '__call__']);
  const matches = (last: string): boolean => base.has(last) || extra.has(last) || prefixes.some((p) => last.startsWith(p));
  // `from subprocess import run as r`: `r(…)` is a call of `subprocess.run`.
  for (const rec of ctx.importAliasCandidates) if (matches(lastSegment(rec.target))) extra.add(rec.local);
  // `f = os.system; f(cmd)`: names bound by assignment (ctx.aliases)
  for (const [local, target] of ctx.aliases) if (matches(lastSegment(target))) extra.add(local);
  const out: SyntaxNode[] = [];
  for (const m of findCallNames(text, base, prefixes, extra)) {
    const site = callAt(ctx.root, m.index, m.index + m.name.length, m.paren);
    if (site) out.push(site.call);
  }
  for (const i of calledCallOpenings(text)) {
    const args = ctx.root.descendantForIndex(i, i + 1);
    const call = args.type === 'argument_list' ? args.parent : args.type === '(' && args.parent?.type === 'argument_list' ? args.parent.parent : null;
    if (call && call.type === 'call') out.push(call);
  }
  return out;
}

/** The last names (or prefixes) of a list of patterns, by list: the engine and services pass the same lists again. */
const LAST_NAMES = new WeakMap<readonly CalleePattern[], { exact: Set<string>; prefixes: string[]; open: boolean }>();

function lastNames(patterns: readonly CalleePattern[]): { exact: Set<string>; prefixes: string[]; open: boolean } {
  let v = LAST_NAMES.get(patterns);
  if (!v) {
    v = { exact: new Set(), prefixes: [], open: false };
    for (const p of patterns) {
      if (!p.last) v.open = true;
      else if ('exact' in p.last) v.exact.add(p.last.exact);
      else v.prefixes.push(p.last.prefix);
    }
    LAST_NAMES.set(patterns, v);
  }
  return v;
}

let CALLS_QUERY: Parser.Query | null = null;

function allCalls(root: SyntaxNode): SyntaxNode[] {
  CALLS_QUERY ??= new Parser.Query(getLanguage(), '(call) @c');
  return CALLS_QUERY.captures(root).map((c) => c.node);
}

/** Index of each `(` right after `)` or `]` (spaces, tabs and `\` line continuations between). */
function calledCallOpenings(text: string): number[] {
  const out: number[] = [];
  for (let i = text.indexOf('('); i >= 0; i = text.indexOf('(', i + 1)) {
    let j = i - 1;
    for (let c = text.charCodeAt(j); c === 32 || (c >= 9 && c <= 13) || c === 92; c = text.charCodeAt(--j));
    const c = text.charCodeAt(j);
    if (c === 41 || c === 93) out.push(i);
  }
  return out;
}

