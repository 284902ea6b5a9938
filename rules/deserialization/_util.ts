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

const DOTTED = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;

/**
 * `ctx.callee(call)` with a fast path and a per-file memo shared by the DG4xx/DG6xx rules (state key
 * `DG:callee`): a plain dotted callee (`os.system`, `sp.run`) is resolved from its text through the import map
 * — the same answer as `ctx.qualifiedName` — without walking the node; anything else falls back to `ctx.callee`.
 */
export function calleeOf(ctx: RuleContext, call: SyntaxNode): string | null {
  let memo = ctx.state.get('DG:callee') as Map<number, string | null> | undefined;
  if (!memo) ctx.state.set('DG:callee', (memo = new Map()));
  const hit = memo.get(call.id);
  if (hit !== undefined) return hit;
  const f = call.childForFieldName('function');
  let out: string | null = null;
  if (f) {
    const t = f.text;
    if (DOTTED.test(t)) {
      const i = t.indexOf('.');
      const head = i < 0 ? t : t.slice(0, i);
      const mapped = ctx.imports.get(head) ?? head;
      out = i < 0 ? mapped : mapped + t.slice(i);
    } else out = ctx.callee(call);
  }
  memo.set(call.id, out);
  return out;
}
