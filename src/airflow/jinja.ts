/**
 * Trust levels of values, and Jinja template expressions classified by them (safe macro, config, XCom, input
 * from whoever triggers the DAG); params whose values Airflow validates.
 */
import { type Trust } from './trust';
import type { SyntaxNode } from 'tree-sitter';
import { type RuleContext } from '../engine/context';
import { callArgs, stringValue, unwrap } from '../engine/python';
import { decoratorsOf, keywordArgument } from './operators';
import { resolveName } from './provenance';


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

/**
 * `{{ … }}` expressions of a template text (statements `{% … %}` are not evaluated, but the names they bind are
 * followed: after `{% set v = dag_run.conf['x'] %}` or `{% for f in dag_run.conf['files'] %}`, `{{ v }}` / `{{ f }}`
 * is read as the bound expression).
 */
export function jinjaExpressions(text: string): JinjaExpr[] {
  const out: JinjaExpr[] = [];
  const re = /\{\{-?([\s\S]*?)-?\}\}/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push({ expr: m[1].trim(), start: m.index, end: m.index + m[0].length });
  if (out.length && text.includes('{%')) {
    const bound = new Map<string, string>();
    for (const b of text.matchAll(/\{%-?\s*(?:set\s+([A-Za-z_]\w*)\s*=|for\s+([A-Za-z_]\w*)\s+in)\s*([\s\S]*?)\s*-?%\}/g)) {
      // what the trigger or another task sets, and params (which a trigger's conf overrides, so `{% set v =
      // params.cmd %}{{ v }}` is `{{ params.cmd }}`), but not a call's result (`{% set c =
      // params.aws_hook.get_credentials() %}`: an object the DAG passed in, which conf cannot replace with text)
      const value = b[3];
      if (/\b(dag_run|triggering_\w+|xcom_pull|inlet_events)\b/.test(value) || (/\bparams\b/.test(value) && !value.includes('('))) bound.set(b[1] ?? b[2], value);
    }
    for (const e of out) {
      const root = /^[A-Za-z_]\w*/.exec(e.expr)?.[0];
      const to = root && !ROOT_NAMES.has(root) ? bound.get(root) : undefined;
      if (to) e.expr = `(${to})${e.expr.slice(root!.length)}`;
    }
  }
  return out;
}
/** Template context names that a `{% set %}` of the same name would shadow: not followed (kept as written). */
const ROOT_NAMES = new Set(['dag_run', 'params', 'ti', 'task_instance', 'var', 'conn', 'macros', 'ds', 'ts', 'run_id']);

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

/**
 * Trigger input (`{{ dag_run.conf… }}`, triggering asset events) in a template file shipped with the DAGs (`sql="x.sql"`,
 * `bash_command="x.sh "`): Airflow renders it as Jinja. Params are left out: the DAG that renders the file may validate
 * them, and which DAG does is not known here. `expr` is shortened for messages.
 */
export function triggerInputInTemplate(text: string): { start: number; end: number; expr: string; full: string; why: string; viaParams: boolean }[] {
  if (!/dag_run|triggering_|params/.test(text)) return [];
  const out: { start: number; end: number; expr: string; full: string; why: string; viaParams: boolean }[] = [];
  for (const e of jinjaExpressions(text)) {
    const k = classifyJinja(e.expr);
    if (k.trust !== 'user') continue;
    out.push({ start: e.start, end: e.end, expr: e.expr.length > 60 ? e.expr.slice(0, 57) + '…' : e.expr, full: e.expr, why: k.why, viaParams: k.viaParams === true });
  }
  return out;
}

/**
 * Where, in the source, a multi-line literal holds the Jinja expression `expr` (`{{ params.client_filter }}` on line
 * 17 of a statement that starts on line 13): the line a reviewer fixes. Undefined for a one-line literal (the literal
 * itself is that line) or when the source spells the expression otherwise (escapes, a `{% set %}` name).
 */
export function jinjaSourceRange(lit: SyntaxNode, expr: string, fileText: string): { startIndex: number; endIndex: number } | undefined {
  if (lit.startPosition.row === lit.endPosition.row) return undefined;
  const escaped = expr.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`\\{\\{-?\\s*${escaped}\\s*-?\\}\\}`).exec(fileText.slice(lit.startIndex, lit.endIndex));
  return m ? { startIndex: lit.startIndex + m.index, endIndex: lit.startIndex + m.index + m[0].length } : undefined;
}
