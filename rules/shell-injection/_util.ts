/**
 * Shared helpers of the shell-injection family (DG2xx), also used by code-injection for wording: the provenance of
 * a command's spliced values, message wording by origin, and the matchers DG203/DG204 share (shell-capable operator
 * calls by qualified name, `@task.bash` functions by query).
 */
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import type { QueryCaptures } from '../../src/engine/rule';
import { atLeast, type Trust } from '../../src/airflow/trust';
import { commandParts } from '../../src/airflow/strings';
import { isBashTaskFunction, SHELL_OPERATOR_CALLS } from '../../src/airflow/operators';
import { provenance, type Provenance } from '../../src/airflow/provenance';
import { shellScripts, type ShellScript } from '../../src/airflow/shell';
import type { Severity } from '../../src/report';

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

/** Severity by provenance (DG201/DG202): user input, data fetched from outside and unknown values high; config,
 *  XComs and task parameters whose value the file does not show medium. */
export function severityFor(t: Trust): Severity {
  return t === 'user' || t === 'external' || t === 'unknown' ? 'high' : 'medium';
}

export function originWords(t: Trust): string {
  switch (t) {
    case 'user':
      return 'input from whoever triggers the DAG';
    case 'xcom':
      return 'the output of another task';
    case 'external':
      return 'data fetched from outside (an HTTP response, a bucket or SFTP listing)';
    case 'param':
      return 'a function parameter whose value no call site in this file shows';
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


// ---- operators and @task.bash (DG203, DG204) ----------------------------------------------------------------

/**
 * `@task.bash` functions (their return value is the script): `decorated_definition`s with a decorator that names
 * `bash` (`@task.bash`, `@task.bash(env=…)`, `@bash_task`); `isBashTaskFunction` then checks the decorator's
 * qualified name.
 */
export const BASH_TASK_QUERY = `(decorated_definition (decorator) @dec (#match? @dec "bash") definition: (function_definition body: (block) @body) @def)`;

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

/** Shell scripts of one `@task.bash` function matched by BASH_TASK_QUERY (null when not one, or already seen:
 *  a function with several decorators naming `bash` matches once per decorator). */
export function bashTaskScripts(c: QueryCaptures, ctx: RuleContext): { anchor: SyntaxNode; scripts: ShellScript[] } | null {
  const fn = c.def?.[0];
  if (!fn) return null;
  const { seen } = shellRuleState(ctx);
  if (seen.has(fn.startIndex)) return null;
  seen.add(fn.startIndex);
  if (!isBashTaskFunction(fn, ctx)) return null;
  const name = fn.childForFieldName('name')?.text ?? '?';
  return { anchor: fn, scripts: returnValues(c.body[0]).map((node) => ({ node, label: `the return value of @task.bash \`${name}\`` })) };
}

/** What DG203/DG204 each remember in a file: `@task.bash` functions already seen, nodes already reported. */
function shellRuleState(ctx: RuleContext): { seen: Set<number> } {
  return ctx.ruleState(() => ({ seen: new Set<number>() }));
}

/** Report a node once per rule and file (a literal shared by several operators through a name). */
export function reportOnce(ctx: RuleContext, node: SyntaxNode, report: () => void): void {
  if (ctx.once(node)) report();
}

/**
 * The matchers DG203 and DG204 share: every shell script of a shell-capable operator call and of a `@task.bash`
 * function, handed to `check` with the node that anchors them (the call or the function).
 */
export function shellScriptMatchers(check: (anchor: SyntaxNode, scripts: ShellScript[], ctx: RuleContext) => void) {
  return {
    calls: SHELL_OPERATOR_CALLS,
    onCall(call: SyntaxNode, _fn: string, ctx: RuleContext): void {
      const scripts = shellScripts(call, ctx);
      if (scripts.length) check(call, scripts, ctx);
    },
    query: BASH_TASK_QUERY,
    keywords: ['bash'],
    onMatch(c: QueryCaptures, ctx: RuleContext): void {
      const m = bashTaskScripts(c, ctx);
      if (m) check(m.anchor, m.scripts, ctx);
    },
  };
}
