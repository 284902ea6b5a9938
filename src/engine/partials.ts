/**
 * `functools.partial(f, *a, **k)`: where the partial is called — at once (`partial(f, …)(x)`) or through the name it
 * is bound to (`run = partial(f, …)`, then `run(x)` later in the file) — with the arguments `f` then receives
 * (`f(*a, *b, **k, **k2)`), so that a sink hidden behind a partial is judged like a direct call.
 */
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from './context';
import { callArgs, type CallArgs } from './python';

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
  if (parent?.type !== 'assignment' || parent.childForFieldName('right')?.id !== partial.id) return [];
  const name = parent.childForFieldName('left');
  if (name?.type !== 'identifier') return [];
  const text = ctx.file.text;
  const uses: SyntaxNode[] = [];
  const re = new RegExp(`(?<![\\w.])${name.text}\\s*\\(`, 'g');
  re.lastIndex = parent.endIndex;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const id = ctx.root.descendantForIndex(m.index, m.index + name.text.length);
    const c = id.type === 'identifier' ? id.parent : null;
    if (c?.type === 'call' && c.childForFieldName('function')?.id === id.id) uses.push(c);
  }
  return uses;
}
