import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { defineRule } from '../../src/engine/rule';
import { commandParts } from '../../src/airflow/strings';
import { decisiveFormattedValue, FORMATTED_SEVERITY, inputToUnseenCode } from '../../src/airflow/provenance';
import { type ShellScript } from '../../src/airflow/shell';
import { originWords, reportOnce, shellScriptMatchers, snippet } from './_util';

function check(_anchor: SyntaxNode, scripts: ShellScript[], ctx: RuleContext): void {
  for (const s of scripts) {
    const parts = commandParts(s.node);
    if (!parts.formatted && !parts.values.length) continue;
    const b = decisiveFormattedValue(parts.values, ctx);
    if (!b) continue;
    if (!parts.formatted && b.trust === 'unknown' && !s.argv) {
      // built whole by a function or class of another module from trigger input or fetched data (`return
      // build_cmd(dag_run.conf["path"])` in `@task.bash`): that code is not read, so medium (low for an XCom)
      const input = inputToUnseenCode(b.node, ctx);
      if (input) {
        reportOnce(ctx, s.node, () =>
          ctx.report(s.node, { label: s.label, code: snippet(b.node), origin: originWords(input.trust), value: snippet(input.node) }, { message: 'unseen', severity: input.trust === 'xcom' ? 'low' : 'medium' }),
        );
      }
      continue;
    }
    if (!parts.formatted && b.trust !== 'user') continue; // a whole command passed through, not built here
    // a command split into arguments (no shell): only trigger input, which can add options, at medium
    if (s.argv && b.trust !== 'user') continue;
    reportOnce(ctx, s.node, () =>
      ctx.report(
        s.node,
        { label: s.label, origin: originWords(b.trust), value: snippet(b.node) },
        s.argv
          ? { severity: 'medium', message: 'argv' }
          : { severity: FORMATTED_SEVERITY[b.trust]!, ...(parts.formatted ? {} : { message: 'whole' }) },
      ),
    );
  }
}

export default defineRule({
  meta: {
    id: 'DG204',
    name: 'formatted-shell-command',
    category: 'shell-injection',
    severity: 'high',
    message: '{label} is built by Python string formatting from {origin} (`{value}`)',
    messages: {
      whole: '{label} is {origin} (`{value}`), run as a whole shell command',
      unseen: '{label} is built by code this file does not show (`{code}`) from {origin} (`{value}`): if that code formats it into the command, pass it through `env=` and quote it in the script instead',
      argv: '{label} is built from {origin} (`{value}`) and split at spaces into the container\'s arguments: the value can add options and arguments',
    },
    aliases: [],
    docs: {
      what:
        'Finds shell scripts of Airflow operators (the same sinks as DG203: `BashOperator`/`BashSensor` `bash_command`, `SSHOperator`/`WinRMOperator` `command`, `@task.bash` return values, `DockerOperator`/`KubernetesPodOperator` `sh -c` scripts; a DockerOperator string `command` without a shell, split at spaces into arguments, only for trigger input and at *medium*) built with f-strings, `%`, `.format`, `+` or `" ".join([...])` from values that are not constants (a template filled from `locals()`/`vars()` takes the names its fields ask for). Names are followed to their assignment, `for` loop or parameter (a dict or list carries what is stored in it — `d[k] = v`, `.update`, `.setdefault`, `.append`; `self.x` what the class stores there, with `__init__` arguments judged where the class is called): constants, loops over constant lists, paths derived from `__file__` or module constants, dates (`.strftime`), numbers and `shlex.quote(…)` are fine. Parameters of `@task.bash`/`@task` functions and `python_callable`s are judged at their call sites in the file (`f(…)`, `f.expand(…)`, `f.override(…)(…)`, `op_kwargs`/`op_args`): constants everywhere are fine, and the parameter takes the worst value passed; with no call site in the file, or one that does not show the value, it is reported as a function parameter, *medium*. By origin: `dag_run.conf`/`params` (and templates rendering them passed as task arguments) *high*; XComs and other tasks\' output *medium*; Variables, Connections and environment values *info* (Airflow trusts whoever edits them); values of unknown origin (e.g. a DAG-factory argument) *info*: shown, but below the default `--fail-on`. A whole command built by a function or class of another module from trigger input or fetched data (`return build_cmd(dag_run.conf["path"])` in `@task.bash`) is *medium* (*low* for an XCom): dag-guard reads one file at a time and cannot see whether that code quotes its input. Comments between the arguments of a command are not values.',
      why:
        'Whatever the value contains becomes shell syntax: quotes, `;`, `$(…)` and newlines run extra commands on the worker. `@task.bash` parameters are XComs or trigger-time values; `Variable.get` values are editable in the UI; factory arguments often come from YAML files outside review. Python formatting also bypasses Airflow\'s templating, so the value is fixed at parse time or unquoted at run time.',
      example:
        '```python\n@task.bash\ndef sync(bucket: str) -> str:\n    return f"aws s3 sync s3://{bucket}/in /data/in"\n\nBashOperator(task_id="dump", bash_command="pg_dump %s > out.sql" % Variable.get("db_name"))\n```',
      useInstead:
        '```python\n@task.bash(env={"BUCKET": "{{ ti.xcom_pull(task_ids=\'pick\') }}"})\ndef sync() -> str:\n    return \'aws s3 sync "s3://$BUCKET/in" /data/in\'\n\nBashOperator(task_id="dump", bash_command=\'pg_dump "$DB" > out.sql\', env={"DB": "{{ var.value.db_name }}"})\n# or quote: f"aws s3 sync s3://{shlex.quote(bucket)}/in /data/in"\n```',
    },
  },
  ...shellScriptMatchers(check),
});
