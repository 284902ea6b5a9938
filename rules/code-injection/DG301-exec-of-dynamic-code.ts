import { defineRule } from '../../src/engine/rule';
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { callArgs, isConstant, stringValue, unwrap } from '../../src/engine/python';
import { provenance, resolveName } from '../../src/airflow/provenance';
import { hiddenPayload } from './_hidden-payload';


export default defineRule({
  meta: {
    id: 'DG301',
    name: 'exec-of-dynamic-code',
    category: 'code-injection',
    severity: 'high',
    message: '`{fn}` runs code that is not a constant',
    messages: {
      hidden: '`{fn}` runs a string of code that {does}: a payload kept in a string, out of sight of rules that read code',
    },
    aliases: ['B102', 'B307', 'S102', 'S307'],
    docs: {
      what: 'Finds `eval`, `exec`, `compile` and `timeit` called on anything but a string literal, including through aliases (`from builtins import exec as run`) and `getattr(builtins, "exec")` (for `timeit`, a `stmt` that is a function, lambda or method is not code text; a task parameter or a string built at run time is); and on a string literal whose code starts processes, reaches the network, calls native code, decodes or imports by name, or reads the environment (`exec("__import__(\'os\').system(\'id\')")`: a payload kept in a string; *critical* at parse time).',
      why: 'In a DAG file this code runs inside the scheduler or dag-processor when the file is parsed, with its credentials and network. Whatever reaches `eval`/`exec` — a value from `dag_run.conf`, a Variable, a file, a decoded blob — becomes code with those privileges. Obfuscated payloads nearly always end in one of these calls.',
      example: '```python\nimport base64\nexec(base64.b64decode(PAYLOAD))\n\nthreshold = eval(Variable.get("threshold_expr"))\n```',
      useInstead: '```python\nimport ast\nthreshold = ast.literal_eval(Variable.get("threshold_expr"))  # only literals\n# or parse structured data explicitly\nimport json\nsettings = json.loads(Variable.get("settings"))\n```',
    },
  },
  // timeit runs its `stmt`/`setup` strings as code too
  calls: ['builtins.eval', 'builtins.exec', 'builtins.compile', 'timeit.timeit', 'timeit.repeat', 'timeit.Timer'],
  onCall(call, fn, ctx) {
    const args = callArgs(call);
    const first = fn.startsWith('timeit.') ? (args.positional[0] ?? args.keywords.get('stmt')) : (args.positional[0] ?? args.keywords.get('source'));
    // timeit's default stmt is "pass"; a callable stmt (a function, not a string) is not code from text
    if (!first || (fn.startsWith('timeit.') && isCallableStmt(first, ctx))) return;
    if (isConstant(first)) {
      // constant code is reported only when it does what a DAG file never needs to hide in a string
      const does = hiddenPayload(stringValue(first) ?? '');
      if (does) ctx.report(call, { fn: fn.replace('builtins.', ''), does }, { message: 'hidden', severity: ctx.isParseTime(call) ? 'critical' : 'high' });
      return;
    }
    ctx.report(call, { fn: fn.replace('builtins.', '') });
  },
});

/**
 * A timeit `stmt` that is a callable rather than code text: a lambda, a method (`obj.run`), or a name bound to a
 * function (`def f`, an import, `f = lambda: …`). A name bound to anything else — a task parameter, a string built
 * at run time — is code text.
 */
function isCallableStmt(stmt: SyntaxNode, ctx: RuleContext): boolean {
  const n = unwrap(stmt);
  if (n.type === 'lambda' || n.type === 'attribute') return true;
  if (n.type !== 'identifier') return false;
  if (ctx.imports.has(n.text)) return true;
  if (new RegExp(`\\bdef\\s+${n.text}\\s*\\(`).test(ctx.file.text)) return true;
  const defs = resolveName(n);
  if (defs.length) return defs.some((d) => unwrap(d).type === 'lambda');
  // not assigned in the file: a builtin (`len`) unless it is a parameter or loop variable carrying data
  return provenance(n, ctx).trust === 'unknown';
}
