/**
 * Shared helpers of the shell-injection family (DG2xx). Queries anchor on calls whose last name is one of a few
 * function names, plus calls of a bare identifier bound by an import, so that `onMatch` runs rarely.
 */
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import type { QueryCaptures } from '../../src/engine/rule';
import { atLeast, commandParts, provenance, type Provenance, type Trust } from '../../src/engine/airflow';
import type { Severity } from '../../src/report';

/** Query: `x.<name>(…)` for the given names, `<imported name>(…)`, and `getattr(os, "…")(…)`. */
export function callQuery(names: string[]): string {
  const list = names.map((n) => `"${n}"`).join(' ');
  return `
(call function: (attribute attribute: (identifier) @m (#any-of? @m ${list})) arguments: (argument_list)) @call
(call function: (identifier) @fn arguments: (argument_list)) @call
(call function: (call function: (identifier) @g (#eq? @g "getattr")) arguments: (argument_list)) @call
`;
}

export function matchedCallee(c: QueryCaptures, ctx: RuleContext): { call: SyntaxNode; fn: string } | null {
  const call = c.call[0];
  if (c.fn && !ctx.imports.has(c.fn[0].text)) return null;
  const fn = ctx.callee(call);
  return fn ? { call, fn } : null;
}

/** Worst provenance among the values spliced into a command (constants and deployment paths are fine). */
export function commandProvenance(node: SyntaxNode, ctx: RuleContext): Provenance {
  const parts = commandParts(node);
  let best: Provenance = { trust: 'safe', node };
  for (const v of parts.values) {
    const p = provenance(v, ctx);
    if (atLeast(p.trust, best.trust) && p.trust !== best.trust) best = p;
  }
  return best;
}

/** Severity by provenance: user/unknown input high, config (Variables, env) medium. */
export function severityFor(t: Trust): Severity {
  return t === 'user' || t === 'unknown' ? 'high' : 'medium';
}

export function originWords(t: Trust): string {
  switch (t) {
    case 'user':
      return 'input from whoever triggers the DAG or an upstream task';
    case 'xcom':
      return 'the output of another task';
    case 'config':
      return 'a Variable, Connection or environment value';
    default:
      return 'a value of unknown origin';
  }
}

/** Short source of an expression for messages (one line, at most 60 chars). */
export function snippet(node: SyntaxNode): string {
  const t = node.text.replace(/\s+/g, ' ');
  return t.length > 60 ? t.slice(0, 57) + '…' : t;
}

export const PARSE_TIME_NOTE = ' — at parse time, in the dag-processor';

// ---- operators and @task.bash (DG203, DG204) ----------------------------------------------------------------
import { isBashTaskFunction, shellScripts, type ShellScript } from '../../src/engine/airflow';

/** Query for shell-capable operator calls (anchored on their script keywords) and `@task.bash` functions. */
export const OPERATOR_QUERY = `
(call function: [(identifier) (attribute)] arguments: (argument_list (keyword_argument name: (identifier) @kw (#any-of? @kw "bash_command" "command" "cmds" "arguments")))) @call
(decorated_definition (decorator) @dec (#match? @dec "bash") definition: (function_definition body: (block) @body) @def)
`;

/** Return values of a function body (not of nested functions or classes). */
function returnValues(body: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const stack: SyntaxNode[] = [body];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'return_statement') {
      const v = n.namedChildren[0];
      if (v) out.push(v);
      continue;
    }
    if (n.type === 'function_definition' || n.type === 'class_definition' || n.type === 'lambda') continue;
    for (const ch of n.namedChildren) stack.push(ch);
  }
  return out;
}

/**
 * Shell scripts of one match of OPERATOR_QUERY, plus the node that anchors them (the operator call or the
 * function), or null when this match was already handled (a call matches once per script keyword).
 */
export function matchedScripts(c: QueryCaptures, ctx: RuleContext): { anchor: SyntaxNode; scripts: ShellScript[] } | null {
  const key = `${ctx.rule.meta.id}:seen`;
  let seen = ctx.state.get(key) as Set<number> | undefined;
  if (!seen) ctx.state.set(key, (seen = new Set()));
  if (c.call) {
    const call = c.call[0];
    if (seen.has(call.id)) return null;
    seen.add(call.id);
    const scripts = shellScripts(call, ctx);
    return scripts.length ? { anchor: call, scripts } : null;
  }
  const fn = c.def?.[0];
  if (!fn || seen.has(fn.id)) return null;
  seen.add(fn.id);
  if (!isBashTaskFunction(fn, ctx)) return null;
  const name = fn.childForFieldName('name')?.text ?? '?';
  return { anchor: fn, scripts: returnValues(c.body[0]).map((node) => ({ node, label: `the return value of @task.bash \`${name}\`` })) };
}

/** Report a node once per rule and file (a literal shared by several operators through a name). */
export function reportOnce(ctx: RuleContext, node: SyntaxNode, report: () => void): void {
  const key = `${ctx.rule.meta.id}:reported`;
  let done = ctx.state.get(key) as Set<number> | undefined;
  if (!done) ctx.state.set(key, (done = new Set()));
  if (done.has(node.id)) return;
  done.add(node.id);
  report();
}
