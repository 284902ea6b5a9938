import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { callArgs, unwrap } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';
import { resolveName } from '../../src/airflow/provenance';
import { isStandaloneScript, STANDALONE_NOTE } from './_standalone';

/** Calls that signal another process: qualified callee -> index of the pid argument. */
const SIGNALLERS: ReadonlyMap<string, number> = new Map([
  ['os.kill', 0],
  ['os.killpg', 0],
  ['signal.pthread_kill', 0],
  ['signal.pidfd_send_signal', 0],
]);
/** psutil: `psutil.Process(pid).kill()` and friends. */
const PSUTIL_METHODS = new Set(['kill', 'terminate', 'send_signal', 'suspend']);
/** Calls that end the calling process itself. */
const EXITS = new Set(['os._exit', 'os.abort', 'sys.exit', 'builtins.exit', 'builtins.quit', 'exit', 'quit']);

/**
 * What a pid expression designates when it is not "some child this code started": the parent (the dag-processor
 * manager, the scheduler, or the task's supervisor), the container's init (the whole pod), every process of the
 * group or of the user.
 */
function victim(node: SyntaxNode | undefined, ctx: RuleContext): string | null {
  if (!node) return null;
  const n = unwrap(node);
  const t = n.text.replace(/\s+/g, '');
  if (n.type === 'call') {
    const fn = ctx.callee(n) ?? '';
    if (fn === 'os.getppid') return 'its parent process (the dag-processor manager or scheduler, or a task\'s supervisor)';
    if (fn === 'os.getpgid' || fn === 'os.getpgrp') return 'its whole process group';
    if (fn === 'os.getpid') return 'itself';
  }
  if (t === '1') return 'PID 1, the container\'s init (the whole pod)';
  if (t === '0') return 'every process of its process group';
  if (t === '-1') return 'every process it may signal';
  return null;
}

export default defineRule({
  meta: {
    id: 'DG615',
    name: 'process-kill',
    category: 'malicious',
    severity: 'high',
    message: '`{fn}` signals {target}{when}',
    messages: {
      exit: '`{fn}` ends the process that parses the DAG file while it is parsed: Airflow never finishes importing it{script}',
    },
    docs: {
      what:
        'Finds code that kills or signals processes it did not start: `os.kill`, `os.killpg`, `signal.pthread_kill`, `signal.pidfd_send_signal` and `psutil.Process(…).kill()/terminate()/send_signal()/suspend()`. *Critical* when the target is the parent process (`os.getppid()`: the dag-processor manager or scheduler at parse time, the task supervisor in a task), PID 1 (the container\'s init: the whole pod), 0 or -1 (the process group, every process) or the process group, in a task as well as at parse time; *high* for any other signal sent while the DAG file is parsed. Also `os._exit`, `os.abort`, `sys.exit()`, `exit()` and `quit()` at parse time (*high*): they end the parsing process itself. Signals sent from a task to other pids (a child it started) are not reported.',
      why:
        'The dag-processor imports DAG files in processes forked from the scheduler\'s machinery; a file that signals its parent or PID 1 takes down DAG parsing (or the whole scheduler pod) for every team, every time it is parsed — a denial of service that needs no network and no credentials. Ending the parsing process at import time does the same more quietly: the file never finishes importing and its neighbours in the same process are lost.',
      example: '```python\nimport os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n```',
      useInstead: 'A DAG file has no reason to signal processes. In a task, signal only the processes the task started (keep their `Popen` object and call `.terminate()` on it); let Airflow\'s timeouts end slow tasks.',
    },
  },
  calls: [...SIGNALLERS.keys(), '**.kill', '**.terminate', '**.send_signal', '**.suspend', 'os._exit', 'os.abort', 'sys.exit', 'builtins.exit', 'builtins.quit'],
  onCall(call, fn, ctx) {
    const parse = ctx.isParseTime(call);
    const when = parse ? ' while the DAG file is parsed' : '';
    if (EXITS.has(fn)) {
      if (!parse) return;
      // a command-line script kept in the DAG repository ends itself at module level: low, if it is in the DAG folder
      const script = isStandaloneScript(ctx);
      ctx.report(call, { fn: fn.replace('builtins.', ''), script: script ? STANDALONE_NOTE : '' }, { message: 'exit', parseTime: false, ...(script ? { severity: 'low' as const } : {}) });
      return;
    }
    const args = callArgs(call);
    let pid: SyntaxNode | undefined;
    if (SIGNALLERS.has(fn)) {
      pid = args.positional[SIGNALLERS.get(fn)!] ?? args.keywords.get('pid');
      // `os.kill(pid, 0)` sends nothing: it asks whether the process exists
      const sig = args.positional[SIGNALLERS.get(fn)! + 1] ?? args.keywords.get('sig') ?? args.keywords.get('signal');
      if (sig && unwrap(sig).text.trim() === '0') return;
    } else {
      // psutil.Process(pid).kill(): the receiver is a psutil process
      const f = call.childForFieldName('function');
      const method = f?.type === 'attribute' ? f.childForFieldName('attribute')?.text : undefined;
      let recv: SyntaxNode | null = f?.type === 'attribute' ? unwrap(f.childForFieldName('object')!) : null;
      // `p = psutil.Process(pid); p.kill()`
      if (recv?.type === 'identifier') recv = resolveName(recv).map(unwrap).find((d) => d.type === 'call') ?? null;
      if (!method || !PSUTIL_METHODS.has(method) || recv?.type !== 'call') return;
      const ctor = ctx.callee(recv) ?? '';
      if (ctor !== 'psutil.Process' && ctor !== 'psutil.Popen') return;
      const ra = callArgs(recv);
      pid = ra.positional[0] ?? ra.keywords.get('pid');
      // psutil.Process() without a pid is the calling process
      if (!pid) {
        if (parse) ctx.report(call, { fn: `psutil.Process().${method}`, target: 'itself', when }, { parseTime: false });
        return;
      }
      fn = `psutil.Process(…).${method}`;
    }
    const target = victim(pid, ctx);
    if (target && target !== 'itself') {
      ctx.report(call, { fn, target, when }, { severity: 'critical', parseTime: false });
    } else if (parse) {
      ctx.report(call, { fn, target: target ?? `process \`${(pid?.text ?? '?').slice(0, 40)}\``, when }, { parseTime: false });
    }
  },
});
