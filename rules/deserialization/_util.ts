/**
 * Shared helpers of the unsafe-deserialization family (DG4xx).
 *
 * The queries anchor on calls whose last name is one of a few method names (`load`, `loads`…), plus calls of a
 * bare identifier bound by an import (`from pickle import loads as l; l(x)`), so that `onMatch` runs rarely.
 */
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import type { QueryCaptures } from '../../src/engine/rule';

/** Query: calls `x.<name>(...)` for the given attribute names, and calls of a plain identifier. */
export function callQuery(names: string[]): string {
  const list = names.map((n) => `"${n}"`).join(' ');
  return `
(call function: (attribute attribute: (identifier) @m (#any-of? @m ${list})) arguments: (argument_list)) @call
(call function: (identifier) @fn arguments: (argument_list)) @call
`;
}

/**
 * Qualified callee of a matched call, or null when it can't be one of ours: a bare identifier is only worth
 * resolving when an import bound it (a builtin or local function never names a deserializer).
 */
export function matchedCallee(c: QueryCaptures, ctx: RuleContext): { call: SyntaxNode; fn: string } | null {
  const call = c.call[0];
  if (c.fn && !ctx.imports.has(c.fn[0].text)) return null;
  const fn = calleeOf(ctx, call);
  return fn ? { call, fn } : null;
}

/** Severity one step up when the call runs while Airflow parses the file (every scheduler loop). */
export function parseTimeSeverity<T extends string>(ctx: RuleContext, node: SyntaxNode, base: T, parse: T): T {
  return ctx.isParseTime(node) ? parse : base;
}

export const PARSE_TIME_NOTE = ' — at parse time, in the dag-processor';

/** The call's qualified callee (kept as a name the family's rules share; the engine memoises it). */
export function calleeOf(ctx: RuleContext, call: SyntaxNode): string | null {
  return ctx.callee(call);
}
