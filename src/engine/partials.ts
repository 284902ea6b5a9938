/**
 * `functools.partial(f, *a, **k)`: where the partial is called — at once (`partial(f, …)(x)`) or through the name it
 * is bound to (`run = partial(f, …)`, then `run(x)` later in the file) — with the arguments `f` then receives
 * (`f(*a, *b, **k, **k2)`), so that a sink hidden behind a partial is judged like a direct call.
 */
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from './context';
import { callArgs, type CallArgs } from './python';
import { laterUsesOfBinding } from './locate';

export interface PartialCall {
  /** The call that runs the wrapped function (report here). */
  use: SyntaxNode;
  /** What the wrapped function is called with. */
  args: CallArgs;
}

export interface SinkCall extends PartialCall {
  /** The wrapped function. */
  fn: string;
  /** The call that bound the arguments: the partial, or `use` itself for a direct call. */
  bound: SyntaxNode;
}

/**
 * For a rule subscribed to its sinks and to `functools.partial`: the calls to judge — the call itself (`fn` a sink),
 * or each call of a partial that wraps one (`isSink` of the wrapped function).
 */
export function sinkCalls(call: SyntaxNode, fn: string, ctx: RuleContext, isSink: (fn: string) => boolean): SinkCall[] {
  if (fn !== 'functools.partial') return [{ use: call, fn, args: callArgs(call), bound: call }];
  const target = ctx.qualifiedName(callArgs(call).positional[0]);
  if (!target || !isSink(target)) return [];
  return partialCalls(call, ctx).map((p) => ({ ...p, fn: target, bound: call }));
}

function partialCalls(partial: SyntaxNode, ctx: RuleContext): PartialCall[] {
  const bound = callArgs(partial);
  return partialUses(partial, ctx).map((use) => {
    const given = callArgs(use);
    return {
      use,
      args: {
        positional: [...bound.positional.slice(1), ...given.positional],
        keywords: new Map([...bound.keywords, ...given.keywords]),
        hasSplat: bound.hasSplat || given.hasSplat,
      },
    };
  });
}

function partialUses(partial: SyntaxNode, ctx: RuleContext): SyntaxNode[] {
  const parent = partial.parent;
  if (parent?.type === 'call' && parent.childForFieldName('function')?.id === partial.id) return [parent];
  // `run = partial(…)`, then `run(x)`
  const uses: SyntaxNode[] = [];
  for (const id of laterUsesOfBinding(partial, ctx.file.text, ctx.root)) {
    const c = id.parent;
    if (c?.type === 'call' && c.childForFieldName('function')?.id === id.id) uses.push(c);
  }
  return uses;
}
