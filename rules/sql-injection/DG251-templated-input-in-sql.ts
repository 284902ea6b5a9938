import { defineRule } from '../../src/engine/rule';
import { classifyJinja, jinjaExpressions, jinjaSourceRange, restrictedParams, triggerInputInTemplate } from '../../src/airflow/jinja';
import { commandParts } from '../../src/airflow/strings';
import type { Severity } from '../../src/report';
import { isTemplatedSqlCall, SQL_CALLS, sqlCallName, sqlOf, sqlStatements } from './_sql-sinks';

export default defineRule({
  meta: {
    id: 'DG251',
    name: 'templated-input-in-sql',
    category: 'sql-injection',
    severity: 'high',
    message: 'the SQL of `{fn}` renders `{{ {expr} }}` into the statement: {why}; pass it in `parameters` instead',
    docs: {
      what:
        'Finds Jinja expressions in the SQL of SQL operators (also `Op.partial(sql=…)` and the mapped `Op.partial(…).expand(sql=[…])`, statement lists and comprehensions) — and in the `.sql` files shipped with the DAGs, which are the templates of `sql="x.sql"` (there `dag_run.conf` *high*, `params` *low*: whether the DAG declares the param validated is not visible from the template) — that Airflow renders into the statement text before running it: `{{ dag_run.conf[...] }}` (*high*), `{{ params.x }}` (*medium*: `dag_run.conf` overrides params by default), `{{ ti.xcom_pull(...) }}` (*medium*), `{{ var.value.x }}` / `{{ conn... }}` (*low*). Airflow\'s own macros (`{{ ds }}`, `{{ ts }}`, `{{ macros.ds_add(ds, 1) }}`), validated params (`Param(enum=[…])`, numeric types) and values made numeric by a filter (`| int`) are fine.',
      why:
        'Jinja pastes text; it does not quote SQL. Whoever can trigger the DAG (UI, REST API, a TriggerDagRunOperator fed by data) controls `conf`, and by default `params`, and with them the statement the warehouse connection runs.',
      example: '```python\nSQLExecuteQueryOperator(\n    task_id="purge",\n    conn_id="dwh",\n    sql="DELETE FROM events WHERE day = \'{{ dag_run.conf[\'day\'] }}\'",\n)\n```',
      useInstead: '```python\nSQLExecuteQueryOperator(\n    task_id="purge",\n    conn_id="dwh",\n    sql="DELETE FROM events WHERE day = %(day)s",\n    parameters={"day": "{{ dag_run.conf[\'day\'] }}"},\n)\n```',
    },
  },
  calls: SQL_CALLS,
  // `.sql` files shipped with the DAGs are the templates of `sql="queries/purge.sql"`: Airflow renders them as Jinja too
  onDataFile(ctx) {
    if (ctx.file.dataKind !== 'sql') return;
    const name = ctx.file.path.split('/').pop()!;
    for (const t of triggerInputInTemplate(ctx.file.text)) {
      // a param: whether the DAG declares it validated (`enum`, numeric type) is not visible from the template: low
      ctx.reportRange(t.start, t.end, { fn: name, expr: t.expr, why: t.why }, { severity: t.viaParams ? 'low' : 'high', key: `${name} ${t.full}` });
    }
  },
  onCall(call, fn, ctx) {
    if (!isTemplatedSqlCall(fn)) return;
    const sql = sqlOf(call, fn, ctx);
    if (!sql) return;
    const restricted = restrictedParams(call, ctx);
    for (const lit of sqlStatements(sql, ctx).flatMap((st) => commandParts(st).literals)) {
      for (const e of jinjaExpressions(lit.text)) {
        const k = classifyJinja(e.expr, restricted);
        const severity: Severity | null = k.trust === 'user' ? (k.viaParams ? 'medium' : 'high') : k.trust === 'xcom' ? 'medium' : k.trust === 'config' ? 'low' : null;
        if (!severity) continue;
        const expr = e.expr.length > 60 ? e.expr.slice(0, 57) + '…' : e.expr;
        ctx.report(lit.node, { fn: sqlCallName(call, fn, ctx), expr, why: k.why }, { severity, key: `${fn} ${e.expr}`, at: jinjaSourceRange(lit.node, e.expr, ctx.file.text) });
        break;
      }
    }
  },
});
