import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { argument, stringValue, unwrap, type CallArgs } from '../../src/engine/python';
import type { RuleContext } from '../../src/engine/context';
import { sinkCalls } from '../../src/engine/partials';
import { atLeast } from '../../src/airflow/trust';
import { commandParts } from '../../src/airflow/strings';
import { isShellCommandFlag, isShellProgram } from '../../src/airflow/shell';
import { provenance, type Provenance } from '../../src/airflow/provenance';
import { commandProvenance, originWords, severityFor, snippet } from './_util';

/** Run their string argument through `/bin/sh -c` (or cmd.exe). */
const SHELL_STRING = new Map<string, string>([
  ['os.system', 'command'],
  ['os.popen', 'cmd'],
  ['os.popen2', 'cmd'],
  ['os.popen3', 'cmd'],
  ['os.popen4', 'cmd'],
  ['popen2.popen2', 'cmd'],
  ['popen2.popen3', 'cmd'],
  ['popen2.popen4', 'cmd'],
  ['popen2.Popen3', 'cmd'],
  ['popen2.Popen4', 'cmd'],
  ['commands.getoutput', 'cmd'],
  ['commands.getstatusoutput', 'cmd'],
  ['asyncio.create_subprocess_shell', 'cmd'],
  // a remote shell: paramiko `client.exec_command(cmd)`, `SSHHook(…).get_conn().exec_command(…)` (any receiver)
  ['**.exec_command', 'command'],
  // Airflow's SSHHook.exec_ssh_client_command(ssh_client, command, …)
  ['**.exec_ssh_client_command', 'command'],
  // invoke.run(cmd) runs its string through a shell
  ['invoke.run', 'command'],
  ['invoke.sudo', 'command'],
]);

/**
 * Take a command line and split it into argv themselves (no shell): a value spliced in can add options and
 * arguments (`ssh -oProxyCommand=…`, `--output=/etc/…`), and `bash -c` in the line is a shell again.
 */
const COMMAND_LINE = new Map<string, string>([
  ['pexpect.spawn', 'command'],
  ['pexpect.spawnu', 'command'],
  ['pexpect.run', 'command'],
  ['pexpect.runu', 'command'],
  ['pexpect.pty_spawn.spawn', 'command'],
  ['pexpect.popen_spawn.PopenSpawn', 'cmd'],
]);

/** Start a program without a shell: [index of the program, index of the first argv element, argv is a list?]. */
const EXEC_LIKE = new Map<string, [number, number, boolean]>();
for (const s of ['l', 'le', 'lp', 'lpe']) EXEC_LIKE.set(`os.exec${s}`, [0, 1, false]);
for (const s of ['v', 've', 'vp', 'vpe']) EXEC_LIKE.set(`os.exec${s}`, [0, 1, true]);
for (const s of ['l', 'le', 'lp', 'lpe']) EXEC_LIKE.set(`os.spawn${s}`, [1, 2, false]);
for (const s of ['v', 've', 'vp', 'vpe']) EXEC_LIKE.set(`os.spawn${s}`, [1, 2, true]);
EXEC_LIKE.set('os.posix_spawn', [0, 1, true]);
EXEC_LIKE.set('os.posix_spawnp', [0, 1, true]);
EXEC_LIKE.set('os.startfile', [0, -1, false]);
EXEC_LIKE.set('asyncio.create_subprocess_exec', [0, 1, false]);
EXEC_LIKE.set('pty.spawn', [0, 0, true]);


export default defineRule({
  meta: {
    id: 'DG202',
    name: 'os-command-with-input',
    category: 'shell-injection',
    severity: 'high',
    parseTime: 'note',
    message: '`{fn}` {what} {origin} (`{value}`)',
    aliases: ['B605', 'B606', 'S605', 'S606'],
    docs: {
      what:
        'Finds `os.system`, `os.popen*` (also behind `functools.partial(os.system)`, called at once or through a name), `popen2.*`, `commands.getoutput`/`getstatusoutput` `asyncio.create_subprocess_shell`, paramiko `exec_command`, `SSHHook.exec_ssh_client_command` and `invoke.run` given a non-constant command; `pexpect.spawn`/`pexpect.run` (they split a command line into arguments themselves: a value can add options) given a command line built from data; and `os.exec*`, `os.spawn*`, `os.posix_spawn*`, `os.startfile`, `asyncio.create_subprocess_exec` and `pty.spawn` when the *program* is not constant or the program is a shell run with `-c` and a non-constant script. Arguments passed as separate argv elements to a constant program are not reported. Provenance is followed as in DG201: constants, module paths and `shlex.quote` are fine.',
      why:
        'These functions hand their string to `/bin/sh -c`: shell metacharacters in the value run extra commands on the worker, or in the scheduler/dag-processor when the call is at module level. `os.exec*`/`spawn*` do not use a shell, but a program name taken from input runs whatever the input names.',
      example: '```python\ndef cleanup(**context):\n    path = context["dag_run"].conf["path"]\n    os.system("rm -rf " + path)\n```',
      useInstead: '```python\ndef cleanup(**context):\n    path = context["dag_run"].conf["path"]\n    shutil.rmtree(safe_join(BASE_DIR, path))  # or subprocess.run(["rm", "-rf", "--", path])\n```',
    },
  },
  // functools.partial(os.system): a shell runner, judged where it is called
  calls: [...SHELL_STRING.keys(), ...EXEC_LIKE.keys(), ...COMMAND_LINE.keys(), 'functools.partial'],
  onCall(call, fn, ctx) {
    for (const c of sinkCalls(call, fn, ctx, (t) => SHELL_STRING.has(t) || EXEC_LIKE.has(t) || COMMAND_LINE.has(t))) check(c.use, c.fn, c.args, ctx);
  },
});

/** The rule on one call of `fn` with these arguments. */
function check(call: SyntaxNode, fn: string, args: CallArgs, ctx: RuleContext): void {
  let found: Provenance | null = null;
  let what = 'runs a shell command built from';
  const ssh = fn.endsWith('.exec_ssh_client_command');
  const line = COMMAND_LINE.get(fn);
  const kw = SHELL_STRING.get(fn) ?? line ?? (fn.endsWith('.exec_command') || ssh ? 'command' : undefined);
  if (line) what = 'runs a command line (split into arguments, so a value can add options) built from';
  if (kw) {
    // SSHHook.exec_ssh_client_command(client, command, …)
    const cmd = argument(args, kw, ssh ? 1 : 0);
    if (!cmd) return;
    found = commandProvenance(cmd, ctx);
    // a remote command passed through whole (an SSH operator's own `command` parameter) is the caller's business,
    // as in DG204; built here, or straight from the trigger, it is this file's
    if ((fn.endsWith('.exec_command') || ssh) && !commandParts(cmd).formatted && found.trust !== 'user') return;
  } else {
    const spec = EXEC_LIKE.get(fn);
    if (!spec) return;
    const [progIdx, argvIdx, isList] = spec;
    let program = args.positional[progIdx];
    let argv: SyntaxNode[] = [];
    if (argvIdx >= 0) {
      if (isList) {
        const a = args.positional[argvIdx];
        const u = a ? unwrap(a) : null;
        if (u && (u.type === 'list' || u.type === 'tuple')) argv = u.namedChildren.filter((x) => x.type !== 'comment');
        else if (fn === 'pty.spawn' && u) argv = [u];
      } else argv = args.positional.slice(argvIdx);
    }
    if (fn === 'pty.spawn') program = argv[0];
    if (!program) return;
    const pp = provenance(program, ctx);
    if (atLeast(pp.trust, 'config')) {
      found = pp;
      what = 'starts a program named by';
    } else if (isShellProgram(stringValue(program)) || isShellProgram(stringValue(argv[0]))) {
      for (let i = 0; i < argv.length - 1; i++) {
        if (isShellCommandFlag(stringValue(argv[i]))) {
          found = commandProvenance(argv[i + 1], ctx);
          break;
        }
      }
    }
  }
  if (!found || !atLeast(found.trust, 'config')) return;
  ctx.report(call, { fn, what, origin: originWords(found.trust), value: snippet(found.node) }, { severity: severityFor(found.trust) });
}
