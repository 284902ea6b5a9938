import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import type { RuleContext } from '../../src/engine/context';
import { callArgs, stringValue } from '../../src/engine/python';
import { redact } from '../../src/engine/redact';
import {
  bindingQuery,
  STRONG_NAME_PREFILTER,
  bindingFromCaptures,
  findTokens,
  findUriCredentials,
  isAwsSecretKeyBinding,
  isKubernetesSecretCall,
  isNotASecretValue,
  jsonStringPairs,
  nameStrength,
  secretKey,
} from './_util';

/** Is `value` under `name` a hardcoded secret this rule reports (and no more specific DG1xx rule does)? */
export function isHardcodedSecret(name: string, value: string): boolean {
  if (nameStrength(name) !== 'strong') return false;
  if (isNotASecretValue(value, name)) return false;
  // more specific rules own these: DG102 (URI credentials), DG103 (known formats)
  if (findTokens(value).length || isAwsSecretKeyBinding(name, value) || findUriCredentials(value).length) return false;
  return true;
}

function report(ctx: RuleContext, node: SyntaxNode, name: string, value: string): void {
  ctx.report(node, `hardcoded secret in \`${name}\`: ${redact(value)}; read it from a secrets backend or Connection instead`, {
    key: secretKey(`DG101:${name.toLowerCase()}`, value),
  });
}

const STRONG_NAME_RE = new RegExp(STRONG_NAME_PREFILTER);
const JSON_STRING = /^[^{]{1,4}\{[ \n]*["']/;

const ENV_GETTERS = /^(os\.getenv|os\.environ\.get|os\.environ\.setdefault|os\.putenv)$|(^|\.)Variable\.(get|set|setdefault)$/;

export default defineRule({
  meta: {
    id: 'DG101',
    name: 'hardcoded-password',
    category: 'secret',
    severity: 'high',
    message: 'hardcoded secret assigned to a password/token/key name',
    aliases: ['B105', 'B106', 'B107', 'S105', 'S106', 'S107'],
    docs: {
      what:
        'Finds string literals bound to names that say "secret": `password`, `passwd`, `pwd`, `secret`, `token`, `api_key`, `secret_key`, `client_secret`, `private_key`, `credentials`… in snake_case, camelCase, UPPER_CASE and run-together forms (`DATABASEPASSWORD`), as variables, attributes (`self.password`), subscripts (`conf["password"]`), dict keys (`{"password": …}`, also inside JSON strings such as `Connection(extra=\'{"token": …}\')`), keyword arguments (`Connection(password=…)`), parameter defaults, `==` comparisons, `requests` basic auth (`auth=("user", "…")`, `HTTPBasicAuth("user", "…")`), defaults of `os.getenv`/`Variable.get`, `Variable.set` values, setters (`conn.set_password("…")`) and `k8s.V1EnvVar(name="DB_PASSWORD", value=…)`.\n\n' +
        'It ignores what is not a literal secret: Jinja templates (`{{ conn.db.password }}`), lookups (`Variable.get`, `os.environ`, `BaseHook.get_connection`), names of env vars, fields or Kubernetes Secrets (`password_env="DB_PASSWORD"`, `token_key="access_token"`, `Secret(secret="k8s-secret-name")`), paths, secret-manager references, empty and placeholder values (`""`, `"***"`, `"<password>"`, `"${DB_PASSWORD}"`, `"%(password)s"`, `"changeme"`), and pagination cursors such as `next_token`. Values of a known vendor format are reported by DG103 and URI credentials by DG102 instead.',
      why:
        'Airflow parses every file in the DAG folder, and the DAG repository is read by everyone with access to git, CI logs, the scheduler image and the web UI\'s code view. A password in a DAG file is a password for all of them, survives in git history after it is removed, and cannot be rotated without a code change.',
      example:
        '```python\nfrom airflow.models import Connection\n\nDB_PASSWORD = "S3cr3t!pass"\nconn = Connection(conn_id="warehouse", conn_type="postgres", login="etl", password="hunter2-prod")\nheaders = {"api_key": "k-8f3a9c1d22"}\n```',
      useInstead:
        '```python\nfrom airflow.hooks.base import BaseHook\nfrom airflow.models import Variable\n\nconn = BaseHook.get_connection("warehouse")          # stored in a secrets backend\napi_key = Variable.get("partner_api_key")             # inside the task, not at parse time\nbash_command = "psql -c \'select 1\'"                   # with env={"PGPASSWORD": "{{ conn.warehouse.password }}"}\n```',
    },
  },
  // Binding patterns carry no name predicate: the same match serves the name check and the JSON-string check.
  query: `${bindingQuery(null)}
(call function: (attribute attribute: (identifier) @m) arguments: (argument_list . [(string) (concatenated_string)] @envname (#any-of? @m "getenv" "get" "setdefault" "set" "putenv") (#match? @envname "${STRONG_NAME_PREFILTER}"))) @envcall
(keyword_argument name: (identifier) @authkw value: (tuple . (_) @authuser . (string) @authpw .) (#eq? @authkw "auth"))
(call function: [(identifier) (attribute)] @basicfn arguments: (argument_list . (_) @authuser . (string) @authpw .) (#match? @basicfn "(Basic|Digest|Proxy)Auth$"))
(call function: (attribute attribute: (identifier) @setter) arguments: (argument_list . [(string) (concatenated_string)] @setval .) (#match? @setter "^set_?(password|passwd|token|secret|api_?key|credentials)$"))
(call function: [(identifier) (attribute)] @k8sfn arguments: (argument_list (keyword_argument name: (identifier) @vk value: [(string) (concatenated_string)] @envval (#eq? @vk "value"))) (#match? @k8sfn "V1EnvVar$")) @k8scall`,
  onMatch(c, ctx) {
    if (c.envcall) {
      const call = c.envcall[0];
      const fn = ctx.callee(call) ?? '';
      if (!ENV_GETTERS.test(fn)) return;
      const name = stringValue(c.envname[0]);
      if (!name) return;
      const a = callArgs(call);
      const valueNode = a.positional[1] ?? a.keywords.get('default_var') ?? a.keywords.get('default') ?? a.keywords.get('value');
      const value = stringValue(valueNode);
      if (!valueNode || value === null) return;
      if (isHardcodedSecret(name, value)) report(ctx, valueNode, name, value);
      return;
    }
    if (c.setval) {
      // conn.set_password("..."), client.set_token("...")
      const name = c.setter[0].text.replace(/^set_?/, '');
      const value = stringValue(c.setval[0]);
      if (value !== null && isHardcodedSecret(name, value)) report(ctx, c.setval[0], name, value);
      return;
    }
    if (c.authpw) {
      // requests' auth=("user", "password") / HTTPBasicAuth("user", "password")
      const value = stringValue(c.authpw[0]);
      if (value !== null && isHardcodedSecret('password', value)) report(ctx, c.authpw[0], 'auth password', value);
      return;
    }
    if (c.k8scall) {
      const fn = ctx.callee(c.k8scall[0]) ?? '';
      if (!/(^|\.)V1EnvVar$/.test(fn)) return;
      const name = stringValue(callArgs(c.k8scall[0]).keywords.get('name'));
      const value = stringValue(c.envval[0]);
      if (name && value !== null && isHardcodedSecret(name, value)) report(ctx, c.envval[0], name, value);
      return;
    }
    const val = c.val?.[0];
    if (!val) return;
    if (val.type === 'string' && JSON_STRING.test(val.text)) {
      // a JSON document in a string, under any name: extra='{"token": "..."}'
      const v = stringValue(val);
      const pairs = v ? jsonStringPairs(v) : [];
      for (const [k, x] of pairs) if (isHardcodedSecret(k, x)) report(ctx, val, k, x);
      if (pairs.length) return;
    }
    if (!STRONG_NAME_RE.test(c.lhs[0].text)) return;
    const b = bindingFromCaptures(c);
    if (!b) return;
    if (b.kind === 'keyword' && isKubernetesSecretCall(ctx, c.kw?.[0])) return;
    if (isHardcodedSecret(b.name, b.value)) report(ctx, b.valueNode, b.name, b.value);
  },
});
