import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { callArgs, stringValue, unwrap } from '../../src/engine/python';
import type { RuleContext } from '../../src/engine/context';

const CONF_GET = /^airflow\.(configuration|settings|sdk(\.configuration)?)\.(conf\.)?(get|get_mandatory_value|getsection|as_dict|getimport)$/;
const CONF_CALLS = ['airflow.configuration', 'airflow.settings', 'airflow.sdk', 'airflow.sdk.configuration'].flatMap((m) =>
  ['', 'conf.'].flatMap((c) => ['get', 'get_mandatory_value', 'getsection', 'as_dict', 'getimport'].map((f) => `${m}.${c}${f}`)),
);
/** section -> sensitive keys (the `_cmd` / `_secret` variants are matched too). */
const SENSITIVE: Record<string, RegExp> = {
  core: /^(fernet_key|sql_alchemy_conn|internal_api_secret_key)$/,
  database: /^sql_alchemy_conn$/,
  webserver: /^secret_key$/,
  api: /^secret_key$/,
  api_auth: /^jwt_secret$/,
  celery: /^(broker_url|result_backend|flower_basic_auth)$/,
  secrets: /^backend_kwargs$/,
  smtp: /^smtp_password$/,
  sentry: /^sentry_dsn$/,
};
/** Text any reported `conf` call contains: a sensitive key, a sensitive section (`getsection`) or `display_sensitive`. */
const MAY_BE_SECRET = /fernet|sql_alchemy|secret|broker_url|result_backend|flower_basic_auth|backend_kwargs|smtp_password|sentry_dsn|display_sensitive|getsection/i;
const SENSITIVE_SECTIONS = new Set(['core', 'database', 'celery', 'secrets', 'smtp', 'webserver', 'api', 'api_auth']);
const ENV_VAR = /^AIRFLOW__([A-Z0-9_]+?)__([A-Z0-9_]+)$/;
const ENGINE_URL_CALLS = ['airflow.settings.engine.url.render_as_string', 'airflow.settings.engine.url.__to_string__'];
const ENV_GETTERS = new Set(['os.getenv', 'os.environ.get', 'os.environ.pop', 'os.environ.setdefault', 'os.getenvb']);

function sensitive(section: string, key: string): boolean {
  const re = Object.hasOwn(SENSITIVE, section.toLowerCase()) ? SENSITIVE[section.toLowerCase()] : undefined; // not `constructor`
  const k = key.toLowerCase();
  return !!re && (re.test(k) || re.test(k.replace(/_(cmd|secret)$/, '')));
}

export default defineRule({
  meta: {
    id: 'DG603',
    name: 'airflow-secret-config-read',
    category: 'malicious',
    severity: 'high',
    message: 'reads the Airflow secret `{what}`{when}',
    docs: {
      what:
        'Finds reads of Airflow\'s own secrets: `conf.get("core", "fernet_key")`, `conf.get("database", "sql_alchemy_conn")`, `conf.get("webserver"|"api", "secret_key")`, `conf.get("api_auth", "jwt_secret")`, Celery broker/result-backend URLs, `secrets.backend_kwargs`, `smtp_password` (also their `_cmd`/`_secret` variants), `conf.getsection(...)` of those sections, `conf.as_dict(display_sensitive=True)`, the metadata DB URL (`settings.engine.url`, `settings.SQL_ALCHEMY_CONN`), and the matching `AIRFLOW__SECTION__KEY` environment variables (`os.environ[...]`, `os.getenv`). Critical at parse time, high in a task.',
      why:
        'These values are the keys to the whole deployment: the metadata-DB password, the key that decrypts every stored connection, the key that signs web sessions and API tokens. No DAG needs them; a DAG that reads them is exfiltrating them or about to bypass Airflow\'s access control. At parse time the read happens in the dag-processor, where they are always present.',
      example: '```python\nfrom airflow.configuration import conf\nFERNET = conf.get("core", "fernet_key")\nDB = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]\n```',
      useInstead:
        'Use a named connection (`BaseHook.get_connection("warehouse")`) or a Variable for what the DAG actually needs; never the scheduler\'s own credentials.',
    },
  },
  // the metadata DB URL with its password: `settings.engine.url.render_as_string(hide_password=False)`
  calls: [...ENV_GETTERS, ...CONF_CALLS, ...ENGINE_URL_CALLS],
  query: `(subscript value: (_) @obj subscript: (string) @key (#match? @key "AIRFLOW__")) @sub
(attribute attribute: (identifier) @attr (#eq? @attr "SQL_ALCHEMY_CONN")) @conn
(attribute object: (attribute attribute: (identifier) @eng) attribute: (identifier) @u (#eq? @eng "engine") (#eq? @u "url")) @url
(attribute object: (identifier) @eng attribute: (identifier) @u (#eq? @eng "engine") (#eq? @u "url")) @url`,
  keywords: ['AIRFLOW__', 'SQL_ALCHEMY_CONN', 'engine'],
  onMatch(c, ctx) {
    if (c.url) {
      // `settings.engine.url` (`.password`, `str(…)` on SQLAlchemy 1.3): the metadata DB URL; the explicit
      // `render_as_string(hide_password=…)` call is judged by onCall
      const u = c.url[0];
      const next = u.parent?.type === 'attribute' ? u.parent.childForFieldName('attribute')?.text : undefined;
      if (next === 'render_as_string' || next === '__to_string__') return;
      // the dialect of the metadata DB (`settings.engine.url.get_backend_name() == "postgresql"`) is no secret
      if (next && /^(drivername|get_backend_name|get_driver_name|get_dialect|database|port)$/.test(next)) return;
      if (ctx.qualifiedName(u) === 'airflow.settings.engine.url') reportRead(u, next === 'password' ? 'metadata DB password (settings.engine.url.password)' : 'metadata DB URL (settings.engine.url)', ctx);
      return;
    }
    if (c.conn) {
      // `airflow.settings.SQL_ALCHEMY_CONN`: the metadata DB connection string, password included
      if (ctx.qualifiedName(c.conn[0]) === 'airflow.settings.SQL_ALCHEMY_CONN') reportRead(c.conn[0], 'settings.SQL_ALCHEMY_CONN', ctx);
      return;
    }
    if (ctx.qualifiedName(c.obj[0]) !== 'os.environ') return;
    const name = stringValue(c.key[0]);
    const m = name ? ENV_VAR.exec(name) : null;
    if (m && sensitive(m[1], m[2])) reportRead(c.sub[0], name!, ctx);
  },
  onCall(call, fn, ctx) {
    if (ENGINE_URL_CALLS.includes(fn)) {
      const hide = callArgs(call).keywords.get('hide_password');
      if (hide && unwrap(hide).type === 'false') reportRead(call, 'metadata DB URL (settings.engine.url, hide_password=False)', ctx);
      return;
    }
    // `get` is among the most common calls: decide by the callee before looking at the arguments.
    const env = ENV_GETTERS.has(fn);
    const m = env ? null : CONF_GET.exec(fn);
    if (!env && !m) return;
    // Most of these calls read harmless settings: look at the arguments only if the text could name a secret.
    if (!(env ? call.text.includes('AIRFLOW__') : MAY_BE_SECRET.test(call.text))) return;
    const report = (node: SyntaxNode, what: string): void => reportRead(node, what, ctx);
    const args = callArgs(call);
    if (!m) {
      const name = stringValue(args.positional[0] ?? args.keywords.get('key'));
      const v = name ? ENV_VAR.exec(name) : null;
      if (v && sensitive(v[1], v[2])) report(call, name!);
      return;
    }
    const method = m[4];
    if (method === 'as_dict') {
      const ds = args.keywords.get('display_sensitive');
      if (ds && unwrap(ds).type !== 'false') report(call, 'configuration (as_dict with display_sensitive)');
      return;
    }
    const section = stringValue(args.positional[0] ?? args.keywords.get('section'));
    if (!section) return;
    if (method === 'getsection') {
      if (SENSITIVE_SECTIONS.has(section.toLowerCase())) report(call, `[${section}] section`);
      return;
    }
    const key = stringValue(args.positional[1] ?? args.keywords.get('key'));
    if (key && sensitive(section, key)) report(call, `${section}.${key}`);
  },
});

function reportRead(node: SyntaxNode, what: string, ctx: RuleContext): void {
  const parse = ctx.isParseTime(node);
  ctx.report(node, { what, when: parse ? ' while the DAG file is parsed' : '' }, { severity: parse ? 'critical' : 'high', parseTime: false });
}
