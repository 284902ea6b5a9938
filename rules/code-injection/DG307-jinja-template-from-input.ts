import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { argument, callArgs, unwrap } from '../../src/engine/python';
import { atLeast, provenance, resolveName } from '../../src/engine/airflow';
import type { RuleContext } from '../../src/engine/context';
import { originWords, PARSE_TIME_NOTE, snippet } from './_util';

/** Unsandboxed environments: templates compiled by them can reach any Python object. */
const ENVIRONMENTS = new Set(['jinja2.Environment', 'jinja2.environment.Environment', 'jinja2.nativetypes.NativeEnvironment']);

function isUnsandboxedEnv(node: SyntaxNode, ctx: RuleContext, depth = 0): boolean {
  const n = unwrap(node);
  if (depth > 4) return false;
  if (n.type === 'call') return ENVIRONMENTS.has(ctx.callee(n) ?? '');
  if (n.type === 'identifier') return resolveName(n).some((d) => isUnsandboxedEnv(d, ctx, depth + 1));
  return false;
}

/** Per-finding message template. */
const MSG = 'Jinja template compiled from {origin} (`{value}`) in an unsandboxed environment';

export default defineRule({
  meta: {
    id: 'DG307',
    name: 'jinja-template-from-input',
    category: 'code-injection',
    severity: 'high',
    message: 'unsandboxed Jinja template compiled from a non-constant source',
    aliases: [],
    docs: {
      what:
        'Finds `jinja2.Template(source)`, `jinja2.nativetypes.NativeTemplate(source)` and `Environment(…).from_string(source)` (on an `Environment`/`NativeEnvironment` created in the file, not a `SandboxedEnvironment`) when the template *source* comes from outside the code: a task argument, `dag_run.conf`/params, an XCom, a Variable or an environment value. Sources of unknown origin (class attributes, helper arguments) are not reported, to stay sound.\n\nNot reported: Airflow\'s own templating of operator fields — the rendered *values* of `{{ dag_run.conf… }}` are not templates themselves and Airflow renders with a sandboxed environment; `render_template_as_native_obj=True` only `literal_eval`s the rendered result.',
      why:
        'Jinja compiles templates to Python. Outside a sandbox, a template such as `{{ cycler.__init__.__globals__.os.popen("id").read() }}` runs commands (server-side template injection). Whoever controls the template source — a `dag_run.conf` field, a Variable, a file written by another task — runs code on the worker.',
      example: '```python\n@task\ndef render(template: str, **context):\n    return jinja2.Template(template).render(**context)\n```',
      useInstead:
        '```python\nfrom jinja2.sandbox import ImmutableSandboxedEnvironment\n\n@task\ndef render(template: str, **context):\n    return ImmutableSandboxedEnvironment().from_string(template).render(ds=context["ds"])\n```',
    },
  },
  query: `
(call function: [(identifier) (attribute)] @fn (#match? @fn "(Template|NativeTemplate)$") arguments: (argument_list)) @call
(call function: (attribute attribute: (identifier) @m (#eq? @m "from_string")) arguments: (argument_list)) @call
`,
  onMatch(c, ctx) {
    const call = c.call[0];
    const args = callArgs(call);
    let src: SyntaxNode | undefined;
    if (c.m) {
      const obj = call.childForFieldName('function')!.childForFieldName('object')!;
      if (!isUnsandboxedEnv(obj, ctx)) return;
      src = argument(args, 'source', 0);
    } else {
      const q = ctx.callee(call);
      if (q !== 'jinja2.Template' && q !== 'jinja2.environment.Template' && q !== 'jinja2.nativetypes.NativeTemplate') return;
      src = argument(args, 'source', 0);
    }
    if (!src) return;
    const p = provenance(src, ctx);
    if (!atLeast(p.trust, 'config') || p.trust === 'unknown') return; // only sources known to be outside the code
    const parse = ctx.isParseTime(call);
    ctx.report(
      call,
      MSG.replace('{origin}', originWords(p.trust)).replace('{value}', snippet(p.node)) + (parse ? PARSE_TIME_NOTE : ''),
      { severity: p.trust === 'user' ? 'high' : 'medium' },
    );
  },
});
