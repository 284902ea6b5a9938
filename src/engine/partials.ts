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

/** The qualified name of the function a `functools.partial(...)` call wraps. */
export function partialTarget(partial: SyntaxNode, ctx: RuleContext): string | null {
  return ctx.qualifiedName(callArgs(partial).positional[0]);
}

export function partialCalls(partial: SyntaxNode, ctx: RuleContext): PartialCall[] {
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
