/** Shared helpers of the code-injection family (DG3xx). */
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import type { QueryCaptures } from '../../src/engine/rule';
import type { Severity } from '../../src/report';
import type { Trust } from '../../src/engine/airflow';

/**
 * Query: `x.<attr>(…)` for the given attribute names, `<name>(…)` of an imported name or of one of `builtins`
 * (e.g. `__import__`, `exec`), and `getattr(m, "…")(…)`.
 */
export function callQuery(attrs: string[], builtins: string[] = []): string {
  const a = attrs.map((n) => `"${n}"`).join(' ');
  let q = `
(call function: (attribute attribute: (identifier) @m (#any-of? @m ${a})) arguments: (argument_list)) @call
(call function: (identifier) @fn arguments: (argument_list)) @call
(call function: (call function: (identifier) @g (#eq? @g "getattr")) arguments: (argument_list)) @call
`;
  if (builtins.length) {
    q += `(call function: (identifier) @b (#any-of? @b ${builtins.map((n) => `"${n}"`).join(' ')}) arguments: (argument_list)) @call\n`;
  }
  return q;
}

/** Callee of a match; bare identifiers only when imported or a listed builtin (each call is handled once). */
export function matchedCallee(c: QueryCaptures, ctx: RuleContext): { call: SyntaxNode; fn: string } | null {
  const call = c.call[0];
  if (c.fn && !ctx.imports.has(c.fn[0].text)) return null;
  if (c.b && ctx.imports.has(c.b[0].text)) return null; // seen through the @fn pattern
  const fn = ctx.callee(call);
  return fn ? { call, fn } : null;
}

export function severityFor(t: Trust, high: Severity = 'high', other: Severity = 'medium'): Severity {
  return t === 'user' ? high : other;
}

// Message wording is shared with the shell-injection family, so findings of both read alike.
export { originWords, PARSE_TIME_NOTE, snippet } from '../shell-injection/_util';
