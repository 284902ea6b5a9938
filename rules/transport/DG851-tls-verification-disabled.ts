import type { RuleContext } from '../../src/engine/context';
import type { SyntaxNode } from 'tree-sitter';
import { stringValue, unwrap } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';
import { possibleValues } from '../../src/airflow/constants';

/** Keyword arguments and dict keys that turn certificate checks off when set to False. */
const VERIFY_SETTINGS = new Set(['verify', 'verify_ssl', 'ssl', 'validate_certs', 'check_hostname', 'ssl_verify', 'verify_certs']);

function isFalse(v: SyntaxNode, ctx?: RuleContext): boolean {
  const n = unwrap(v);
  if (n.type === 'false') return true;
  const s = n.type === 'string' ? stringValue(n) : null;
  if (s !== null) return /^(false|0|no)$/i.test(s);
  // `session.verify = cfg["verify_tls"]` with `_session(VENDOR)` and `VENDOR = {"verify_tls": False}`: some value false
  if (!ctx || !/^(identifier|subscript|call|conditional_expression)$/.test(n.type)) return false;
  return possibleValues(n, ctx)?.some((x) => isFalse(x)) ?? false;
}

export default defineRule({
  meta: {
    id: 'DG851',
    name: 'tls-verification-disabled',
    category: 'insecure-transport',
    severity: 'medium',
    message: 'TLS {what} ({how}): credentials and data sent over this connection can be read and changed by anyone on the path',
    aliases: ['B501', 'S501', 'B323', 'S323'],
    docs: {
      what:
        'Finds code that turns off TLS certificate checks: `verify=False` (requests, httpx, boto3 clients, Airflow hooks), `ssl=False` / `verify_ssl=False` (aiohttp), `validate_certs=False`, `session.verify = False` (also a value taken from a settings dict, `session.verify = cfg["verify_tls"]` with `"verify_tls": False` in the dict the helper is called with), `{"verify": False}` in dicts such as `HttpOperator(extra_options=…)` or `HttpHook.run(extra_options=…)`, `ssl._create_unverified_context()`, and `context.check_hostname = False` / `context.verify_mode = ssl.CERT_NONE`. `"ssl": False` in a connection dict (TLS off altogether) is reported too. `urllib3.disable_warnings()` alone is not reported (it only hides the warning; the `verify=False` it goes with is).',
      why:
        'DAG tasks send credentials (API tokens, basic auth, connection passwords) and business data. Without certificate verification a man in the middle — a compromised proxy, a hostile pod on the node network, DNS spoofing — sees and can change all of it, and the task reports success. "The certificate is self-signed" has a fix that keeps the check: trust that certificate.',
      example: '```python\nrequests.post("https://api.partner.example/v1/upload", json=rows, auth=auth, verify=False)\nHttpOperator(task_id="push", http_conn_id="partner", endpoint="v1/upload", extra_options={"verify": False})\n```',
      useInstead: '```python\nrequests.post(url, json=rows, auth=auth, verify="/etc/ssl/certs/partner-ca.pem")  # the CA that signed it\n# or REQUESTS_CA_BUNDLE / the connection\'s extra {"verify": "/path/to/ca.pem"}\n```',
    },
  },
  query: `[
  (keyword_argument name: (identifier) @k value: (_) @v)
  (pair key: (string) @k value: (_) @v)
  (assignment left: (attribute attribute: (identifier) @k) right: (_) @v)
  (call function: (attribute attribute: (identifier) @fn (#eq? @fn "_create_unverified_context")))
] @m`,
  keywords: ['verify', 'ssl', 'validate_certs', 'check_hostname', '_create_unverified_context', 'verify_mode'],
  onMatch(c, ctx) {
    const m = c.m[0];
    if (c.fn) {
      if (ctx.qualifiedName(m.childForFieldName('function'))?.startsWith('ssl.')) ctx.report(m, { what: 'certificate verification disabled', how: '`ssl._create_unverified_context()`' });
      return;
    }
    const k = c.k?.[0];
    const v = c.v?.[0];
    if (!k || !v) return;
    const key = k.type === 'string' ? stringValue(k) : k.text;
    if (!key) return;
    if (m.type === 'assignment') {
      if (key === 'verify_mode' && /\bCERT_NONE$/.test(unwrap(v).text)) ctx.report(m, { what: 'certificate verification disabled', how: '`verify_mode = ssl.CERT_NONE`' });
      else if ((key === 'verify' || key === 'check_hostname') && isFalse(v, ctx)) ctx.report(m, { what: 'certificate verification disabled', how: `\`.${key} = False\`` });
      return;
    }
    if (!VERIFY_SETTINGS.has(key) || !isFalse(v, ctx)) return;
    // ssl=False is aiohttp's switch; elsewhere `ssl` may mean "use TLS at all" (smtplib-style flags are not checks)
    if (key === 'ssl' && m.type === 'keyword_argument' && !/aiohttp|session|\.(get|post|put|patch|delete|request|ws_connect)\s*\(/i.test(m.parent?.parent?.text.slice(0, 200) ?? '')) return;
    // a connection dict's `"ssl": False` turns TLS off altogether (a plaintext database connection)
    const what = key === 'ssl' && m.type === 'pair' ? 'turned off' : 'certificate verification disabled';
    ctx.report(m, { what, how: m.type === 'pair' ? `\`"${key}": False\`` : `\`${key}=False\`` });
  },
});
