import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { argument, callArgs, unwrap } from '../../src/engine/python';
import { atLeast } from '../../src/airflow/trust';
import { provenance, resolveName } from '../../src/airflow/provenance';
import type { RuleContext } from '../../src/engine/context';
import { originWords, snippet } from '../shell-injection/_util';

/** Unsandboxed environments: templates compiled by them can reach any Python object. */
const ENVIRONMENTS = new Set(['jinja2.Environment', 'jinja2.environment.Environment', 'jinja2.nativetypes.NativeEnvironment']);

function isUnsandboxedEnv(node: SyntaxNode, ctx: RuleContext, depth = 0): boolean {
  const n = unwrap(node);
  if (depth > 4) return false;
  if (n.type === 'call') return ENVIRONMENTS.has(ctx.callee(n) ?? '');
  if (n.type === 'identifier') return resolveName(n).some((d) => isUnsandboxedEnv(d, ctx, depth + 1));
  return false;
}

const TEMPLATES = ['jinja2.Template', 'jinja2.environment.Template', 'jinja2.nativetypes.NativeTemplate'];

export default defineRule({
  meta: {
    id: 'DG307',
    name: 'jinja-template-from-input',
    category: 'code-injection',
    severity: 'high',
    parseTime: 'note',
    message: 'Jinja template compiled from {origin} (`{value}`) in an unsandboxed environment',
    aliases: [],
    docs: {
      what:
        'Finds `jinja2.Template(source)`, `jinja2.nativetypes.NativeTemplate(source)` and `Environment(…).from_string(source)` (on an `Environment`/`NativeEnvironment` created in the file, not a `SandboxedEnvironment`) when the template *source* is not constant. *High* when it comes from `dag_run.conf`/params (directly or through a task argument fed from them), *medium* from another task\'s output (an XCom, or a TaskFlow argument), a Variable or an environment value, *low* when the file does not show where it comes from (`Template(self.sql_template)`, a helper\'s argument): most likely a template of the DAG\'s own code, but one that a DAG factory could also fill from configuration.\n\nNot reported: Airflow\'s own templating of operator fields — the rendered *values* of `{{ dag_run.conf… }}` are not templates themselves and Airflow renders with a sandboxed environment; `render_template_as_native_obj=True` only `literal_eval`s the rendered result.',
      why:
        'Jinja compiles templates to Python. Outside a sandbox, a template such as `{{ cycler.__init__.__globals__.os.popen("id").read() }}` runs commands (server-side template injection). Whoever controls the template source — a `dag_run.conf` field, a Variable, a file written by another task — runs code on the worker.',
      example: '```python\n@task\ndef render(template: str, **context):\n    return jinja2.Template(template).render(**context)\n```',
      useInstead:
        '```python\nfrom jinja2.sandbox import ImmutableSandboxedEnvironment\n\n@task\ndef render(template: str, **context):\n    return ImmutableSandboxedEnvironment().from_string(template).render(ds=context["ds"])\n```',
    },
  },
  // `env.from_string(…)` on any environment object: whether it is sandboxed is decided from the receiver.
  calls: [...TEMPLATES, '**.from_string'],
  onCall(call, q, ctx) {
    const args = callArgs(call);
    let src: SyntaxNode | undefined;
    const f = call.childForFieldName('function')!;
    if (q.endsWith('.from_string') && f.type === 'attribute') {
      const obj = f.childForFieldName('object')!;
      if (!isUnsandboxedEnv(obj, ctx)) return;
      src = argument(args, 'source', 0);
    } else if (TEMPLATES.includes(q)) src = argument(args, 'source', 0);
    if (!src) return;
    const p = provenance(src, ctx);
    if (!atLeast(p.trust, 'config')) return; // constants and the DAG's own files are reviewed code
    ctx.report(
      call,
      { origin: originWords(p.trust), value: snippet(p.node) },
      // a source the file does not trace (`Template(self.sql_template)`) is most likely the DAG's own template
      { severity: p.trust === 'user' ? 'high' : p.trust === 'unknown' ? 'low' : 'medium' },
    );
  },
});
