import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import type { RuleContext } from '../../src/engine/context';
import { callArgs, stringValue, unwrap } from '../../src/engine/python';
import { resolveName } from '../../src/airflow/provenance';
import { literalText } from '../../src/airflow/strings';
import type { DataKind } from '../../src/data/kinds';
import { redact } from '../../src/engine/redact';
import { SECRET_BINDING_QUERY, bindingFromCaptures, isKubernetesSecretCall, jsonStringPairs, secretKey, STRONG_NAME_FRAGMENTS } from './_bindings';
import { findTokens, isAwsSecretKeyBinding } from './_tokens';
import { findUriCredentials } from './_uri-credentials';
import { isBareWord, isDevDefault, isNotASecretValue, isPasswordName, isPlaceholderDefault } from './_values';
import { nameStrength, STRONG_NAME_WORDS } from './_names';
import { DATA_PAIRS, extractPairs } from '../../src/data/pairs';

/** Is `value` under `name` a hardcoded secret this rule reports (and no more specific DG1xx rule does)? */
export function isHardcodedSecret(name: string, value: string): boolean {
  if (nameStrength(name) !== 'strong') return false;
  if (isNotASecretValue(value, name)) return false;
  // `'tokens': 'address'`, `secret: "Value"`: a bare word is a password, but not a token, key or secret
  if (!isPasswordName(name) && isBareWord(value)) return false;
  // more specific rules own these: DG102 (URI credentials), DG103 (known formats)
  if (findTokens(value).length || isAwsSecretKeyBinding(name, value) || findUriCredentials(value).length) return false;
  return true;
}

function report(ctx: RuleContext, node: SyntaxNode, name: string, value: string): void {
  ctx.report(node, { name, value: redact(value) }, { key: secretKey(`DG101:${name.toLowerCase()}`, value) });
}

/**
 * Parsers of configuration documents kept in the DAG file as text (`yaml.safe_load("""…password: …""")`,
 * `ConfigParser().read_string(…)`): the document's secret-named keys, as in a data file of that kind.
 */
const EMBEDDED_DOCUMENT: Record<string, DataKind> = {
  'yaml.safe_load': 'yaml',
  'yaml.load': 'yaml',
  'yaml.full_load': 'yaml',
  'yaml.unsafe_load': 'yaml',
  'yaml.safe_load_all': 'yaml',
  'yaml.load_all': 'yaml',
  'ruamel.yaml.YAML.load': 'yaml',
  'toml.loads': 'toml',
  'tomllib.loads': 'toml',
  'tomli.loads': 'toml',
  '**.read_string': 'ini',
};

function onEmbeddedDocument(call: SyntaxNode, kind: DataKind, ctx: RuleContext): void {
  const arg = callArgs(call).positional[0];
  if (!arg) return;
  let doc = unwrap(arg);
  if (doc.type === 'identifier') {
    // CONFIG_TEXT = """…""" bound before the call
    const defs = resolveName(doc).map(unwrap);
    if (defs.length !== 1) return;
    doc = defs[0];
  }
  const text = doc.type === 'string' && !doc.namedChildren.some((c) => c.type === 'interpolation') ? literalText(doc) : null;
  if (!text || text.length > 65536) return;
  for (const p of extractPairs(text, kind)) if (isHardcodedSecret(p.key, p.value)) report(ctx, doc, p.key, p.value);
}

const STRONG_NAME_RE = new RegExp(STRONG_NAME_FRAGMENTS, 'i');

/**
 * A secret-named dict, list or tuple of literals: `PASSWORDS = {"dev": "…", "prod": "…"}` (one password per
 * environment), `SHARD_CREDENTIALS = [("host", "user", "…"), …]`. A secret-named key inside is a binding of its own;
 * elsewhere, where hosts and user names sit next to the password, only values that look like a password (letters
 * and digits with a symbol or mixed case, no dots, slashes or blanks) count.
 */
function onContainer(lhs: SyntaxNode, container: SyntaxNode, ctx: RuleContext): void {
  const name = lhs.type === 'attribute' ? lhs.childForFieldName('attribute')!.text : lhs.text;
  if (!STRONG_NAME_RE.test(name)) return;
  // a container is named in the plural: `PASSWORDS`, `API_KEYS`, `TOKENS`
  const one = name.replace(/(?<=[A-Za-z]{3})[sS]$/, '');
  if (nameStrength(name) !== 'strong' && nameStrength(one) !== 'strong') return;
  const visit = (n: SyntaxNode, depth: number): void => {
    if (depth > 3) return;
    if (n.type === 'dictionary') {
      for (const p of n.namedChildren) {
        if (p.type !== 'pair') continue;
        const key = stringValue(p.childForFieldName('key'));
        if (key !== null && nameStrength(key) !== null) continue; // `"password": …`: a binding of its own
        visit(unwrap(p.childForFieldName('value')!), depth + 1);
      }
      return;
    }
    if (n.type === 'list' || n.type === 'tuple') {
      for (const e of n.namedChildren) visit(unwrap(e), depth + 1);
      return;
    }
    if (n.type !== 'string' || n.namedChildren.some((x) => x.type === 'interpolation')) return;
    const v = stringValue(n);
    if (v === null || !isHardcodedSecret(nameStrength(name) === 'strong' ? name : one, v)) return;
    if (!/^(?=[^\s./]*\d)(?=[^\s./]*[A-Za-z])(?=[^\s./]*(?:[^A-Za-z0-9\s]|[a-z][^\s./]*[A-Z]|[A-Z][^\s./]*[a-z]))[^\s./]{8,}$/.test(v)) return;
    report(ctx, n, name, v);
  };
  visit(container, 0);
}
const JSON_STRING = /^[^{]{1,4}\{[ \n]*["']/;

/** Lookups whose second argument is a fallback (a placeholder there is no secret), and setters of a value. */
const LOOKUPS = /^(os\.getenv|os\.environ\.get|os\.environ\.setdefault)$|(^|\.)Variable\.(get|setdefault)$/;
const SETTERS = /^(os\.putenv)$|(^|\.)Variable\.set$/;
/** `conn.set_password("…")`, `client.settoken("…")`: snake_case and run-together setter names. */
const SETTER_NAMES: string[] = ['password', 'passwd', 'token', 'secret', 'api_key', 'apikey', 'credentials'].flatMap((w) => [`set_${w}`, `set${w}`]);
/** requests' / httpx' / aiohttp's basic, digest and proxy auth objects: `(user, password)`. */
const AUTH_CLASSES = ['HTTPBasicAuth', 'HTTPDigestAuth', 'HTTPProxyAuth', 'BasicAuth', 'DigestAuth', 'ProxyAuth'];
/** The constant string value of an argument, if it has one. */
function constString(node: SyntaxNode | undefined): string | null {
  return node ? stringValue(node) : null;
}

function onLookup(call: SyntaxNode, fn: string, ctx: RuleContext): void {
  const lookup = LOOKUPS.test(fn);
  if (!lookup && !SETTERS.test(fn)) return;
  const a = callArgs(call);
  const nameNode = a.positional[0] ?? a.keywords.get('key') ?? a.keywords.get('key_name');
  const name = constString(nameNode);
  if (!name || !STRONG_NAME_RE.test(name)) return;
  const valueNode = a.positional[1] ?? a.keywords.get('default_var') ?? a.keywords.get('default') ?? a.keywords.get('value');
  const value = constString(valueNode);
  if (!valueNode || value === null) return;
  // a lookup's fallback that says "no secret here": Variable.get("FOLIO_PASSWORD", "napassword")
  if (lookup && isPlaceholderDefault(value)) return;
  if (isHardcodedSecret(name, value)) report(ctx, valueNode, name, value);
}

export default defineRule({
  meta: {
    id: 'DG101',
    name: 'hardcoded-password',
    category: 'secret',
    severity: 'high',
    message: 'hardcoded secret in `{name}`: {value}; read it from a secrets backend or Connection instead',
    aliases: ['B105', 'B106', 'B107', 'S105', 'S106', 'S107'],
    docs: {
      what:
        'Finds string literals bound to names that say "secret": `password`, `passwd`, `pwd`, `secret`, `token`, `api_key`, `secret_key`, `client_secret`, `private_key`, `credentials`… in snake_case, camelCase, UPPER_CASE and run-together forms (`DATABASEPASSWORD`), as variables, attributes (`self.password`), subscripts (`conf["password"]`), dict keys (`{"password": …}`, also inside JSON strings such as `Connection(extra=\'{"token": …}\')`), keyword arguments (`Connection(password=…)`), parameter defaults, `==` comparisons, `requests` basic auth (`auth=("user", "…")`, `session.auth = ("user", "…")`, `HTTPBasicAuth("user", "…")`), fallbacks of `os.getenv`/`os.environ.get`/`Variable.get` and of `x or "…"` (`SECRET = os.getenv("S") or "…"`), `auth = ("user", "…")` tuples, `Variable.set` values, setters (`conn.set_password("…")`) and `k8s.V1EnvVar(name="DB_PASSWORD", value=…)`; configuration documents kept as text and parsed in the file (`yaml.safe_load("""…password: …""")`, `ConfigParser.read_string`, `toml.loads`, also through a name bound to the text). Imported aliases count (`from os import getenv as ge`, `from requests.auth import HTTPBasicAuth as Basic`). In data files shipped with the DAGs (README "Data files"): secret-named keys of `.env`, YAML, JSON, INI/TOML files and shell assignments (`DB_PASSWORD=…`, `password: …`, `{"client_secret": …}`), Kubernetes `env` entries (`name: DB_PASSWORD` with `value: …`) and compose `- POSTGRES_PASSWORD=…` items. There a local stack\'s default (`airflow`, `postgres`, `admin`, `insecure`, `minioadmin`…) is reported at *info*.\n\n' +
        'It ignores what is not a literal secret: Jinja templates (`{{ conn.db.password }}`), lookups (`Variable.get`, `os.environ`, `BaseHook.get_connection`), names of env vars, fields or Kubernetes Secrets (`password_env="DB_PASSWORD"`, `token_key="access_token"`, `Secret(secret="k8s-secret-name")`), paths, secret-manager references, empty and placeholder values (`""`, `"***"`, `"<password>"`, `"${DB_PASSWORD}"`, `"%(password)s"`, `"changeme"`, `"napassword"`), lookup fallbacks that say there is no secret (`Variable.get("DB_PASSWORD", "napassword")`, `os.getenv("API_TOKEN", "test")`: a fallback containing the secret word itself, or `n/a`, `none`, `test`, `dev`, `dummy`, `xxx`…), bare words under token, secret and key names (`{"tokens": "address"}` names a column; under a password name any word is reported), and pagination cursors such as `next_token`. Values of a known vendor format are reported by DG103 and URI credentials by DG102 instead.',
      why:
        'Airflow parses every file in the DAG folder, and the DAG repository is read by everyone with access to git, CI logs, the scheduler image and the web UI\'s code view. A password in a DAG file is a password for all of them, survives in git history after it is removed, and cannot be rotated without a code change.',
      example:
        '```python\nfrom airflow.models import Connection\n\nDB_PASSWORD = "S3cr3t!pass"\nconn = Connection(conn_id="warehouse", conn_type="postgres", login="etl", password="hunter2-prod")\nheaders = {"api_key": "k-8f3a9c1d22"}\n```',
      useInstead:
        '```python\nfrom airflow.hooks.base import BaseHook\nfrom airflow.models import Variable\n\nconn = BaseHook.get_connection("warehouse")          # stored in a secrets backend\napi_key = Variable.get("partner_api_key")             # inside the task, not at parse time\nbash_command = "psql -c \'select 1\'"                   # with env={"PGPASSWORD": "{{ conn.warehouse.password }}"}\n```',
    },
  },
  // Lookups with a fallback and setters (`Variable.get("db_password", "…")`, `os.environ.setdefault`, `Variable.set`),
  // setter methods on any object, basic-auth objects and Kubernetes env vars, whatever their import path.
  calls: ['os.getenv', 'os.environ.get', 'os.environ.setdefault', 'os.putenv', '**.Variable.get', '**.Variable.setdefault', '**.Variable.set',
    ...SETTER_NAMES.map((n) => `**.${n}`), ...AUTH_CLASSES.map((n) => `**.${n}`), '**.V1EnvVar', ...Object.keys(EMBEDDED_DOCUMENT)],
  onCall(call, fn, ctx) {
    const i = fn.lastIndexOf('.');
    const last = i < 0 ? fn : fn.slice(i + 1);
    const embedded = EMBEDDED_DOCUMENT[fn] ?? (fn.endsWith('.read_string') ? 'ini' : undefined);
    if (embedded) {
      onEmbeddedDocument(call, embedded, ctx);
      return;
    }
    if (LOOKUPS.test(fn) || SETTERS.test(fn)) {
      onLookup(call, fn, ctx);
      return;
    }
    const a = callArgs(call);
    if (SETTER_NAMES.includes(last)) {
      // conn.set_password("..."), client.set_token("...")
      if (i < 0 || a.positional.length !== 1 || a.keywords.size) return;
      const value = constString(a.positional[0]);
      const name = last.replace(/^set_?/, '');
      if (value !== null && isHardcodedSecret(name, value)) report(ctx, a.positional[0], name, value);
      return;
    }
    if (AUTH_CLASSES.includes(last)) {
      // HTTPBasicAuth("user", "password")
      const pw = a.positional[1];
      const value = constString(pw);
      if (pw && value !== null && isHardcodedSecret('password', value)) report(ctx, pw, 'auth password', value);
      return;
    }
    if (last === 'V1EnvVar') {
      // k8s.V1EnvVar(name="DB_PASSWORD", value="...")
      const name = constString(a.keywords.get('name') ?? a.positional[0]);
      const valueNode = a.keywords.get('value') ?? a.positional[1];
      const value = constString(valueNode);
      if (name && valueNode && value !== null && isHardcodedSecret(name, value)) report(ctx, valueNode, name, value);
    }
  },
  // Bindings of a secret-ish name to a string literal, JSON documents in strings (`extra='{"token": …}'`), and
  // requests' `auth=("user", "password")`: every one holds a strong name (it ends a word with one of the
  // STRONG_NAME_WORDS) or the name `auth`.
  query: SECRET_BINDING_QUERY(),
  keywords: [...STRONG_NAME_WORDS, 'auth'],
  keywordMatch: 'name-word-end',
  onMatch(c, ctx) {
    if (c.authpw) {
      // requests' auth=("user", "password"), session.auth = ("user", "password")
      const value = stringValue(c.authpw[0]);
      if (value !== null && isHardcodedSecret('password', value)) report(ctx, c.authpw[0], 'auth password', value);
      return;
    }
    if (c.container) {
      onContainer(c.clhs[0], c.container[0], ctx);
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
    // `SECRET = os.getenv("APP_SECRET") or "…"`: a fallback, a placeholder when it says so (as for lookups)
    if (c.fallback && isPlaceholderDefault(b.value)) return;
    if (isHardcodedSecret(b.name, b.value)) report(ctx, b.valueNode, b.name, b.value);
  },
  // .env, YAML, JSON, INI, TOML and shell assignments: `DB_PASSWORD=…`, `password: …`, `{"token": "…"}`,
  // Kubernetes env entries (`name: DB_PASSWORD` / `value: …`)
  onDataFile(ctx) {
    for (const p of ctx.use(DATA_PAIRS)) {
      if (!isHardcodedSecret(p.key, p.value)) continue;
      // `POSTGRES_PASSWORD: airflow` in a compose file: a local stack's default, shown at info
      ctx.reportRange(p.start, p.end, { name: p.key, value: redact(p.value) }, {
        key: secretKey(`DG101:${p.key.toLowerCase()}`, p.value),
        ...(isDevDefault(p.value) ? { severity: 'info' as const } : {}),
      });
    }
  },
});
