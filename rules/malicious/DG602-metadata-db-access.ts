import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { callArgs } from '../../src/engine/python';
import type { Severity } from '../../src/report';

const SESSION_FACTORIES = new Set([
  'airflow.settings.Session',
  'airflow.settings.engine.connect',
  'airflow.settings.engine.begin',
  'airflow.settings.engine.execute',
  'airflow.settings.engine.raw_connection',
  'airflow.utils.session.create_session',
  'airflow.utils.db.create_session',
]);
/** Writes to the metadata database through Airflow's model API (a Variable set or deleted on every parse). */
const MODEL_WRITES = new Set(
  ['airflow.models.Variable', 'airflow.models.variable.Variable', 'airflow.sdk.Variable'].flatMap((v) => [`${v}.set`, `${v}.delete`, `${v}.update`, `${v}.setdefault`]),
);
const PROVIDE_SESSION = new Set(['airflow.utils.session.provide_session', 'airflow.utils.db.provide_session']);
/** ORM models whose rows are secrets (the ORM decrypts passwords and extras with the Fernet key). */
const SECRET_MODEL = /^airflow\.(models(\.(connection|variable))?\.(Connection|Variable)|providers\.fab\..*\.(User|Role))$|(^|\.)(Connection|Variable)$/;
const ANY_MODEL = /^airflow\.models(\.|$)/;

export default defineRule({
  meta: {
    id: 'DG602',
    name: 'metadata-db-access',
    category: 'malicious',
    severity: 'high',
    message: 'opens a session on the Airflow metadata database while the DAG file is parsed',
    messages: {
      session: '`{fn}` opens a session on the Airflow metadata database while the DAG file is parsed',
      provide: 'calls a `provide_session` function, which opens a metadata-DB session, while the DAG file is parsed',
      engine: "connects to the Airflow metadata database with the scheduler's own connection string",
      secretParse: 'queries the Connection/Variable tables of the metadata database while the DAG file is parsed',
      secret: 'queries the Connection/Variable tables of the metadata database directly, bypassing the secrets backend',
      model: 'queries the Airflow metadata database while the DAG file is parsed',
      write: '`{fn}` writes the Airflow metadata database while the DAG file is parsed',
    },
    docs: {
      what:
        'Finds direct access to the Airflow metadata database: `settings.Session()`, `create_session()`, `settings.engine.connect()`, `provide_session(f)()` and `create_engine(...sql_alchemy_conn...)` at parse time (high), writes through the model API at parse time (`Variable.set`/`delete`/`update`/`setdefault`: a database write at every parse; high), and ORM queries of the `Connection` and `Variable` tables (`session.query(Connection)`) anywhere — critical at parse time, high in a task. Queries of other models at parse time are medium.',
      why:
        'The dag-processor holds the metadata-DB credentials; a DAG file that opens a session from there can read every connection and variable (the ORM decrypts them with the Fernet key), bypassing the secrets backend, RBAC and audit logging — or change them. Airflow 3 forbids direct DB access from task code for this reason. Even harmless queries at parse time add a DB round-trip to every parse of every file.',
      example: '```python\nfrom airflow.models import Connection\nfrom airflow.settings import Session\n\nsession = Session()\nCONNS = {c.conn_id: c.get_uri() for c in session.query(Connection)}\n```',
      useInstead:
        '```python\nfrom airflow.hooks.base import BaseHook\n\n@task\ndef load():\n    conn = BaseHook.get_connection("warehouse")  # one named connection, at run time, through the secrets backend\n```',
    },
  },
  // Sessions and engines come from anywhere (`settings.Session`, a sqlalchemy engine); `.query(…)` on any session.
  calls: [...SESSION_FACTORIES, ...PROVIDE_SESSION, ...MODEL_WRITES, 'sqlalchemy.create_engine', 'sqlalchemy.engine.create_engine', '**.query'],
  onCall(call, fn, ctx) {
    if (MODEL_WRITES.has(fn)) {
      // `Variable.set(…)` at module level: a metadata-DB write at every parse of the file, by every dag-processor
      if (ctx.isParseTime(call)) ctx.report(call, { fn: fn.split('.').slice(-2).join('.') }, { message: 'write', severity: 'high' });
      return;
    }
    if (PROVIDE_SESSION.has(fn)) {
      // `provide_session(f)()`: the outer call opens the session.
      const outer = call.parent;
      if (outer && outer.type === 'call' && outer.startIndex === call.startIndex && ctx.isParseTime(outer)) {
        ctx.report(outer, {}, { message: 'provide', severity: 'high' });
      }
      return;
    }
    const fnNode = call.childForFieldName('function')!;
    let pt: boolean | undefined;
    const isParse = (): boolean => (pt ??= ctx.isParseTime(call));
    const report = (node: SyntaxNode, message: string, severity: Severity, fields = {}): void => ctx.report(node, fields, { message, severity });

    if (SESSION_FACTORIES.has(fn)) {
      if (isParse()) report(call, 'session', 'high', { fn });
      return;
    }
    if (fn === 'sqlalchemy.create_engine' || fn === 'sqlalchemy.engine.create_engine') {
      if (/sql_alchemy_conn/i.test(call.text)) report(call, 'engine', isParse() ? 'critical' : 'high');
      return;
    }
    if (fnNode.type === 'attribute' && fnNode.childForFieldName('attribute')?.text === 'query') {
      const args = callArgs(call).positional;
      let secret = false;
      let model = false;
      for (const a of args) {
        const q = ctx.qualifiedName(a.type === 'attribute' ? a.childForFieldName('object')! : a) ?? '';
        if (!q.startsWith('airflow.') && !ctx.imports.has(q.split('.')[0])) continue;
        if (SECRET_MODEL.test(q) && q.startsWith('airflow.')) secret = true;
        else if (ANY_MODEL.test(q)) model = true;
      }
      if (!secret && !model) return;
      const parse = isParse();
      if (secret) report(call, parse ? 'secretParse' : 'secret', parse ? 'critical' : 'high');
      else if (model && parse) report(call, 'model', 'medium');
    }
  },
});
