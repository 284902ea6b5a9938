import { callArgs, stringValue, unwrap } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';

const ACCEPT_ANY = /(?:^|\.)(AutoAddPolicy|WarningPolicy)$/;

export default defineRule({
  meta: {
    id: 'DG852',
    name: 'ssh-host-key-not-verified',
    category: 'insecure-transport',
    severity: 'medium',
    message: 'SSH host key not verified ({how}): the first host to answer for that name gets the login',
    aliases: ['B507', 'S507'],
    docs: {
      what:
        'Finds SSH connections that accept any host key: paramiko\'s `set_missing_host_key_policy(AutoAddPolicy())` or `WarningPolicy()` (called or passed as the class), and Airflow SSH connections configured with `"no_host_key_check": true` — in `Connection(extra=…)` dicts and JSON strings, and in `SSHHook`/`SFTPHook` keyword arguments; and in connection files shipped with the DAGs (YAML, JSON, `.env`: `no_host_key_check: true`). `RejectPolicy` and a `host_key` in the connection are fine.',
      why:
        'Host key verification is what proves the server is the one you meant. Without it, anyone who can answer for the host name — DNS, ARP or a hostile pod on the path — receives the password or key-based login the task presents, and every command and file the task sends. The Airflow SSH connection checks the host key when `host_key` is set and `no_host_key_check` is false.',
      example: '```python\nclient = paramiko.SSHClient()\nclient.set_missing_host_key_policy(paramiko.AutoAddPolicy())\n\nConnection(conn_id="sftp_partner", conn_type="sftp", extra={"no_host_key_check": True})\n```',
      useInstead: '```python\nclient.load_system_host_keys()              # or load_host_keys(known_hosts_file)\nclient.set_missing_host_key_policy(paramiko.RejectPolicy())\n\nConnection(conn_id="sftp_partner", conn_type="sftp", extra={"host_key": "AAAAC3NzaC1lZDI1NTE5AAAA…", "no_host_key_check": False})\n```',
    },
  },
  calls: ['**.set_missing_host_key_policy'],
  onCall(call, _fn, ctx) {
    const arg = callArgs(call).positional[0] ?? callArgs(call).keywords.get('policy');
    if (!arg) return;
    const a = unwrap(arg);
    const target = a.type === 'call' ? a.childForFieldName('function') : a;
    const q = ctx.qualifiedName(target) ?? target?.text ?? '';
    if (ACCEPT_ANY.test(q)) ctx.report(call, { how: `\`${q.split('.').pop()}\` accepts any host key` });
  },
  query: `[
  (keyword_argument name: (identifier) @k value: (_) @v)
  (pair key: (string) @k value: (_) @v)
  (string) @json
] @m`,
  keywords: ['no_host_key_check'],
  // connection files shipped with the DAGs (YAML/JSON/`.env` read by a secrets backend or `airflow connections import`)
  onDataFile(ctx) {
    // booleans are no strings to a YAML or JSON parser: the text is read
    for (const m of ctx.file.text.matchAll(/["']?no_host_key_check["']?[ \t]*[:=][ \t]*["']?true\b/gi)) {
      ctx.reportRange(m.index!, m.index! + m[0].length, { how: `\`no_host_key_check: true\` in the connection file \`${ctx.file.path.split('/').pop()}\`` });
    }
  },
  onMatch(c, ctx) {
    const m = c.m[0];
    if (c.json) {
      if (m.parent?.type === 'pair' && m.parent.childForFieldName('key')?.id === m.id) return;
      const s = stringValue(m);
      if (s && /"no_host_key_check"\s*:\s*(?:true|"true")/i.test(s)) ctx.report(m, { how: '`"no_host_key_check": true` in a connection extra' });
      return;
    }
    const k = c.k?.[0];
    const v = c.v?.[0];
    const key = k ? (k.type === 'string' ? stringValue(k) : k.text) : null;
    if (key !== 'no_host_key_check' || !v) return;
    const n = unwrap(v);
    if (n.type === 'true' || (n.type === 'string' && /^true$/i.test(stringValue(n) ?? ''))) ctx.report(m, { how: '`no_host_key_check` set to true' });
  },
});
