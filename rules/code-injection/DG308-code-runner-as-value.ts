import { defineRule } from '../../src/engine/rule';
import type { SyntaxNode } from 'tree-sitter';
import { callArgs, unwrap } from '../../src/engine/python';
import type { RuleContext } from '../../src/engine/context';
import { laterUsesOfBinding } from '../../src/engine/locate';
import { provenance, singleBinding } from '../../src/airflow/provenance';
import { atLeast } from '../../src/airflow/trust';
import { originWords } from '../shell-injection/_util';

/** Functions that must not be callable from templates, and what a template could then do. */
const MACRO_DANGER: [RegExp, string][] = [
  [/^(os\.(system|popen\d?|exec\w*|spawn\w*|posix_spawnp?)|subprocess\.\w+|commands\.getoutput|pty\.spawn)$/, 'run shell commands on the worker'],
  [/^(importlib\.import_module|(?:builtins\.)?getattr|operator\.attrgetter|pydoc\.locate|pickle\.loads?|marshal\.loads?|dill\.loads?|(?:builtins\.)?open|os\.remove|shutil\.rmtree)$/, 'reach arbitrary code, objects or files'],
];

/**
 * What a macro or filter value calls: the function itself, the one a partial wraps
 * (`functools.partial(subprocess.check_output, shell=True)`), or the one a lambda's body calls with its argument.
 */
function registered(v: SyntaxNode, ctx: RuleContext): SyntaxNode | null {
  if (v.type === 'call' && ctx.callee(v) === 'functools.partial') return callArgs(v).positional[0] ?? null;
  if (v.type === 'lambda') {
    const body = unwrap(v.childForFieldName('body')!);
    return body.type === 'call' ? body.childForFieldName('function') : null;
  }
  return v;
}

/** Builtins that run a string as code. */
const RUNNERS = new Set(['eval', 'exec', 'compile', '__import__']);

export default defineRule({
  meta: {
    id: 'DG308',
    name: 'code-runner-as-value',
    category: 'code-injection',
    severity: 'high',
    message: '`{fn}` is passed as a value ({where}): whatever reaches it runs as Python code',
    messages: {
      macro: '`{fn}` is registered as the Jinja {what} `{name}` of the DAG: every template, including those fed by `dag_run.conf`, can {does}',
    },
    docs: {
      what:
        'Finds `eval`, `exec`, `compile` and `__import__` handed on instead of called: as an argument (`map(exec, payloads)`, `functools.partial(eval, …)`), as a dict value or keyword argument — above all Airflow\'s `user_defined_macros={"calc": eval}` / `user_defined_filters`, which makes the builtin callable from every template of the DAG (`{{ calc(dag_run.conf["expr"]) }}`) — or bound to another name (`run = exec`). Registered as a template macro or filter, also process and import functions (`user_defined_macros={"sh": os.system}`, `subprocess.*`, `importlib.import_module`, `getattr`, `pickle.loads`, `open`…). Only the builtins count: a local function or import named the same does not. A dispatch table of them (`RUNNERS = {"expr": eval, "python": exec}`, also wrapped in lambdas: `{"expr": lambda s: eval(s)}`) that is called with a lookup (`RUNNERS[lang](body)`, or `runner = RUNNERS[lang]` then `runner(body)`) is reported where it is called, with the origin of what it is given.',
      why:
        'A call of `eval(x)` is easy to see and to check (DG301); the same builtin passed as a value hides the call site. Registered as a Jinja macro it turns every template, including those fed by `dag_run.conf`, into a code-execution primitive on the worker; aliased, it escapes name-based scanners.',
      example: '```python\nwith DAG("calc", user_defined_macros={"calc": eval}):\n    BashOperator(task_id="t", bash_command="echo {{ calc(dag_run.conf[\'expr\']) }}")\n```',
      useInstead: '```python\nimport ast, operator\n# a small, explicit evaluator (or ast.literal_eval for literals)\nwith DAG("calc", user_defined_macros={"literal": ast.literal_eval}):\n    ...\n```',
    },
  },
  query: `[
  (argument_list (identifier) @fn)
  (keyword_argument value: (identifier) @fn)
  (pair value: (identifier) @fn)
  (assignment right: (identifier) @fn)
  (list (identifier) @fn)
  (tuple (identifier) @fn)
] @use
(pair value: (lambda body: (call function: (identifier) @fn)) @wrapped) @use
(keyword_argument name: (identifier) @udk value: [(dictionary) (identifier)] @udd (#match? @udk "^user_defined_(macros|filters)$"))`,
  // (the macro dicts as a second top-level pattern: a `#match?` inside the alternation would reject its other branches)
  keywords: ['eval', 'exec', 'compile', '__import__', 'user_defined_macros', 'user_defined_filters'],
  keywordMatch: 'token',
  onMatch(c, ctx) {
    if (c.udd) {
      // commands, imports and files registered as template macros or filters: `user_defined_macros={"sh": os.system}`
      const kw = c.udk[0].text;
      // `user_defined_filters=REPORT_FILTERS` with the dict bound once
      const dict = c.udd[0].type === 'identifier' ? singleBinding(c.udd[0]) : c.udd[0];
      if (dict?.type !== 'dictionary') return;
      for (const p of dict.namedChildren) {
        const v = p.type === 'pair' ? registered(unwrap(p.childForFieldName('value')!), ctx) : null;
        if (!v || (v.type !== 'attribute' && v.type !== 'identifier')) continue;
        const q = ctx.qualifiedName(v) ?? '';
        const does = MACRO_DANGER.find(([re]) => re.test(q))?.[1];
        if (!does) continue;
        const name = p.childForFieldName('key')?.text.replace(/^['"]|['"]$/g, '') ?? '?';
        ctx.report(v, { fn: q, what: kw === 'user_defined_macros' ? 'macro' : 'filter', name, does }, { message: 'macro' });
      }
      return;
    }
    const id = c.fn[0];
    if (!RUNNERS.has(id.text)) return;
    // a local binding or an import of the same name is not the builtin
    const q = ctx.qualifiedName(id);
    if (q !== id.text && q !== `builtins.${id.text}`) return;
    if (ctx.file.text.match(new RegExp(`^\\s*(?:def|class)\\s+${id.text}\\b|^\\s*${id.text}\\s*=`, 'm'))) return;
    const use = c.use[0];
    // a dispatch table (`RUNNERS = {"expr": eval}`) called with a lookup (`RUNNERS[lang](body)`, or through the name
    // the lookup is bound to): reported where it runs, once per table, with what it is given
    const calls = use.type === 'pair' ? dispatchCalls(use.parent!, ctx) : [];
    // `{"expr": lambda s: eval(s)}`: the lambda only forwards to the runner; as a table value it is the runner when
    // the table is called with a lookup (else the call inside is DG301's)
    if (c.wrapped && !calls.length) return;
    if (calls.length) {
      for (const call of calls) {
        if (!ctx.once(call)) continue;
        const arg = callArgs(call).positional[0];
        const p = arg ? provenance(arg, ctx) : null;
        ctx.report(call, { fn: id.text, where: `in the dispatch table called here${p && atLeast(p.trust, 'config') ? `, given ${originWords(p.trust)}` : ''}` });
      }
      return;
    }
    const where =
      use.type === 'pair' && /user_defined_(macros|filters)/.test(use.parent?.parent?.text.slice(0, 40) ?? '')
        ? 'as an Airflow template macro or filter'
        : use.type === 'pair'
          ? 'as a dict value'
          : use.type === 'keyword_argument'
            ? `as \`${use.childForFieldName('name')?.text}=\``
            : use.type === 'assignment'
              ? 'bound to another name'
              : 'as an argument';
    ctx.report(id, { fn: id.text, where });
  },
});

/**
 * The calls of a lookup in a dict bound to a name (`RUNNERS[k](…)`, or `r = RUNNERS[k]` then `r(…)`): where its values
 * run. Empty when the dict is not bound to a name or never called that way.
 */
function dispatchCalls(dict: SyntaxNode, ctx: RuleContext): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const calledAt = (n: SyntaxNode): void => {
    const call = n.parent;
    if (call?.type === 'call' && call.childForFieldName('function')?.id === n.id) out.push(call);
  };
  for (const use of laterUsesOfBinding(dict, ctx.file.text, ctx.root)) {
    const sub = use.parent;
    if (sub?.type !== 'subscript' || sub.childForFieldName('value')?.id !== use.id) continue;
    calledAt(sub);
    const a = sub.parent;
    if (a?.type === 'assignment' && a.childForFieldName('right')?.id === sub.id) for (const u of laterUsesOfBinding(sub, ctx.file.text, ctx.root)) calledAt(u);
  }
  return out;
}
