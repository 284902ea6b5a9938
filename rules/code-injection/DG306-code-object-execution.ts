import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { argument, callArgs, isConstant, stringValue, unwrap } from '../../src/engine/python';
import { hiddenPayload } from './_hidden-payload';
import { resolveName } from '../../src/airflow/provenance';
import type { RuleContext } from '../../src/engine/context';
import type { Severity } from '../../src/report';

const CONSTRUCTORS = new Set(['types.FunctionType', 'types.CodeType', 'types.LambdaType']);
const INTERPRETERS = new Set(['code.InteractiveInterpreter', 'code.InteractiveConsole']);
const INTERACT = new Set(['code.interact', 'code.compile_command']);
const METHODS = new Set(['runsource', 'runcode', 'push']);

/** Is this expression an interpreter object: `code.InteractiveConsole(…)` or a name assigned one? */
function isInterpreter(node: SyntaxNode, ctx: RuleContext): boolean {
  const n = unwrap(node);
  if (n.type === 'call') return INTERPRETERS.has(ctx.callee(n) ?? '');
  if (n.type === 'identifier') return resolveName(n).some((d) => isInterpreter(d, ctx));
  return false;
}

export default defineRule({
  meta: {
    id: 'DG306',
    name: 'code-object-execution',
    category: 'code-injection',
    severity: 'high',
    parseTime: 'note',
    message: '`code` interpreter `.{method}()` runs code that is not a constant',
    messages: {
      constructor: '`{fn}(…)` builds executable code from a code object instead of source that can be reviewed',
      interact: '`{fn}` embeds an interactive Python interpreter',
      hidden: '`code` interpreter `.{method}()` runs a string of code that {does}: a payload kept in a string, out of sight of rules that read code',
    },
    aliases: [],
    docs: {
      what:
        'Finds code execution that avoids the words `exec`/`eval`: building functions from code objects (`types.FunctionType(…)`, `types.CodeType(…)`), and the `code` module\'s interpreters (`code.InteractiveInterpreter(…).runsource/runcode`, `code.InteractiveConsole(…).push`, `code.interact`, `code.compile_command`) given non-constant source, or constant source that hides a payload (starts processes, reaches the network, decodes, imports by name: *critical* at parse time, as DG301 for `exec`).',
      why:
        'A DAG file has no reason to assemble code objects or embed an interactive interpreter. These are the routes obfuscated payloads take to run code that scanners looking for `exec`/`eval` miss, and an interpreter fed from input is an `eval` by another name — in the scheduler when the file is parsed.',
      example: '```python\nimport code, types\nfn = types.FunctionType(marshal.loads(BLOB), globals())\nfn()\n\ncode.InteractiveInterpreter().runsource(Variable.get("snippet"))\n```',
      useInstead: 'Import reviewed functions from modules in the repository; parse data with `json`/`ast.literal_eval`.',
    },
  },
  // Interpreter methods are called on any receiver (`InteractiveConsole(…).push(…)`, a name bound to one).
  calls: [...CONSTRUCTORS, ...INTERACT, ...[...METHODS].map((m) => `**.${m}`)],
  onCall(call, fn, ctx) {
    const f = call.childForFieldName('function')!;
    if (f.type === 'attribute' && METHODS.has(f.childForFieldName('attribute')!.text) && isInterpreter(f.childForFieldName('object')!, ctx)) {
      const method = f.childForFieldName('attribute')!.text;
      const args = callArgs(call);
      const src = argument(args, method === 'runcode' ? 'code' : 'source', 0) ?? args.positional[0];
      if (!src) return;
      if (isConstant(src)) reportHidden(call, src, method, ctx.isParseTime(call) ? 'critical' : 'high', ctx);
      else ctx.report(call, { method });
      return;
    }
    if (CONSTRUCTORS.has(fn)) {
      ctx.report(call, { fn }, { message: 'constructor' });
    } else if (INTERACT.has(fn)) {
      if (fn === 'code.compile_command') {
        const args = callArgs(call);
        const src = args.positional[0] ?? args.keywords.get('source');
        if (!src) return;
        // compiled, not yet run: high wherever it is
        if (isConstant(src)) return reportHidden(call, src, 'compile_command', 'high', ctx);
      }
      ctx.report(call, { fn }, { message: 'interact' });
    }
  },
});

/** Constant source is reported only when it hides a payload (as DG301 does for exec/eval). */
function reportHidden(call: SyntaxNode, src: SyntaxNode, method: string, severity: Severity, ctx: RuleContext): void {
  const does = hiddenPayload(stringValue(src) ?? '');
  if (does) ctx.report(call, { method, does }, { message: 'hidden', severity, parseTime: false });
}
