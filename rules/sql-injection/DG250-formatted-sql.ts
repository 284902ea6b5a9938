import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { defineRule } from '../../src/engine/rule';
import { commandParts } from '../../src/airflow/strings';
import { unwrap } from '../../src/engine/python';
import { calledFunction, decisiveFormattedValue, FORMATTED_SEVERITY, inputToUnseenCode, provenance, returnedValues, singleBinding } from '../../src/airflow/provenance';
import { originWords, snippet } from '../shell-injection/_util';
import { SQL_CALLS, sqlCallName, sqlOf, sqlStatements } from './_sql-sinks';

export default defineRule({
  meta: {
    id: 'DG250',
    name: 'formatted-sql',
    category: 'sql-injection',
    severity: 'high',
    parseTime: 'note',
    message: 'the SQL of `{fn}` is built by Python string formatting from {origin} (`{value}`): pass it as a bind parameter',
    messages: {
      whole: 'the SQL of `{fn}` is {origin} (`{value}`), run as a whole statement',
      unseen: 'the SQL of `{fn}` is built by code this file does not show (`{code}`) from {origin} (`{value}`): if that code formats it into the statement, pass it as a bind parameter instead',
    },
    aliases: ['B608', 'S608'],
    docs: {
      what:
        'Finds SQL built with f-strings, `%`, `.format()`, `+` or `join` from values that are not constants (a template filled from `locals()`/`vars()` takes the names its fields ask for), in the `sql` of SQL operators (`SQLExecuteQueryOperator`, `PostgresOperator`, `SnowflakeOperator`, `BigQueryExecuteQueryOperator`…; each statement of a list or comprehension, also mapped with `Op.partial(…).expand(sql=…)`), the `configuration["query"]["query"]` of `BigQueryInsertJobOperator` and `BigQueryHook.insert_job`, hook methods (`hook.run`, `get_records`, `get_first`, `get_pandas_df`), DB-API `cursor.execute`/`executemany`, `pandas.read_sql` and `sqlalchemy.text`. Severity by the origin of the worst value: *high* for input from whoever triggers the DAG (`dag_run.conf`, params, also through helpers and TaskFlow arguments), *medium* for XComs and task parameters the file does not show, *info* for Variables/Connections/environment (they name datasets and schemas; admin-controlled) and values of unknown origin. A whole statement taken from the trigger, or fetched from outside (an HTTP response, a file downloaded from a bucket), is *high* too. A statement held in a name bound once is reported where it is formatted (the line to fix; a suppression comment still goes on the statement that runs it). A statement returned by a task of the file (`expand(sql=build_statements(…))`, its list grown with `.append(f"…")`) is checked where it is built. A whole statement built by a function or class of another module from trigger input or fetched data (`hook.run(build_delete(conf["table"]))` with `build_delete` from `common.sql`, `BackfillWindow(table=conf["table"]).delete_sql()`) is *medium* (*low* for another task\'s output): dag-guard reads one file at a time and cannot see whether that code formats its input into the statement; a value such code returns that is then formatted in (a validator, `safe_table(conf["table"])`) stays *info*.',
      why:
        'Quotes and `;` in the value end the statement and start another: `orders; DROP TABLE orders; --` as a table name, `x\' OR 1=1 --` in a filter. The DAG runs with the warehouse credentials of its connection, usually far broader than the person who triggers it.',
      example: '```python\n@task\ndef purge(**context):\n    day = context["dag_run"].conf["day"]\n    PostgresHook("dwh").run(f"DELETE FROM events WHERE day = \'{day}\'")\n```',
      useInstead: '```python\n@task\ndef purge(**context):\n    day = context["dag_run"].conf["day"]\n    PostgresHook("dwh").run("DELETE FROM events WHERE day = %(day)s", parameters={"day": day})\n```\n(or `SQLExecuteQueryOperator(sql=..., parameters={...})`; identifiers — table names — from a fixed allow list)',
    },
  },
  calls: SQL_CALLS,
  onCall: check,
  // Spark's `spark.sql(q)` (the receiver is checked by name in sqlOf): by a query on the text `.sql(` — a call
  // pattern `**.sql` or `spark.sql` would have most DAG files parsed (the words `sql` and `spark` are everywhere)
  query: `(call function: (attribute attribute: (identifier) @sqlattr (#eq? @sqlattr "sql"))) @sqlcall`,
  keywords: ['.sql('],
  onMatch(c, ctx) {
    const call = c.sqlcall[0];
    check(call, ctx.callee(call) ?? call.childForFieldName('function')!.text, ctx);
  },
});

/** Is `sql` a call of a function of this file whose returned statements are built by formatting? */
function helperFormats(sql: SyntaxNode): boolean {
  const def = calledFunction(unwrap(sql));
  return !!def && returnedValues(def).some((r) => commandParts(r).formatted);
}

/** The rule on one SQL-taking call. */
function check(call: SyntaxNode, fn: string, ctx: RuleContext): void {
  const whole = sqlOf(call, fn, ctx);
  if (!whole) return;
  const shown = sqlCallName(call, fn, ctx);
  for (const sql of sqlStatements(whole, ctx)) checkStatement(sql, shown, ctx);
}

function checkStatement(sql: SyntaxNode, shown: string, ctx: RuleContext): void {
  const parts = commandParts(sql);
  if (!parts.formatted) {
    // a whole statement passed through: reported when it comes straight from the trigger, or from outside (a
    // statement fetched from a URL or a bucket: whoever controls that source writes the SQL)
    const p = provenance(sql, ctx);
    if (p.trust === 'user' || p.trust === 'external') {
      // a helper of the file that formats its input into the statement it returns (`get_records(capacity_query(codes,
      // ds))`): formatted SQL, as if written at the call
      if (helperFormats(sql)) ctx.report(sql, { fn: shown, origin: originWords(p.trust), value: snippet(p.node) }, { severity: FORMATTED_SEVERITY[p.trust]! });
      else ctx.report(sql, { fn: shown, origin: originWords(p.trust), value: snippet(p.node) }, { message: 'whole' });
      return;
    }
    // built whole by a function or class of another module (`common.sql.build_query(conf["table"])`): this check
    // reads one file at a time, so what that code does with the input is not seen; medium for trigger input or
    // fetched data, low for another task's output
    const input = p.trust === 'unknown' ? inputToUnseenCode(p.node, ctx) : null;
    if (input) {
      ctx.report(sql, { fn: shown, code: snippet(p.node), origin: originWords(input.trust), value: snippet(input.node) }, { message: 'unseen', severity: input.trust === 'xcom' ? 'low' : 'medium' });
    }
    return;
  }
  const b = decisiveFormattedValue(parts.values, ctx);
  if (!b) return;
  // Variables and environment values name datasets and schemas (admin-controlled): info, not low as for shells
  // (a statement held in a name bound once is reported where it is formatted: the line to fix)
  const u = unwrap(sql);
  const built = u.type === 'identifier' ? singleBinding(u) : null;
  ctx.report(sql, { fn: shown, origin: originWords(b.trust), value: snippet(b.node) }, {
    severity: b.trust === 'config' ? 'info' : FORMATTED_SEVERITY[b.trust]!,
    ...(built ? { at: { startIndex: built.startIndex, endIndex: Math.min(built.endIndex, built.startIndex + 1) } } : {}),
  });
}
