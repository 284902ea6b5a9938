/**
 * Where SQL text is handed to a database in DAG code: the `sql` argument of SQL operators, BigQuery job
 * configurations, hook methods and DB-API/SQLAlchemy/pandas calls — by qualified name, or by method name on a hook
 * or cursor the file does not show the type of.
 */
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { argument, callArgs, stringValue, unwrap } from '../../src/engine/python';
import { calledFunction, resolveName, returnedValues, singleBinding } from '../../src/airflow/provenance';
import { isTaskFunction, mappedOperator } from '../../src/airflow/operators';

/** SQL operators (any provider path: the class names are specific), their SQL in `sql=`. */
export const SQL_OPERATORS = [
  'SQLExecuteQueryOperator', 'PostgresOperator', 'MySqlOperator', 'SnowflakeOperator', 'SnowflakeSqlApiOperator', 'MsSqlOperator',
  'OracleOperator', 'TrinoOperator', 'RedshiftSQLOperator', 'DatabricksSqlOperator', 'BigQueryExecuteQueryOperator', 'SqliteOperator',
  'VerticaOperator', 'JdbcOperator', 'ExasolOperator', 'HiveOperator', 'PrestoOperator', 'DruidOperator', 'SQLCheckOperator',
  'SQLValueCheckOperator', 'SQLThresholdCheckOperator', 'RedshiftDataOperator', 'BigQueryCheckOperator', 'BigQueryValueCheckOperator',
  'SnowflakeCheckOperator', 'SnowflakeValueCheckOperator', 'SparkSqlOperator', 'ClickHouseOperator', 'GenericTransfer',
  'PostgresToGCSOperator', 'MySQLToGCSOperator', 'MSSQLToGCSOperator', 'OracleToGCSOperator', 'TrinoToGCSOperator', 'MySqlToHiveOperator',
];
/** Operators whose SQL is in another keyword than `sql`. */
const OTHER_SQL_KEYWORD: ReadonlyMap<string, string> = new Map([
  ['AthenaOperator', 'query'],
  ['SqlToS3Operator', 'query'],
  ['HiveOperator', 'hql'],
]);
/** Hook and cursor methods whose first argument is SQL. */
const HOOK_METHODS = ['get_records', 'get_first', 'get_pandas_df', 'get_df', 'get_pandas_df_by_chunks', 'run', 'execute', 'executemany', 'executescript'];

export const SQL_CALLS: readonly string[] = [
  ...SQL_OPERATORS.map((c) => `**.${c}`),
  ...[...OTHER_SQL_KEYWORD.keys()].map((c) => `**.${c}`),
  // dynamic task mapping: `Op.partial(sql=…)`, `Op.partial(…).expand(sql=[…])` (the receiver is checked in sqlOf)
  ...[...SQL_OPERATORS, ...OTHER_SQL_KEYWORD.keys()].map((c) => `**.${c}.partial`),
  '**.expand',
  '**.BigQueryInsertJobOperator',
  // BigQueryHook's `insert_job(configuration={"query": {"query": …}})` (the receiver is checked by name in sqlOf)
  '**.insert_job',
  // google-cloud-bigquery's `client.query(sql)` (the receiver is checked by name in sqlOf)
  '**.query',
  ...HOOK_METHODS.map((m) => `**.${m}`),
  'pandas.read_sql', 'pandas.read_sql_query', 'sqlalchemy.text', 'sqlalchemy.sql.text',
];

/** Receivers of `.run(…)`/`.execute(…)` that are not a database (subprocess, executors…). */
const NOT_A_DATABASE = /^(subprocess|os|asyncio|concurrent|multiprocessing|threading|shutil|sys)\./;

/** Hooks with a `run`/`execute` that sends no SQL: HTTP, SSH, file transfer, messaging, containers, cloud APIs. */
const NOT_SQL_HOOK = /(?:^|\.)(?:Http|HttpAsync|SSH|SFTP|FTP|FTPS|S3|GCS|Slack\w*|Discord\w*|Docker|Kubernetes\w*|Smtp|Imap|Sqs|Sns|Lambda\w*|Glue\w*|Emr\w*|Dbt\w*|Livy|Spark\w*|Databricks|Tableau|Pagerduty|Opsgenie|Jira|Github|Winrm|Samba)Hook\b/;

/** The receiver of `x.run(…)`, a name bound only to a call of a non-SQL hook (`hook = HttpHook(method="PUT")`). */
function notSqlHookName(call: SyntaxNode): boolean {
  const f = call.childForFieldName('function');
  const obj = f?.type === 'attribute' ? unwrap(f.childForFieldName('object')!) : null;
  if (obj?.type !== 'identifier') return false;
  const defs = resolveName(obj).map(unwrap);
  return defs.length > 0 && defs.every((d) => d.type === 'call' && NOT_SQL_HOOK.test(d.childForFieldName('function')?.text ?? ''));
}

/**
 * The SQL text a call passes, or null when it passes none (or is not a database call): `sql=` of an operator,
 * `configuration={"query": {"query": …}}` of BigQueryInsertJobOperator, the first argument of a hook/cursor method.
 */
export function sqlOf(call: SyntaxNode, fn: string, ctx: RuleContext): SyntaxNode | null {
  let last = fn.slice(fn.lastIndexOf('.') + 1);
  const args = callArgs(call);
  if (last === 'partial' || last === 'expand') {
    // `Op.partial(sql=…)`; `Op.partial(…).expand(sql=[…])`: the operator is the receiver of `partial`
    const op = last === 'partial' ? fn.slice(0, -'.partial'.length) : mappedOperator(call, ctx);
    if (!op) return null;
    last = op.split('.').pop()!;
    if (SQL_OPERATORS.includes(last)) return args.keywords.get('sql') ?? null;
    if (last === 'BigQueryInsertJobOperator') return bigQueryQuery(args.keywords.get('configuration'), ctx);
  if (last === 'insert_job') {
    const recv = fn.slice(0, fn.length - last.length - 1);
    return /bigquery|bq|hook|client/i.test(recv) ? bigQueryQuery(args.keywords.get('configuration') ?? args.positional[0], ctx) : null;
  }
    const kw = OTHER_SQL_KEYWORD.get(last);
    return kw ? (args.keywords.get(kw) ?? null) : null;
  }
  if (SQL_OPERATORS.includes(last)) return args.keywords.get('sql') ?? null;
  const other = OTHER_SQL_KEYWORD.get(last);
  if (other) return args.keywords.get(other) ?? null;
  if (last === 'query') {
    // BigQuery's `client.query(sql)`, `bq_hook.get_client().query(sql)`; not an ORM `session.query(Model)`
    const recv = fn.slice(0, fn.length - last.length - 1);
    if (!/client|bigquery|\bbq/i.test(recv) || /session/i.test(recv)) return null;
    return argument(args, 'query', 0) ?? null;
  }
  if (last === 'sql') {
    // `spark.sql(q)`, `self.spark.sql(q)`, `SparkSession.builder.getOrCreate().sql(q)`, `sqlContext.sql(q)`
    const recv = fn.slice(0, fn.length - last.length - 1);
    if (!/spark|sqlcontext|hivecontext|getOrCreate/i.test(recv)) return null;
    return argument(args, 'sqlQuery', 0) ?? null;
  }
  if (last === 'BigQueryInsertJobOperator') return bigQueryQuery(args.keywords.get('configuration'), ctx);
  if (last === 'insert_job') {
    const recv = fn.slice(0, fn.length - last.length - 1);
    return /bigquery|bq|hook|client/i.test(recv) ? bigQueryQuery(args.keywords.get('configuration') ?? args.positional[0], ctx) : null;
  }
  if (NOT_A_DATABASE.test(fn)) return null;
  if (last === 'run' || last === 'execute' || last === 'executemany') {
    // `hook.run(sql)`, `cursor.execute(sql)`, `PostgresHook(...).run(...)`: a receiver that looks like a database
    const recv = fn.slice(0, fn.length - last.length - 1);
    if (!/hook|cur|conn|engine|session|db|sql|client/i.test(recv)) return null;
    // `HttpHook(...).run(endpoint)`, `hook.run(…)` after `hook = SSHHook(…)`: hooks whose `run` is no database
    if (NOT_SQL_HOOK.test(recv) || notSqlHookName(call)) return null;
  }
  return argument(args, last === 'text' ? 'text' : 'sql', 0) ?? null;
}

/** How a SQL call is named in a message: `sql.SQLExecuteQueryOperator`, `SQLExecuteQueryOperator.partial(…).expand`. */
export function sqlCallName(call: SyntaxNode, fn: string, ctx: RuleContext): string {
  const op = fn.endsWith('expand') ? mappedOperator(call, ctx) : null;
  return op ? `${op.split('.').pop()}.partial(…).expand` : fn.split('.').slice(-2).join('.');
}

/**
 * The statements of an `sql` value: each element of a list or tuple (`sql=[stmt, …]`, also through a name bound to
 * one), the body of a comprehension (`expand(sql=[f"DELETE FROM {t} …" for t in TABLES])`: one statement per
 * element), else the value itself.
 */
export function sqlStatements(sql: SyntaxNode, ctx: RuleContext, depth = 0): SyntaxNode[] {
  let u = unwrap(sql);
  const v = u.type === 'identifier' ? singleBinding(u) : null;
  if (v && /^(list|tuple|list_comprehension|generator_expression)$/.test(v.type)) u = v;
  if (u.type === 'list' || u.type === 'tuple') return u.namedChildren.filter((x) => x.type !== 'comment');
  if (u.type === 'list_comprehension' || u.type === 'generator_expression') return [u.childForFieldName('body') ?? sql];
  // statements a task of this file returns (`expand(sql=build_statements(…))`: its output reaches the operator as
  // an XCom, no call site passes values), each checked where it is built — a list grown with `.append(f"…")` gives
  // each appended statement. A plain helper stays one value, judged at its call (provenance follows its returns).
  const def = depth < 2 ? calledFunction(u) : null;
  if (def && isTaskFunction(def, ctx) && !(u.startIndex >= def.startIndex && u.endIndex <= def.endIndex)) {
    const out = returnedValues(def).flatMap((r) => {
      const ru = unwrap(r);
      const grown = ru.type === 'identifier' ? resolveName(ru).filter((d) => !/^(list|tuple|dictionary)$/.test(unwrap(d).type) || unwrap(d).namedChildCount > 0) : [];
      return (grown.length ? grown : [r]).flatMap((x) => sqlStatements(x, ctx, depth + 1));
    });
    if (out.length) return out;
  }
  return [sql];
}

/**
 * The `["query"]["query"]` of a BigQuery job configuration: written in place, bound to a name, one of a list (mapped
 * with `.expand(configuration=[…])`), or returned by a function or task of this file (`expand(configuration=
 * build_config())`).
 */
function bigQueryQuery(conf: SyntaxNode | undefined, ctx: RuleContext, depth = 0): SyntaxNode | null {
  if (!conf || depth > 4) return null;
  const u = unwrap(conf);
  if (u.type === 'identifier') {
    const v = singleBinding(u);
    if (v && !isEmptyCollection(v)) return bigQueryQuery(v, ctx, depth + 1);
    // `jobs = []` then `jobs.append({"query": {…}})` in a loop: the configurations are what was appended
    for (const d of resolveName(u)) {
      const q = isEmptyCollection(d) ? null : bigQueryQuery(d, ctx, depth + 1);
      if (q) return q;
    }
    return null;
  }
  if (u.type === 'dictionary') {
    const q = dictValue(u, 'query');
    return (q && dictValue(unwrap(q), 'query')) ?? null;
  }
  if (u.type === 'list' || u.type === 'tuple') {
    for (const x of u.namedChildren) {
      const q = x.type === 'comment' ? null : bigQueryQuery(x, ctx, depth + 1);
      if (q) return q;
    }
    return null;
  }
  const def = calledFunction(u);
  if (def && !(u.startIndex >= def.startIndex && u.endIndex <= def.endIndex)) {
    for (const r of returnedValues(def)) {
      const q = bigQueryQuery(r, ctx, depth + 1);
      if (q) return q;
    }
  }
  return null;
}

function isEmptyCollection(n: SyntaxNode): boolean {
  const u = unwrap(n);
  return /^(list|tuple|dictionary)$/.test(u.type) && u.namedChildCount === 0;
}

function dictValue(dict: SyntaxNode, key: string): SyntaxNode | null {
  if (dict.type !== 'dictionary') return null;
  for (const p of dict.namedChildren) {
    if (p.type === 'pair' && stringValue(p.childForFieldName('key')) === key) return p.childForFieldName('value');
  }
  return null;
}

/** Operators render their `sql` as a Jinja template; hooks and cursors run it as given. */
export function isTemplatedSqlCall(fn: string): boolean {
  const parts = fn.split('.');
  let last = parts.pop()!;
  // `Op.partial(…).expand(sql=…)`: sqlOf checks that the receiver is an operator's `partial`
  if (last === 'expand') return true;
  if (last === 'partial') last = parts.pop() ?? '';
  return SQL_OPERATORS.includes(last) || OTHER_SQL_KEYWORD.has(last) || last === 'BigQueryInsertJobOperator';
}
