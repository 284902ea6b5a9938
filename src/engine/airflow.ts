/**
 * Shared Airflow knowledge for rules: which operators run a shell, which of their arguments are shell scripts,
 * how Jinja template expressions are classified (safe macro vs value controlled by whoever triggers the DAG),
 * and a small, local provenance analysis of Python values (constant, deployment path, config, user input…).
 *
 * Everything here looks only at a node and its ancestors or earlier siblings: no rule re-walks the tree.
 */
import type { SyntaxNode } from 'tree-sitter';
import { defineService, type RuleContext } from './context';
import { callArgs, isConstant, stringValue, unwrap, type CallArgs } from './python';
import { callAt } from './locate';

// ---------------------------------------------------------------------------------------------------------------
// Operators and decorators
// ---------------------------------------------------------------------------------------------------------------

/** How a shell-capable operator takes its script. */
export type ShellOperatorKind = 'bash' | 'ssh' | 'winrm' | 'docker' | 'k8s';

/** Qualified names (every import path across Airflow 1, 2 and 3) of operators that run a command. */
export const SHELL_OPERATORS: ReadonlyMap<string, ShellOperatorKind> = new Map<string, ShellOperatorKind>([
  // BashOperator: Airflow 3 (standard provider), Airflow 2, Airflow 1
  ['airflow.providers.standard.operators.bash.BashOperator', 'bash'],
  ['airflow.operators.bash.BashOperator', 'bash'],
  ['airflow.operators.bash_operator.BashOperator', 'bash'],
  ['airflow.operators.BashOperator', 'bash'],
  // BashSensor runs bash_command the same way
  ['airflow.providers.standard.sensors.bash.BashSensor', 'bash'],
  ['airflow.sensors.bash.BashSensor', 'bash'],
  ['airflow.sensors.bash_sensor.BashSensor', 'bash'],
  ['airflow.contrib.sensors.bash_sensor.BashSensor', 'bash'],
  // SSHOperator: the command runs in the remote user's login shell
  ['airflow.providers.ssh.operators.ssh.SSHOperator', 'ssh'],
  ['airflow.contrib.operators.ssh_operator.SSHOperator', 'ssh'],
  // WinRMOperator: the command runs in cmd.exe / PowerShell
  ['airflow.providers.microsoft.winrm.operators.winrm.WinRMOperator', 'winrm'],
  ['airflow.contrib.operators.winrm_operator.WinRMOperator', 'winrm'],
  // DockerOperator: a string command is split by docker-py (shlex), so only `sh -c` forms reach a shell
  ['airflow.providers.docker.operators.docker.DockerOperator', 'docker'],
  ['airflow.providers.docker.operators.docker_swarm.DockerSwarmOperator', 'docker'],
  ['airflow.operators.docker_operator.DockerOperator', 'docker'],
  ['airflow.contrib.operators.docker_swarm_operator.DockerSwarmOperator', 'docker'],
  // KubernetesPodOperator and its cloud subclasses: cmds/arguments are an argv, a shell only with `sh -c`
  ['airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator', 'k8s'],
  ['airflow.providers.cncf.kubernetes.operators.kubernetes_pod.KubernetesPodOperator', 'k8s'],
  ['airflow.contrib.operators.kubernetes_pod_operator.KubernetesPodOperator', 'k8s'],
  ['airflow.providers.google.cloud.operators.kubernetes_engine.GKEStartPodOperator', 'k8s'],
  ['airflow.providers.amazon.aws.operators.eks.EksPodOperator', 'k8s'],
]);

/** Callee patterns under which the operators above are called (`BashOperator(…)`, `BashOperator.partial(…)`,
 *  `….partial(…).expand(bash_command=[…])`, whose receiver `shellScripts` checks): a rule's `calls` for `shellScripts`. */
export const SHELL_OPERATOR_CALLS: readonly string[] = [...SHELL_OPERATORS.keys()].flatMap((q) => [q, `${q}.partial`]).concat(['**.expand']);

/** Keyword that holds the shell script, per kind (docker/k8s are handled by `shellScripts`). */
const SCRIPT_KEYWORD: Record<'bash' | 'ssh' | 'winrm', string> = { bash: 'bash_command', ssh: 'command', winrm: 'command' };

/**
 * The value of keyword argument `name` of a call, found in the text of the argument list and confirmed in the
 * tree (a keyword of a nested call or a word in a string does not count): a few native calls instead of
 * reading every argument of an operator call with many keywords.
 */
export function keywordArgument(call: SyntaxNode, name: string, ctx: RuleContext): SyntaxNode | undefined {
  const args = call.childForFieldName('arguments');
  if (!args || args.type !== 'argument_list') return undefined;
  const text = ctx.file.text;
  const end = args.endIndex;
  let i = text.indexOf(name, args.startIndex);
  for (; i >= 0 && i < end; i = text.indexOf(name, i + name.length)) {
    const before = text.charCodeAt(i - 1);
    const after = text.charCodeAt(i + name.length);
    if (isWordChar(before) || isWordChar(after)) continue;
    const id = ctx.root.descendantForIndex(i, i + name.length);
    const kw = id.type === 'identifier' ? id.parent : null;
    if (kw?.type === 'keyword_argument' && kw.parent?.id === args.id && kw.firstNamedChild?.id === id.id) {
      return kw.childForFieldName('value') ?? undefined;
    }
  }
  return undefined;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Decorators whose function's return value is run by bash (`@task.bash`, Airflow ≥ 2.9). */
export const BASH_TASK_DECORATORS: ReadonlySet<string> = new Set([
  'airflow.decorators.task.bash',
  'airflow.sdk.task.bash',
  'airflow.decorators.bash_task',
  'airflow.decorators.bash.bash_task',
  'airflow.providers.standard.decorators.bash.bash_task',
]);

/** Roots of TaskFlow decorators: a function decorated with `<root>` or `<root>.<anything>` is a task. */
const TASK_DECORATOR_ROOTS = ['airflow.decorators.task', 'airflow.sdk.task'];

/** Qualified name of a decorator (`@task.bash`, `@task.bash(env=…)`). */
export function decoratorName(dec: SyntaxNode, ctx: RuleContext): string | null {
  let e = dec.namedChildren[0];
  if (!e) return null;
  e = unwrap(e);
  if (e.type === 'call') e = e.childForFieldName('function') ?? e;
  return ctx.qualifiedName(e);
}

/** Decorators of a function definition (empty when it is not decorated). */
export function decoratorsOf(fn: SyntaxNode): SyntaxNode[] {
  const p = fn.parent;
  if (!p || p.type !== 'decorated_definition') return [];
  return p.namedChildren.filter((c) => c.type === 'decorator');
}

export function isBashTaskFunction(fn: SyntaxNode, ctx: RuleContext): boolean {
  return decoratorsOf(fn).some((d) => BASH_TASK_DECORATORS.has(decoratorName(d, ctx) ?? ''));
}

/** A TaskFlow task (`@task`, `@task.bash`, `@task.virtualenv`…): its parameters come from XComs, op_kwargs or context. */
export function isTaskFunction(fn: SyntaxNode, ctx: RuleContext): boolean {
  return decoratorsOf(fn).some((d) => {
    const q = decoratorName(d, ctx) ?? '';
    return BASH_TASK_DECORATORS.has(q) || TASK_DECORATOR_ROOTS.some((r) => q === r || q.startsWith(r + '.'));
  });
}

/** A script that an operator hands to a shell, with a label for messages. */
export interface ShellScript {
  node: SyntaxNode;
  /** e.g. "`bash_command` of BashOperator". */
  label: string;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'mksh', 'csh', 'tcsh', 'pwsh', 'powershell', 'cmd']);

/** `sh`, `/bin/bash`, `/usr/bin/env bash`… */
export function isShellProgram(s: string | null): boolean {
  if (s === null) return false;
  const t = s.trim().replace(/^\/usr\/bin\/env\s+/, '');
  const base = t.split('/').pop()!.replace(/\.exe$/i, '').toLowerCase();
  return SHELLS.has(base);
}

/** `-c`, `-ec`, `-xc`, `-euxc`, `-lc`, `/c` (cmd), `-Command` (PowerShell). */
export function isShellCommandFlag(s: string | null): boolean {
  if (s === null) return false;
  return /^-[a-z]*c[a-z]*$/.test(s) || /^\/c$/i.test(s) || /^-command$/i.test(s);
}

/** Elements of a list/tuple literal, or null. */
function listElements(node: SyntaxNode | undefined, ctx: RuleContext): SyntaxNode[] | null {
  if (!node) return null;
  let n = unwrap(node);
  if (n.type === 'identifier') {
    const v = resolveName(n);
    if (v.length !== 1) return null;
    n = unwrap(v[0]);
  }
  void ctx;
  if (n.type === 'list' || n.type === 'tuple') return n.namedChildren.filter((c) => c.type !== 'comment');
  return null;
}

/** In an argv `[shell, …, -c, script, …]`, the script element (null when the argv is not a shell invocation). */
export function shellScriptInArgv(argv: SyntaxNode[]): SyntaxNode | null {
  if (argv.length < 2 || !isShellProgram(stringValue(argv[0]))) return null;
  for (let i = 1; i < argv.length - 1; i++) {
    const v = stringValue(argv[i]);
    if (isShellCommandFlag(v)) return argv[i + 1];
    if (v === null) return null;
  }
  return null;
}

/** Does a constant string start with a shell `-c` invocation (`bash -c '…'`, `/bin/sh -ec "…"`)? */
function startsWithShellC(s: string): boolean {
  const words = s.trim().split(/\s+/);
  if (!isShellProgram(words[0])) return false;
  for (let i = 1; i < Math.min(words.length, 5); i++) if (isShellCommandFlag(words[i])) return true;
  return false;
}

/** Leading literal text of a string-ish expression (for `bash -c '…{x}…'` checks). */
function leadingText(node: SyntaxNode): string {
  const n = unwrap(node);
  if (n.type === 'string') {
    let out = '';
    for (const c of n.namedChildren) {
      if (c.type === 'interpolation') break;
      if (c.type === 'string_content') out += c.text;
    }
    return out;
  }
  if (n.type === 'concatenated_string') return leadingText(n.namedChildren[0]);
  if (n.type === 'binary_operator') return leadingText(n.childForFieldName('left')!);
  if (n.type === 'call') {
    const f = n.childForFieldName('function');
    if (f?.type === 'attribute' && f.childForFieldName('attribute')?.text === 'format') {
      return leadingText(f.childForFieldName('object')!);
    }
  }
  return '';
}

/**
 * The shell scripts a call passes to a shell, if it is a shell-capable Airflow operator. Argument lists that
 * are not shell invocations (KubernetesPodOperator `cmds=["python", "job.py"]`) are not scripts.
 */
const SHELL_SCRIPTS = defineService('airflow: shell scripts by call', () => new Map<number, ShellScript[]>());

export function shellScripts(call: SyntaxNode, ctx: RuleContext): ShellScript[] {
  // memoised per call: DG203 and DG204 both ask about every operator call
  const memo = ctx.use(SHELL_SCRIPTS);
  let r = memo.get(call.id);
  if (!r) memo.set(call.id, (r = findShellScripts(call, ctx)));
  return r;
}

function findShellScripts(call: SyntaxNode, ctx: RuleContext): ShellScript[] {
  let q: string | null = null;
  // dynamic task mapping: Op.partial(…) and Op.partial(…).expand(bash_command=[…])
  let mapped = false;
  const f = call.childForFieldName('function');
  const inner = f?.type === 'attribute' && f.childForFieldName('attribute')?.text === 'expand' ? unwrap(f.childForFieldName('object')!) : null;
  if (inner) {
    const innerFn = inner.type === 'call' ? inner.childForFieldName('function') : null;
    if (innerFn?.type === 'attribute' && innerFn.childForFieldName('attribute')?.text === 'partial') {
      q = ctx.qualifiedName(innerFn.childForFieldName('object'));
      mapped = true;
    }
  } else {
    q = ctx.callee(call);
    if (q && q.endsWith('.partial')) q = q.slice(0, -'.partial'.length);
  }
  if (!q) return [];
  const kind = SHELL_OPERATORS.get(q);
  if (!kind) return [];
  const op = q.split('.').pop()!;
  const keyword = (name: string) => keywordArgument(call, name, ctx);
  const out: ShellScript[] = [];
  if (kind === 'bash' || kind === 'ssh' || kind === 'winrm') {
    const kw = SCRIPT_KEYWORD[kind];
    const v = keyword(kw);
    if (v && mapped) {
      // each element of the mapped list is one task's command
      const items = unwrap(v).type === 'list' || unwrap(v).type === 'tuple' ? unwrap(v).namedChildren.filter((c) => c.type !== 'comment') : null;
      for (const it of items ?? []) out.push({ node: it, label: `a mapped \`${kw}\` of ${op}` });
    } else if (v) out.push({ node: v, label: `\`${kw}\` of ${op}` });
    return out;
  }
  if (kind === 'docker') {
    const command = keyword('command');
    const entrypoint = keyword('entrypoint');
    if (!command) return out;
    const label = `\`command\` of ${op}`;
    const ep = entrypoint ? (listElements(entrypoint, ctx) ?? null) : null;
    const epText = entrypoint ? stringValue(entrypoint) : null;
    const shellEntrypoint =
      (ep !== null && ep.length >= 2 && isShellProgram(stringValue(ep[0])) && isShellCommandFlag(stringValue(ep[ep.length - 1]))) ||
      (epText !== null && startsWithShellC(epText + ' '));
    const list = listElements(command, ctx);
    if (list) {
      if (shellEntrypoint && list[0]) out.push({ node: list[0], label });
      else {
        const s = shellScriptInArgv(list);
        if (s) out.push({ node: s, label });
      }
    } else if (shellEntrypoint || startsWithShellC(leadingText(command))) {
      out.push({ node: command, label });
    }
    return out;
  }
  // k8s: the container's argv is cmds + arguments
  const cmds = listElements(keyword('cmds'), ctx) ?? [];
  const argList = listElements(keyword('arguments'), ctx) ?? [];
  const argv = [...cmds, ...argList];
  const s = shellScriptInArgv(argv);
  if (s) out.push({ node: s, label: `the \`sh -c\` script of ${op}` });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Jinja templates
// ---------------------------------------------------------------------------------------------------------------

/**
 * How far a template value can be trusted, in increasing order of risk.
 * - `safe`: constants and Airflow's own run metadata (`ds`, `ts`, `run_id` — user run ids are checked against
 *   `allowed_run_id_pattern`, which excludes shell metacharacters), or a value made numeric/quoted by a filter.
 * - `deployment`: derived from the code's own location or imported module constants (`__file__`, `DAGS_FOLDER`).
 * - `config`: Variables, Connections, environment: set by whoever administers the deployment.
 * - `xcom`: the output of another task (often derived from external data).
 * - `param`: a parameter of a TaskFlow task or `python_callable` whose value the file does not show (no call
 *   site here, or one that passes a value of unknown origin): Airflow fills it from another task or op_kwargs.
 * - `unknown`: a Python value whose origin is not visible in the file.
 * - `user`: set by whoever triggers the DAG: `dag_run.conf`, `params` (overridable by conf by default), asset events.
 */
export type Trust = 'safe' | 'deployment' | 'config' | 'xcom' | 'param' | 'unknown' | 'user';
const RANK: Record<Trust, number> = { safe: 0, deployment: 1, config: 2, xcom: 3, param: 4, unknown: 5, user: 6 };
export function worst(a: Trust, b: Trust): Trust {
  return RANK[a] >= RANK[b] ? a : b;
}
export function atLeast(t: Trust, min: Trust): boolean {
  return RANK[t] >= RANK[min];
}

/** Context variables whose values Airflow itself produces (dates, ids, objects): not injection sources. */
export const SAFE_CONTEXT_VARS: ReadonlySet<string> = new Set([
  'ds', 'ds_nodash', 'ts', 'ts_nodash', 'ts_nodash_with_tz', 'logical_date', 'execution_date', 'run_id',
  'data_interval_start', 'data_interval_end', 'prev_data_interval_start_success', 'prev_data_interval_end_success',
  'prev_start_date_success', 'prev_end_date_success', 'prev_ds', 'prev_ds_nodash', 'next_ds', 'next_ds_nodash',
  'yesterday_ds', 'yesterday_ds_nodash', 'tomorrow_ds', 'tomorrow_ds_nodash', 'prev_execution_date',
  'next_execution_date', 'dag', 'task', 'task_instance_key_str', 'try_number', 'map_index', 'macros',
  'test_mode', 'start_date', 'end_date',
]);

/** Filters after which a value can no longer carry shell syntax. Airflow has no built-in quoting filter, so any
 *  user-defined filter whose name says it quotes (`shell_quote`, `quote` → `shlex.quote`) is trusted. */
const SANITIZING_FILTERS = /^(int|float|abs|length|count|round|filesizeformat|\w*quote\w*)$/i;

export interface JinjaExpr {
  /** The expression between `{{` and `}}`, trimmed. */
  expr: string;
  /** Offsets in the template text. */
  start: number;
  end: number;
}

/** `{{ … }}` expressions of a template text (statements `{% … %}` are not evaluated). */
export function jinjaExpressions(text: string): JinjaExpr[] {
  const out: JinjaExpr[] = [];
  const re = /\{\{-?([\s\S]*?)-?\}\}/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push({ expr: m[1].trim(), start: m.index, end: m.index + m[0].length });
  return out;
}

/** Splits `a | f1 | f2(x)` at top-level pipes (not `||`, not inside brackets or quotes). */
function splitFilters(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (quote) {
      cur += ch;
      if (ch === '\\') cur += expr[++i] ?? '';
      else if (ch === quote) quote = '';
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (ch === '|' && depth === 0 && expr[i + 1] !== '|' && expr[i - 1] !== '|') {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim());
}

/** Text of a Jinja expression with its string literals blanked (so `'params'` is not mistaken for a variable). */
function blankStrings(expr: string): string {
  return expr.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
}

/** Variable reference not preceded by `.` or a word character. */
const root = (name: string): RegExp => new RegExp(`(?:^|[^.\\w])${name}\\b`);
const USER_PATTERNS: RegExp[] = [
  /(?:^|[^.\w])dag_run\s*(?:\.\s*conf\b|\.\s*note\b)/,
  /(?:^|[^.\w])(?:ti|task_instance)\s*\.\s*dag_run\s*\.\s*conf\b/,
  root('params'),
  root('triggering_dataset_events'),
  root('triggering_asset_events'),
  root('triggering_asset_event'),
];
/** Data written by another task: XComs, and the extras of asset events read through `inlet_events` (written by
 *  the producing task, unlike triggering events, which the REST API lets users create). */
const XCOM_PATTERNS: RegExp[] = [/(?:^|[^.\w])(?:ti|task_instance)\s*\.\s*xcom_pull\b/, /\bxcom_pull\s*\(/];
const INLET_EVENTS = root('inlet_events');
const CONFIG_PATTERNS: RegExp[] = [/(?:^|[^.\w])var\s*\.\s*(?:value|json)\b/, /(?:^|[^.\w])conn\s*\./];

export interface JinjaClass {
  trust: Trust;
  /** Short reason for messages: "set by whoever triggers the DAG". */
  why: string;
  /** A `params` reference: user-controlled only through the `dag_run_conf_overrides_params` default. */
  viaParams?: boolean;
}

/**
 * Classify a Jinja expression rendered into a command. `restrictedParams` names DAG params whose schema
 * (enum, numeric/boolean type) Airflow validates: `{{ params.<name> }}` of those is safe.
 */
export function classifyJinja(expr: string, restrictedParams: ReadonlySet<string> = new Set()): JinjaClass {
  const [base, ...filters] = splitFilters(expr);
  const filterNames = filters.map((f) => (/^\w+/.exec(f) ?? [''])[0]);
  if (filterNames.some((f) => SANITIZING_FILTERS.test(f))) return { trust: 'safe', why: 'filtered' };
  const b = blankStrings(base);
  if (USER_PATTERNS.some((r) => r.test(b)) || /(?:^|[^.\w])dag_run\s*\[\s*['"](conf|note)['"]/.test(base)) {
    if (root('params').test(b) && !/dag_run|events/.test(b)) {
      // every params reference names a restricted param?
      const refs = [...expr.matchAll(/(?:^|[^.\w])params\s*(?:\.\s*(\w+)|\[\s*['"](\w+)['"]\s*\]|(.?))/g)];
      if (refs.length && refs.every((r) => restrictedParams.has(r[1] ?? r[2] ?? '\0'))) {
        return { trust: 'safe', why: 'validated param' };
      }
      return { trust: 'user', why: 'DAG params can be overridden by whoever triggers the DAG (`dag_run.conf`)', viaParams: true };
    }
    return { trust: 'user', why: 'set by whoever triggers the DAG' };
  }
  if (XCOM_PATTERNS.some((r) => r.test(b))) return { trust: 'xcom', why: 'output of another task' };
  if (INLET_EVENTS.test(b)) return { trust: 'xcom', why: 'asset-event data written by the producing task (like an XCom)' };
  if (CONFIG_PATTERNS.some((r) => r.test(b))) return { trust: 'config', why: 'a Variable or Connection, editable in the Airflow UI' };
  return { trust: 'safe', why: 'macro' };
}

/**
 * DAG-level params that Airflow validates to a shape that can't carry shell syntax: `Param(..., enum=[…])`,
 * `Param(..., type="integer"|"number"|"boolean")`. Found on the enclosing `with DAG(params=…)` / `DAG(…)`
 * assignment or `@dag(params=…)` decorator, and on the operator's own `params=`.
 */
export function restrictedParams(call: SyntaxNode, ctx: RuleContext): Set<string> {
  const out = new Set<string>();
  const collect = (dict: SyntaxNode | undefined) => {
    if (!dict) return;
    let d = unwrap(dict);
    if (d.type === 'identifier') {
      const v = resolveName(d);
      if (v.length !== 1) return;
      d = unwrap(v[0]);
    }
    if (d.type !== 'dictionary') return;
    for (const p of d.namedChildren) {
      if (p.type !== 'pair') continue;
      const key = stringValue(p.childForFieldName('key'));
      const value = p.childForFieldName('value');
      if (key === null || !value) continue;
      const v = unwrap(value);
      if (v.type === 'call' && /(^|\.)Param$/.test(ctx.callee(v) ?? '')) {
        const a = callArgs(v);
        const type = stringValue(a.keywords.get('type'));
        if (a.keywords.has('enum') || a.keywords.has('const') || (type && /^(integer|number|boolean|null)$/.test(type))) out.add(key);
      }
    }
  };
  collect(keywordArgument(call, 'params', ctx));
  for (let p: SyntaxNode | null = call.parent; p; p = p.parent) {
    if (p.type === 'with_statement') {
      // the items of this `with` only (not a walk of its body)
      const clause = p.namedChildren.find((c) => c.type === 'with_clause');
      for (const item of clause?.namedChildren ?? []) {
        if (item.type !== 'with_item') continue;
        const v = item.childForFieldName('value');
        const c = v && unwrap(v).type === 'as_pattern' ? unwrap(v).namedChildren[0] : v;
        if (c && unwrap(c).type === 'call' && /(^|\.)DAG$/.test(ctx.callee(unwrap(c)) ?? '')) collect(callArgs(unwrap(c)).keywords.get('params'));
      }
    } else if (p.type === 'function_definition') {
      for (const d of decoratorsOf(p)) {
        const e = d.namedChildren[0] && unwrap(d.namedChildren[0]);
        if (e?.type === 'call' && /(^|\.)dag$/.test(ctx.callee(e) ?? '')) collect(callArgs(e).keywords.get('params'));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Templates in Python expressions
// ---------------------------------------------------------------------------------------------------------------

/** Literal text of one string node as Python produces it: `{{`/`}}` of f-strings (and `.format` templates) halved. */
export function literalText(node: SyntaxNode, halveBraces = false): string {
  const n = unwrap(node);
  if (n.type === 'concatenated_string') return n.namedChildren.map((c) => literalText(c, halveBraces)).join('');
  if (n.type !== 'string') return '';
  const prefix = n.firstChild?.text ?? '';
  const f = /f/i.test(prefix);
  let out = '';
  for (const c of n.namedChildren) if (c.type === 'string_content') out += c.text;
  if (!/r/i.test(prefix)) out = out.replace(/\\(["'\\])/g, '$1').replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return f || halveBraces ? out.replace(/\{\{/g, '{').replace(/\}\}/g, '}') : out;
}

/** Pieces of a command expression: literal template fragments and interpolated Python values. */
export interface CommandParts {
  /** String literals (with the text Python gives them), where Jinja may hide. */
  literals: { node: SyntaxNode; text: string }[];
  /** Values spliced in by Python formatting (f-string, `%`, `.format`, `+`, `join`). */
  values: SyntaxNode[];
  /** Was Python string building involved (as opposed to one plain literal)? */
  formatted: boolean;
}

/**
 * Splits a command expression into literal fragments and interpolated values, following names to their
 * assignment in the enclosing blocks. Plain names that can't be resolved are values.
 */
export function commandParts(node: SyntaxNode, depth = 0, acc?: CommandParts): CommandParts {
  const out = acc ?? { literals: [], values: [], formatted: false };
  const n = unwrap(node);
  // A comment between arguments (`dedent(  # Language="Shell Script"\n """…""")`) is no value.
  if (n.type === 'comment') return out;
  if (n.type === 'parenthesized_expression') {
    // `(  # note\n "a" "b")`: parentheses holding a comment besides the expression
    for (const c of n.namedChildren) commandParts(c, depth, out);
    return out;
  }
  // bound the work on pathological code (`x2 = x1 + x1; x3 = x2 + x2; …`)
  const budget = (out as CommandParts & { budget?: number }).budget ?? 400;
  (out as CommandParts & { budget?: number }).budget = budget - 1;
  if (depth > 6 || budget <= 0) {
    out.values.push(n);
    return out;
  }
  switch (n.type) {
    case 'string': {
      out.literals.push({ node: n, text: literalText(n) });
      for (const c of n.namedChildren) {
        if (c.type === 'interpolation') {
          out.formatted = true;
          const e = c.namedChildren.find((x) => x.type !== 'type_conversion' && x.type !== 'format_specifier');
          if (e) out.values.push(e);
        }
      }
      return out;
    }
    case 'concatenated_string':
      for (const c of n.namedChildren) commandParts(c, depth, out);
      return out;
    case 'binary_operator': {
      const op = n.childForFieldName('operator')?.type;
      const l = n.childForFieldName('left')!;
      const r = n.childForFieldName('right')!;
      if (op === '+') {
        if (!(isConstant(l) && isConstant(r))) out.formatted = true;
        commandParts(l, depth, out);
        commandParts(r, depth, out);
        return out;
      }
      if (op === '%') {
        out.formatted = true;
        commandParts(l, depth, out);
        const rr = unwrap(r);
        if (rr.type === 'tuple') out.values.push(...rr.namedChildren.filter((c) => c.type !== 'comment'));
        else if (rr.type === 'dictionary') {
          for (const p of rr.namedChildren) {
            if (p.type === 'comment') continue;
            const v = p.childForFieldName('value');
            if (v) out.values.push(v);
            else out.values.push(p);
          }
        } else out.values.push(rr);
        return out;
      }
      out.values.push(n);
      return out;
    }
    case 'conditional_expression': {
      const [a, , b] = n.namedChildren;
      if (a) commandParts(a, depth, out);
      if (b) commandParts(b, depth, out);
      return out;
    }
    case 'call': {
      const f = n.childForFieldName('function');
      if (f?.type === 'attribute') {
        const method = f.childForFieldName('attribute')?.text;
        const obj = unwrap(f.childForFieldName('object')!);
        if (method === 'format' && (obj.type === 'string' || obj.type === 'concatenated_string')) {
          out.formatted = true;
          out.literals.push({ node: obj, text: literalText(obj, true) });
          for (const a of n.childForFieldName('arguments')?.namedChildren ?? []) {
            if (a.type === 'keyword_argument') out.values.push(a.childForFieldName('value')!);
            else if (a.type !== 'comment') out.values.push(a);
          }
          return out;
        }
        if (method === 'join' && (obj.type === 'string' || obj.type === 'concatenated_string')) {
          const arg = n.childForFieldName('arguments')?.namedChildren[0];
          const items = arg ? unwrap(arg) : null;
          if (items && (items.type === 'list' || items.type === 'tuple')) {
            for (const c of items.namedChildren) commandParts(c, depth, out);
            if (!isConstant(items)) out.formatted = true;
            return out;
          }
        }
        if (method === 'strip' || method === 'rstrip' || method === 'lstrip' || method === 'replace' || method === 'dedent') {
          return commandParts(obj, depth, out);
        }
      }
      if (f && /(^|\.)dedent$/.test(f.text)) {
        const a = callArgs(n).positional[0];
        if (a) return commandParts(a, depth, out);
      }
      out.values.push(n);
      return out;
    }
    case 'identifier': {
      const defs = resolveName(n);
      if (defs.length === 0) {
        out.values.push(n);
        return out;
      }
      for (const d of defs) commandParts(d, depth + 1, out);
      if (defs.length > 1) out.formatted = true; // `cmd += …`
      return out;
    }
    default:
      out.values.push(n);
      return out;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Local name resolution and value provenance
// ---------------------------------------------------------------------------------------------------------------

/** Plain-name assignments that are direct children of one block, in order: `name = v` and `name += v`. */
type BlockAssignments = Map<string, { start: number; augmented: boolean; right: SyntaxNode }[]>;
const blockAssignments = new WeakMap<object, Map<number, BlockAssignments>>();

/** The assignments of a block, collected once per block and tree (each name lookup used to re-read them). */
function assignmentsOf(block: SyntaxNode): BlockAssignments {
  const tree = (block as SyntaxNode & { tree: object }).tree;
  let perTree = blockAssignments.get(tree);
  if (!perTree) blockAssignments.set(tree, (perTree = new Map()));
  let info = perTree.get(block.id);
  if (info) return info;
  info = new Map();
  for (const s of block.namedChildren) {
    if (s.type !== 'expression_statement') continue;
    const a = s.firstNamedChild;
    if (!a || (a.type !== 'assignment' && a.type !== 'augmented_assignment')) continue;
    const left = a.childForFieldName('left');
    let right = a.childForFieldName('right');
    if (left?.type !== 'identifier' || !right) continue;
    const augmented = a.type === 'augmented_assignment';
    if (augmented && a.childForFieldName('operator')?.text !== '+=') continue;
    // chained `a = b = value`
    while (right.type === 'assignment') right = right.childForFieldName('right') ?? right;
    const name = left.text;
    let list = info.get(name);
    if (!list) info.set(name, (list = []));
    list.push({ start: s.startIndex, augmented, right });
  }
  perTree.set(block.id, info);
  return info;
}

/**
 * Values assigned to a plain name before `use`, in the enclosing blocks (innermost first, then outwards to the
 * module): the last `name = value` plus any later `name += value`. Only statements that are direct children of
 * an enclosing block are seen (not assignments nested in `if`/`try` branches). Empty when not found.
 */
export function resolveName(use: SyntaxNode): SyntaxNode[] {
  const name = use.text;
  let child: SyntaxNode = use;
  for (let p = use.parent; p; child = p, p = p.parent) {
    if (p.type !== 'block' && p.type !== 'module') continue;
    const list = assignmentsOf(p).get(name);
    if (!list) continue;
    const found: SyntaxNode[] = [];
    const before = child.startIndex;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i];
      if (e.start >= before) continue;
      found.unshift(e.right);
      if (!e.augmented) return found;
    }
    if (found.length) return found; // only augmented assignments seen: base is elsewhere (unknown)
  }
  return [];
}

/** A function parameter: its definition, name and node (for defaults and `*`/`**` kinds). */
interface ParamBinder {
  kind: 'param';
  fn: SyntaxNode;
  name: string;
  prm: SyntaxNode;
}

/** Where a name is bound as a loop variable, function parameter or comprehension variable around `use`. */
function binderOf(use: SyntaxNode): { kind: 'for'; iter: SyntaxNode } | ParamBinder | null {
  const name = use.text;
  for (let p = use.parent; p; p = p.parent) {
    const loops =
      p.type === 'for_statement'
        ? [p]
        : /comprehension$|^generator_expression$/.test(p.type)
          ? p.namedChildren.filter((c) => c.type === 'for_in_clause')
          : [];
    for (const loop of loops) {
      const left = loop.childForFieldName('left');
      const right = loop.childForFieldName('right');
      if (left && right && (left.text === name || left.descendantsOfType('identifier').some((i) => i.text === name))) return { kind: 'for', iter: right };
    }
    if (p.type === 'function_definition') {
      const params = p.childForFieldName('parameters');
      for (const prm of params?.namedChildren ?? []) {
        if (paramName(prm) === name) return { kind: 'param', fn: p, name, prm };
      }
    }
  }
  return null;
}

function paramName(prm: SyntaxNode): string | undefined {
  const id = prm.type === 'identifier' ? prm : (prm.childForFieldName('name') ?? prm.namedChildren.find((c) => c.type === 'identifier'));
  return id?.text;
}

/** Decorators of DAG functions: their parameters are DAG params, which `dag_run.conf` overrides. */
const DAG_DECORATORS = new Set(['airflow.decorators.dag', 'airflow.sdk.dag', 'airflow.models.dag.dag']);

/**
 * The trust of a function parameter, judged at the function's call sites in this file (found in the text —
 * `name(`, `name.expand(`, `name.partial(`, `name.override(…)(`, `python_callable=name` — and confirmed in the
 * tree; nothing walks the tree). Memoised per parameter.
 *
 * - TaskFlow tasks and `python_callable`s: Airflow's context variables by name (`ds` safe, `params` user); else
 *   the worst value passed at the call sites (`op_kwargs`/`op_args` for a `python_callable`): constants are
 *   safe, a constant holding a Jinja template is classified as one (task arguments are rendered), another task's
 *   call is its output (`xcom`). No call site, a call site that may pass it through `*args`/`**kwargs`, or a
 *   value whose origin is not visible: `param` (a function parameter, medium).
 * - `@dag` functions: their parameters are DAG params: `user`.
 * - Other functions: the worst value at their call sites; no call site or unclear: `unknown`, as before.
 */
const PARAMETER_TRUST = defineService('airflow: trust of function parameters', () => new Map<string, Trust>());

function parameterTrust(b: ParamBinder, ctx: RuleContext, depth: number): Trust {
  const memo = ctx.use(PARAMETER_TRUST);
  const key = `${b.fn.startIndex}:${b.name}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const decorators = decoratorsOf(b.fn).map((d) => decoratorName(d, ctx) ?? '');
  const isTask = isTaskFunction(b.fn, ctx);
  const fname = b.fn.childForFieldName('name')?.text ?? '';
  const callableSites = !isTask && fname ? pythonCallableSites(fname, ctx) : [];
  const airflowCalls = isTask || callableSites.length > 0;
  const unclear: Trust = airflowCalls ? 'param' : 'unknown';
  memo.set(key, unclear); // breaks cycles (a function passing its parameter to itself)
  let r: Trust;
  if (decorators.some((d) => DAG_DECORATORS.has(d))) r = 'user';
  else if (airflowCalls && b.name === 'params') r = 'user';
  else if (airflowCalls && SAFE_CONTEXT_VARS.has(b.name)) r = 'safe';
  else if (b.prm.type === 'list_splat_pattern' || b.prm.type === 'dictionary_splat_pattern' || !fname || !ctx.root) r = unclear;
  else r = callSiteTrust(b, fname, callableSites, airflowCalls, unclear, ctx, depth);
  memo.set(key, r);
  return r;
}

/** Calls `Op(python_callable=name, …)` in the file. */
function pythonCallableSites(fname: string, ctx: RuleContext): SyntaxNode[] {
  const text = ctx.file.text;
  if (!text.includes('python_callable')) return [];
  const out: SyntaxNode[] = [];
  const re = new RegExp(`\\bpython_callable\\s*=\\s*${fname}\\b(?!\\s*[.(\\[])`, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const kw = ctx.root.descendantForIndex(m.index, m.index + 'python_callable'.length).parent;
    const call = kw?.type === 'keyword_argument' ? kw.parent?.parent : null;
    if (call?.type === 'call') out.push(call);
  }
  return out;
}

const MAX_SITES = 50;

function callSiteTrust(
  b: ParamBinder,
  fname: string,
  callableSites: SyntaxNode[],
  airflowCalls: boolean,
  unclear: Trust,
  ctx: RuleContext,
  depth: number,
): Trust {
  // positional index of the parameter (methods: `self`/`cls` are not passed)
  const names: string[] = [];
  let index = -1;
  let kwOnly = false;
  for (const prm of b.fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (prm.type === 'list_splat_pattern' || prm.type === 'dictionary_splat_pattern' || prm.type === 'keyword_separator') kwOnly = true;
    const n = paramName(prm);
    if (n === undefined || prm.type === 'list_splat_pattern' || prm.type === 'dictionary_splat_pattern') continue;
    if (prm.id === b.prm.id && !kwOnly) index = names.length;
    names.push(n);
  }
  const method = names[0] === 'self' || names[0] === 'cls';
  if (method && index >= 0) index--;
  const dflt = b.prm.childForFieldName('value');

  let trust: Trust | null = null;
  let isUnclear = false;
  const add = (t: Trust): void => {
    trust = trust ? worst(trust, t) : t;
  };
  const valueTrust = (arg: SyntaxNode): Trust => {
    const u = unwrap(arg);
    if (airflowCalls && isTaskCall(u, ctx)) return 'xcom';
    if (airflowCalls) {
      const s = stringValue(u);
      if (s !== null && s.includes('{{')) {
        // task arguments are templated: `make_dirs("{{ dag_run.conf['d'] }}")`
        let t: Trust = 'safe';
        for (const e of jinjaExpressions(s)) t = worst(t, classifyJinja(e.expr).trust);
        return t;
      }
    }
    const t = provenance(arg, ctx, depth + 1).trust;
    return t === 'unknown' ? unclear : t;
  };
  /** One call site: the argument, the default, or nothing (unclear). */
  const site = (args: CallArgs, positional: boolean): void => {
    const arg = args.keywords.get(b.name) ?? (positional && index >= 0 ? args.positional[index] : undefined);
    if (arg) add(valueTrust(arg));
    else if (args.hasSplat) isUnclear = true;
    else if (dflt) add(valueTrust(dflt));
  };

  let count = 0;
  for (const call of callableSites) {
    if (++count > MAX_SITES) break;
    const a = callArgs(call);
    const kwargs = a.keywords.get('op_kwargs');
    const opArgs = a.keywords.get('op_args');
    const kd = kwargs ? unwrap(kwargs) : null;
    const ol = opArgs ? unwrap(opArgs) : null;
    if ((kd && kd.type !== 'dictionary') || (ol && ol.type !== 'list' && ol.type !== 'tuple')) {
      isUnclear = true;
      continue;
    }
    const keywords = new Map<string, SyntaxNode>();
    let hasSplat = false;
    for (const p of kd?.namedChildren ?? []) {
      const k = p.type === 'pair' ? stringValue(p.childForFieldName('key')) : null;
      const v = p.childForFieldName('value');
      if (k !== null && v) keywords.set(k, v);
      else if (p.type !== 'comment') hasSplat = true;
    }
    const positional = (ol?.namedChildren ?? []).filter((c) => c.type !== 'comment');
    if (positional.some((c) => c.type === 'list_splat')) hasSplat = true;
    site({ positional, keywords, hasSplat }, true);
  }

  const text = ctx.file.text;
  const re = new RegExp(`\\b${fname}\\s*(?:\\.\\s*(expand|partial|override)\\s*)?\\(`, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (++count > MAX_SITES) {
      isUnclear = true;
      break;
    }
    const via = m[1];
    const at = via ? m.index + m[0].lastIndexOf(via) : m.index;
    const found = callAt(ctx.root, at, at + (via ?? fname).length);
    if (!found) continue;
    let call = found.call;
    // `obj.name(…)` is a method call: it counts for methods only, and `name(…)` for functions only
    const calleeIsAttribute = found.fn.type === 'attribute';
    if (!via && calleeIsAttribute !== method) continue;
    if (call.startIndex >= b.fn.startIndex && call.endIndex <= b.fn.endIndex) continue; // recursion
    if (via === 'override') {
      // `task.override(task_id=…)(args)`
      const outer = call.parent;
      if (!outer || outer.type !== 'call' || outer.childForFieldName('function')?.id !== call.id) continue;
      call = outer;
    }
    if (via === 'expand') {
      // `task.expand(x=[…])`: each element is one mapped value; `.partial(…).expand(…)` is found at `partial`
      const v = callArgs(call).keywords.get(b.name);
      if (v) add(valueTrust(v));
      continue;
    }
    if (via === 'partial') {
      const a = callArgs(call);
      const v = a.keywords.get(b.name);
      if (v) add(valueTrust(v));
      else {
        // the value comes with `.expand(…)` chained on this call
        const attr = call.parent;
        const outer = attr?.type === 'attribute' ? attr.parent : null;
        const ev = outer?.type === 'call' ? callArgs(outer).keywords.get(b.name) : undefined;
        if (ev) add(valueTrust(ev));
        else if (dflt) add(valueTrust(dflt));
        else isUnclear = true;
      }
      continue;
    }
    site(callArgs(call), true);
  }
  if (isUnclear) add(unclear);
  return trust ?? unclear;
}

/** Is this the call of a TaskFlow task defined in this file (`t(…)`, `t.expand(…)`, `t.override(…)(…)`)? Its
 *  result is an XComArg: the task's output. */
function isTaskCall(call: SyntaxNode, ctx: RuleContext): boolean {
  if (call.type !== 'call') return false;
  let f = call.childForFieldName('function');
  if (f?.type === 'call') f = f.childForFieldName('function'); // t.override(…)(…)
  if (f?.type === 'attribute' && /^(expand|expand_kwargs|partial|override)$/.test(f.childForFieldName('attribute')?.text ?? '')) {
    f = f.childForFieldName('object');
  }
  const name = f?.type === 'identifier' ? f.text : undefined;
  if (!name) return false;
  const def = new RegExp(`\\bdef\\s+${name}\\s*\\(`).exec(ctx.file.text);
  if (!def) return false;
  const fn = ctx.root.descendantForIndex(def.index, def.index + 3).parent;
  return !!fn && fn.type === 'function_definition' && isTaskFunction(fn, ctx);
}

const CONFIG_CALLS = new Set([
  'airflow.models.Variable.get', 'airflow.models.variable.Variable.get', 'airflow.sdk.Variable.get',
  'airflow.models.Variable.get_variable_from_secrets',
  'os.getenv', 'os.environ.get', 'os.getenvb',
  'airflow.configuration.conf.get', 'airflow.configuration.conf.getint',
  'airflow.hooks.base.BaseHook.get_connection', 'airflow.hooks.base_hook.BaseHook.get_connection',
  'airflow.sdk.BaseHook.get_connection', 'airflow.models.Connection.get_connection_from_secrets',
]);
/** Calls whose result can't carry shell syntax whatever the input. */
const SANITIZERS = new Set([
  'shlex.quote', 'pipes.quote', 'shlex.join', 'int', 'float', 'len', 'bool', 'abs', 'round', 'hash', 'id',
  'uuid.uuid4', 'uuid.uuid1', 'time.time', 'os.getpid', 'hex', 'oct', 'ord',
]);
/** Calls that combine their inputs into a path or string (result as trusted as the worst input). */
const COMBINERS = new Set([
  'os.path.join', 'os.path.dirname', 'os.path.abspath', 'os.path.realpath', 'os.path.basename', 'os.path.normpath',
  'os.path.expanduser', 'os.path.splitext', 'pathlib.Path', 'pathlib.PurePath', 'pathlib.PosixPath', 'str', 'os.fspath',
  'enumerate', 'zip', 'sorted', 'reversed', 'list', 'tuple', 'set', 'dict', 'min', 'max', 'range',
]);
const COMBINING_METHODS = new Set([
  'parent', 'parents', 'joinpath', 'resolve', 'absolute', 'as_posix', 'name', 'stem', 'suffix', 'with_suffix',
  'with_name', 'strip', 'rstrip', 'lstrip', 'lower', 'upper', 'replace', 'format', 'join', 'expanduser',
  'items', 'keys', 'values', 'split', 'rsplit', 'splitlines', 'title', 'capitalize',
]);
/** Date/time formatting: the result is made of digits and the format's constants. */
const SAFE_METHODS = new Set(['strftime', 'isoformat', 'timestamp', 'to_date_string', 'to_datetime_string', 'to_iso8601_string', 'date', 'year', 'month', 'day', 'hour', 'minute']);

export interface Provenance {
  trust: Trust;
  /** The sub-expression that decided the trust (for messages). */
  node: SyntaxNode;
}

/**
 * Where a Python value comes from, as far as the file shows. Names are followed to their assignment, loop
 * (`for table in TABLES`) or parameter (judged at the function's call sites: see `parameterTrust`);
 * `dag_run.conf`/`params` lookups are `user`.
 */
const PROVENANCE = defineService('airflow: provenance of values by node', () => new Map<number, Provenance>());

export function provenance(node: SyntaxNode, ctx: RuleContext, depth = 0): Provenance {
  // memoised per file and node: names are followed through assignments, which may share sub-expressions
  const memo = ctx.use(PROVENANCE);
  const key = unwrap(node).id;
  const hit = memo.get(key);
  if (hit) return hit;
  memo.set(key, { trust: 'unknown', node }); // breaks cycles
  const r = provenanceOf(node, ctx, depth);
  memo.set(key, r);
  return r;
}

function provenanceOf(node: SyntaxNode, ctx: RuleContext, depth: number): Provenance {
  const n = unwrap(node);
  const mk = (trust: Trust, at: SyntaxNode = n): Provenance => ({ trust, node: at });
  const combine = (nodes: SyntaxNode[], base: Trust = 'safe'): Provenance => {
    let best: Provenance = mk(base);
    for (const c of nodes) {
      const p = provenance(c, ctx, depth + 1);
      if (RANK[p.trust] > RANK[best.trust]) best = p;
    }
    return best;
  };
  if (depth > 8) return mk('unknown');
  if (isConstant(n) || n.type === 'comment') return mk('safe');
  const text = n.text;
  if ((n.type === 'attribute' || n.type === 'subscript') && /\bdag_run\b[\s\S]*\bconf\b|\[\s*["'](params|dag_run)["']\s*\]/.test(text)) {
    return mk('user');
  }
  switch (n.type) {
    case 'identifier': {
      if (n.text === '__file__' || n.text === '__name__') return mk('deployment');
      const defs = resolveName(n);
      if (defs.length) {
        const r = combine(defs);
        return r.trust === 'safe' || r.trust === 'deployment' ? r : { trust: r.trust, node: n };
      }
      const b = binderOf(n);
      if (b?.kind === 'for') {
        const r = provenance(b.iter, ctx, depth + 1);
        return { trust: r.trust, node: n };
      }
      if (b?.kind === 'param') {
        return mk(parameterTrust(b, ctx, depth));
      }
      if (ctx.imports.has(n.text)) return mk('deployment');
      return mk('unknown');
    }
    case 'string':
    case 'concatenated_string':
    case 'binary_operator':
    case 'conditional_expression': {
      if (n.type === 'binary_operator') {
        const op = n.childForFieldName('operator')?.type;
        if (op === '/' || op === '+' || op === '%') {
          // Path / "x", "a" + b, "…%s" % x
          if (op === '/') return combine([n.childForFieldName('left')!, n.childForFieldName('right')!]);
        } else if (op !== undefined) {
          // arithmetic: numbers
          return combine([n.childForFieldName('left')!, n.childForFieldName('right')!]);
        }
      }
      const parts = commandParts(n, depth + 1);
      return combine(parts.values);
    }
    case 'list':
    case 'tuple':
    case 'set':
      return combine(n.namedChildren);
    case 'dictionary':
      return combine(n.namedChildren.map((p) => p.childForFieldName('value') ?? p));
    case 'subscript': {
      const value = n.childForFieldName('value')!;
      const q = ctx.qualifiedName(value);
      if (q === 'os.environ') return mk('config');
      const v = unwrap(value);
      if (v.type === 'identifier') {
        // `context["ds"]` of a `**context` parameter: Airflow's own run metadata
        const key = stringValue(n.childForFieldName('subscript'));
        const b = key !== null && SAFE_CONTEXT_VARS.has(key) ? binderOf(v) : null;
        if (b?.kind === 'param' && b.prm.type === 'dictionary_splat_pattern') return mk('safe');
      }
      return provenance(value, ctx, depth + 1);
    }
    case 'attribute': {
      const q = ctx.qualifiedName(n);
      if (q && (q.startsWith('os.environ') || CONFIG_CALLS.has(q))) return mk('config');
      const obj = n.childForFieldName('object')!;
      const attr = n.childForFieldName('attribute')!.text;
      if (SAFE_METHODS.has(attr)) return mk('safe');
      const o = unwrap(obj);
      if (o.type === 'identifier' && ctx.imports.has(o.text)) return mk('deployment'); // module constant
      if (COMBINING_METHODS.has(attr)) return provenance(obj, ctx, depth + 1);
      const p = provenance(obj, ctx, depth + 1);
      // attribute of a connection/Variable object is config; of a task-context object is user
      return p.trust === 'safe' || p.trust === 'deployment' ? mk('unknown') : { trust: p.trust, node: n };
    }
    case 'call': {
      const q = ctx.callee(n) ?? '';
      const args = callArgs(n);
      const argNodes = [...args.positional, ...args.keywords.values()];
      if (SANITIZERS.has(q)) return mk('safe');
      if (CONFIG_CALLS.has(q) || /(^|\.)Variable\.get$/.test(q) || /\.get_connection$/.test(q)) return mk('config');
      if (/(^|\.)xcom_pull$/.test(q) || /\.xcom_pull$/.test(n.childForFieldName('function')?.text ?? '')) return mk('xcom');
      if (COMBINERS.has(q)) return combine(argNodes);
      const f = n.childForFieldName('function')!;
      if (f.type === 'attribute') {
        const attr = f.childForFieldName('attribute')!.text;
        const obj = f.childForFieldName('object')!;
        if (SAFE_METHODS.has(attr)) return mk('safe');
        if (attr === 'get' || attr === 'getenv') {
          const oq = ctx.qualifiedName(obj);
          if (oq === 'os.environ') return mk('config');
          const po = provenance(obj, ctx, depth + 1);
          if (po.trust !== 'safe' && po.trust !== 'deployment') return { trust: po.trust, node: n };
          return mk('unknown');
        }
        if (COMBINING_METHODS.has(attr)) return combine([obj, ...argNodes]);
      }
      return mk('unknown');
    }
    case 'integer':
    case 'float':
    case 'true':
    case 'false':
    case 'none':
      return mk('safe');
    default:
      return mk('unknown');
  }
}

/** Human wording of a trust level, for messages. */
export function trustWords(t: Trust): string {
  switch (t) {
    case 'user':
      return 'a value set by whoever triggers the DAG';
    case 'xcom':
      return 'the output of another task';
    case 'config':
      return 'a Variable, Connection or environment value';
    case 'param':
      return 'a task parameter whose value this file does not show';
    case 'unknown':
      return 'a value of unknown origin';
    default:
      return 'a constant';
  }
}
