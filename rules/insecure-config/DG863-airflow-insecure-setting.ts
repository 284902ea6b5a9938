import type { RuleContext } from '../../src/engine/context';
import { defineRule } from '../../src/engine/rule';

/** Airflow settings that turn a protection off, the value that does, and what it opens. */
const SETTINGS: { key: string; bad: RegExp; severity: 'high' | 'medium'; what: string }[] = [
  { key: 'enable_xcom_pickling', bad: /^true$/i, severity: 'high', what: 'XCom values are unpickled: whoever can write an XCom (any task, any DAG author) runs code in the workers and the webserver that read it' },
  { key: 'allowed_deserialization_classes', bad: /(?:^|\s)(?:\.\*|\*|\.\+)(?:\s|$)/, severity: 'high', what: 'any class may be deserialized from XComs and serialized DAGs' },
  { key: 'expose_config', bad: /^(?:true|non-sensitive-only)$/i, severity: 'medium', what: 'the web UI shows the configuration — with `True`, the metadata DB URL, Fernet and secret keys included' },
  { key: 'hide_sensitive_var_conn_fields', bad: /^false$/i, severity: 'medium', what: 'passwords and tokens of Variables and Connections are shown in the UI and logs' },
  { key: 'auth_backends', bad: /\bbackend\.default\b/, severity: 'high', what: 'the REST API accepts requests without authentication' },
  { key: 'auth_backend', bad: /\bbackend\.default\b/, severity: 'high', what: 'the REST API accepts requests without authentication' },
  { key: 'test_connection', bad: /^enabled$/i, severity: 'medium', what: 'every UI user can make the webserver connect anywhere with any stored credential' },
];

const KEYS = 'enable_xcom_pickling|allowed_deserialization_classes|expose_config|hide_sensitive_var_conn_fields|auth_backends?|test_connection';
const ENVIRON_SET = new RegExp(String.raw`environ\s*\[\s*["']((?:AIRFLOW__[A-Za-z0-9_]+?__)(?:${KEYS}))["']\s*\]\s*=\s*([^\n#]*)`, 'gi');
const CONF_SET = new RegExp(String.raw`\bconf\.set\(\s*["'][\w-]+["']\s*,\s*["'](${KEYS})["']\s*,\s*([^\n#)]*)`, 'gi');
const HINT = /enable_xcom_pickling|allowed_deserialization_classes|expose_config|hide_sensitive_var_conn_fields|auth_backends?|test_connection/i;
const LINE = /^[ \t-]*["']?((?:AIRFLOW__[A-Za-z0-9_]+?__)?(?:enable_xcom_pickling|allowed_deserialization_classes|expose_config|hide_sensitive_var_conn_fields|auth_backends?|test_connection))["']?[ \t]*[:=][ \t]*([^\n#]*)/gim;

/** `AIRFLOW__WEBSERVER__EXPOSE_CONFIG` and `expose_config` are the same setting. */
const settingOf = (key: string): string => key.toLowerCase().replace(/^airflow__[a-z0-9_]+?__/, '');

export default defineRule({
  meta: {
    id: 'DG863',
    name: 'airflow-insecure-setting',
    category: 'insecure-config',
    severity: 'high',
    message: '`{key} = {value}` in `{file}`: {what}',
    docs: {
      what:
        'Finds Airflow settings that turn a protection off, in configuration shipped with the DAGs (`airflow.cfg`, `.ini`/`.cfg` overrides, `.env` files and YAML/JSON with `AIRFLOW__SECTION__KEY` variables, Helm values): `enable_xcom_pickling = True` and `allowed_deserialization_classes = .*` (*high*: unpickling), `[api] auth_backends = airflow.api.auth.backend.default` (*high*: an unauthenticated REST API), `expose_config = True` and `hide_sensitive_var_conn_fields = False` (*medium*: secrets in the UI), `test_connection = Enabled` (*medium*). In DAG code too: such a setting handed to the processes a task starts or set for itself (`env_vars={"AIRFLOW__CORE__ENABLE_XCOM_PICKLING": "True"}`, `os.environ["AIRFLOW__…"] = …`, `conf.set("core", "enable_xcom_pickling", "True")`).',
      why:
        'These files reach the deployment with the DAGs (a config map, an image layer, the chart\'s values), and each setting undoes a default that exists because of a past vulnerability class: pickled XComs are code execution for anyone who can write one, an open API is the scheduler\'s remote control, an exposed configuration hands out the metadata DB password and the Fernet key.',
      example: '```ini\n[core]\nenable_xcom_pickling = True\n[webserver]\nexpose_config = True\n```',
      useInstead: '```ini\n[core]\nenable_xcom_pickling = False       # JSON XComs; large objects through an object-store XCom backend\n[webserver]\nexpose_config = False\n```',
    },
  },
  onDataFile(ctx) {
    scan(ctx, ctx.file.text, ctx.file.path.split('/').pop()!);
  },
  // DAG code that sets them for the processes it starts or for itself: `env_vars={"AIRFLOW__CORE__ENABLE_XCOM_PICKLING":
  // "True"}`, `os.environ["AIRFLOW__…"] = "True"`, `conf.set("core", "enable_xcom_pickling", "True")`
  keywords: ['enable_xcom_pickling', 'allowed_deserialization_classes', 'expose_config', 'hide_sensitive_var_conn_fields', 'auth_backend', 'test_connection'],
  onFile(ctx) {
    scan(ctx, ctx.file.text, ctx.file.path.split('/').pop()!);
  },
});

function scan(ctx: RuleContext, text: string, file: string): void {
  if (!HINT.test(text)) return;
  // `key = value` / `key: value` / `AIRFLOW__SECTION__KEY=value` / `"key": value` (booleans are not strings to a YAML
  // or JSON parser, so the text is read, not the parsed pairs), `environ["AIRFLOW__…"] = …`, `conf.set(section, key, …)`
  for (const re of [LINE, ENVIRON_SET, CONF_SET]) {
    for (const m of text.matchAll(re)) {
      const key = settingOf(m[1]);
      const value = m[2].trim().replace(/,$/, '').replace(/\)$/, '').replace(/^["']|["']$/g, '');
      const s = SETTINGS.find((x) => x.key === key);
      if (!s || !s.bad.test(value)) continue;
      const start = m.index! + m[0].length - m[2].length;
      ctx.reportRange(start, start + m[2].trimEnd().length, { key, value, file, what: s.what }, { severity: s.severity });
    }
  }
}
