import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { callArgs, stringValue, unwrap } from '../../src/engine/python';
import { redact } from '../../src/engine/redact';
import { defineRule } from '../../src/engine/rule';
import { singleBinding } from '../../src/airflow/provenance';
import { constantText } from '../../src/airflow/strings';
import { laterUsesOfBinding } from '../../src/engine/locate';
import { nameStrength } from './_names';
import { isNotASecretValue } from './_values';
import { secretKey } from './_bindings';

/**
 * Client constructors and logins that take the password by position: qualified callee -> 0-based index of the
 * password argument (keyword forms are DG101's: `password=` is a secret-named keyword).
 */
const POSITIONAL: ReadonlyMap<string, number> = new Map([
  ['pymssql.connect', 2],
  ['pymysql.connect', 2],
  ['MySQLdb.connect', 2],
  ['ftplib.FTP', 2],
  ['ftplib.FTP_TLS', 2],
  ['cx_Oracle.connect', 1],
  ['oracledb.connect', 1],
  ['ldap3.Connection', 2],
  ['paramiko.SSHClient.connect', 3],
  ['impala.dbapi.connect', 4],
  // methods on any client: smtplib.SMTP(…).login(user, pw), FTP.login, IMAP4.login, Session.login
  ['**.login', 1],
  ['pika.PlainCredentials', 1],
  // Azure service principal: ClientSecretCredential(tenant_id, client_id, client_secret)
  ['azure.identity.ClientSecretCredential', 2],
  ['azure.identity.aio.ClientSecretCredential', 2],
  ['pika.credentials.PlainCredentials', 1],
  ['smb.SMBConnection.SMBConnection', 1],
  ['**.simple_bind_s', 1],
  ['**.simple_bind', 1],
  ['**.bind_s', 1],
  // redis.Redis(host, port, db, password)
  ['redis.Redis', 3],
  ['redis.StrictRedis', 3],
  ['redis.client.Redis', 3],
  ['redis.client.StrictRedis', 3],
  // boto3.Session(aws_access_key_id, aws_secret_access_key, …); boto3.client(service, region, api_version,
  // use_ssl, verify, endpoint_url, aws_access_key_id, aws_secret_access_key, …)
  ['boto3.Session', 1],
  ['boto3.session.Session', 1],
  ['boto3.client', 7],
  ['boto3.resource', 7],
  ['minio.Minio', 2],
  ['hvac.Client', 1],
  ['pysftp.Connection', 3],
  ['pg8000.connect', 4],
  ['clickhouse_driver.Client', 4],
  ['hdbcli.dbapi.connect', 3],
  ['ibm_db.connect', 2],
  ['smbclient.register_session', 2],
  ['exchangelib.Credentials', 1],
  ['requests_ntlm.HttpNtlmAuth', 1],
  ['cassandra.auth.PlainTextAuthProvider', 1],
  ['tableauserverclient.TableauAuth', 1],
  ['trino.auth.BasicAuthentication', 1],
  ['prestodb.auth.BasicAuthentication', 1],
  // sqlalchemy URL.create(drivername, username, password, host, …)
  ['sqlalchemy.URL.create', 2],
  ['sqlalchemy.engine.URL.create', 2],
  ['sqlalchemy.engine.url.URL.create', 2],
]);

/**
 * The index of the password argument of a qualified callee (POSITIONAL; `**.x` patterns: any receiver), or
 * undefined. A `.connect` on a receiver the file does not type counts as paramiko's only when it looks like SSH.
 */
function passwordIndex(fn: string): number | undefined {
  if (POSITIONAL.has(fn)) return POSITIONAL.get(fn);
  for (const [k, i] of POSITIONAL) if (k.startsWith('**.') && fn.endsWith(k.slice(2))) return i;
  return fn.endsWith('.connect') && /paramiko|ssh/i.test(fn) ? POSITIONAL.get('paramiko.SSHClient.connect') : undefined;
}
/**
 * Signing and encryption keys taken by position (or by the keyword after the `:`): whoever reads the key forges
 * tokens (`jwt.encode(claims, "k", …)` HS256), MACs (`hmac.new(b"k", …)`) or decrypts (`Fernet(b"…")`).
 */
const KEY_ARGUMENT: ReadonlyMap<string, [number, string]> = new Map([
  ['jwt.encode', [1, 'key']],
  ['jwt.decode', [1, 'key']],
  ['hmac.new', [0, 'key']],
  ['hmac.digest', [0, 'key']],
  ['cryptography.fernet.Fernet', [0, 'key']],
  ['Crypto.Cipher.AES.new', [0, 'key']],
  ['Cryptodome.Cipher.AES.new', [0, 'key']],
  ['itsdangerous.URLSafeTimedSerializer', [0, 'secret_key']],
  ['itsdangerous.URLSafeSerializer', [0, 'secret_key']],
]);
const ORACLE_CONNECT = new Set(['oracledb.connect', 'cx_Oracle.connect', 'oracledb.create_pool', 'cx_Oracle.SessionPool']);

/** Command-line flags whose next argv element is a credential (`["--password", "…"]`, KPO `arguments`, `cmds`). */
const SECRET_FLAG = /^-{1,2}(?!no-)(?:[a-z0-9]+-){0,3}(?:password|passwd|pass|pwd|token|access-token|auth-token|api-key|apikey|secret|client-secret|secret-key|private-key)$/i;
/** `--token=…` in one element or one string. */
const SECRET_FLAG_VALUE = /(?:^|\s)-{1,2}(?!no-)((?:[a-z0-9]+-){0,3}(?:password|passwd|pwd|token|access-token|auth-token|api-key|apikey|client-secret|secret-key))=(['"]?)([^\s'"]+)\2/i;

/**
 * Decoders a secret-named value may be hidden behind (`password=bytes.fromhex("…").decode()`): how to reverse the
 * literal, and the wording. Encoding is not hiding: anyone reverses it the same way.
 */
const DECODERS: ReadonlyMap<string, { label: string; decode: (v: string, encoding: string | null) => string | null }> = new Map([
  ['base64.b64decode', { label: 'base64-encoded', decode: (v: string) => decoded(v) }],
  ['base64.standard_b64decode', { label: 'base64-encoded', decode: (v: string) => decoded(v) }],
  ['base64.urlsafe_b64decode', { label: 'base64-encoded', decode: (v: string) => decoded(v) }],
  ['bytes.fromhex', { label: 'hex-encoded', decode: fromHex }],
  ['builtins.bytes.fromhex', { label: 'hex-encoded', decode: fromHex }],
  ['bytearray.fromhex', { label: 'hex-encoded', decode: fromHex }],
  ['binascii.unhexlify', { label: 'hex-encoded', decode: fromHex }],
  ['binascii.a2b_hex', { label: 'hex-encoded', decode: fromHex }],
  ['binascii.a2b_base64', { label: 'base64-encoded', decode: (v: string) => decoded(v) }],
  [
    'codecs.decode',
    {
      label: 'encoded with `codecs`',
      decode: (v: string, enc: string | null) => {
        const e = (enc ?? '').toLowerCase().replace(/[-_]/g, '');
        if (e === 'rot13') return printable(rot13(v));
        if (e === 'hex') return fromHex(v);
        if (e === 'base64') return decoded(v);
        return null;
      },
    },
  ],
]);

export default defineRule({
  meta: {
    id: 'DG105',
    name: 'credential-by-context',
    category: 'secret',
    severity: 'high',
    message: 'hardcoded credential {how}: {value}; read it from a connection or secrets backend instead',
    aliases: ['B106', 'S106'],
    docs: {
      what:
        'Finds credentials that no secret-named variable announces, recognised by where they are used: the password passed by position to a client constructor or login (`pymssql.connect(host, user, "pw", db)`, `pymysql`/`MySQLdb`/`oracledb`/`cx_Oracle`/`ldap3`, `ftplib.FTP(host, user, "pw")`, `smtp.login(user, "pw")`, `ssh.connect(host, 22, user, "pw")`, `pika.PlainCredentials(user, "pw")`, `ldap.simple_bind_s(dn, "pw")` on any connection object, `redis.Redis(host, port, db, "pw")`, `boto3.Session(key_id, "secret")`, `minio.Minio`, `hvac.Client(url, "token")`, `pysftp.Connection`, Trino/Presto `BasicAuthentication(user, "pw")`, `sqlalchemy.URL.create(driver, user, "pw", …)`, Cassandra, Tableau, NTLM and exchangelib credentials, `jaydebeapi.connect(driver, url, [user, "pw"])`, Oracle\'s `oracledb.connect("user/pw@dsn")`); an argv list or command string with a secret flag followed by a literal (`["--password", "…"]` in KubernetesPodOperator `arguments`/`cmds`, `subprocess.run([...])`, `--token=…`); `base64.b64encode(b"user:password")` (encoding is not hiding); an `Authorization`/`X-API-Key` header whose credential is a constant held in a name (`{"Authorization": f"Bearer {TOKEN}"}` with `TOKEN = "…"`); a literal signing or encryption key (`jwt.encode(claims, "k", algorithm="HS256")`, `jwt.decode`, `hmac.new(b"k", …)`, `Fernet(b"…")`, `AES.new(b"…", …)`, itsdangerous serializers); and secret-named values hidden behind a call — `password=base64.b64decode("…")`, `params={"db_password": Param("…")}` (shown in the trigger form); constants bound to a name that does not announce them and then used where a credential goes: `_AUTH = base64.b64decode("…").decode()` … `connect(password=_AUTH)`, `pymysql.connect(host, user, DBX, db)` with `DBX = "…"`; credentials spread from a constant tuple (`ftp.login(*CREDS)`); a password joined from constant pieces (`"".join(_PW_PARTS)`), also returned by a helper of the file and unpacked (`user, pw = _credentials()`); a decoded `user:password` pair whatever name holds it; and, in a file that base64-decodes a value not written at the call (`b64decode(entry["blob"])` in a helper), its base64 literals that decode to a password-like value (8–64 characters mixing three character classes; not `host:port`, URLs, paths, e-mail addresses or dates).',
      why:
        'The same password as in DG101, only without the name that would give it away: review and name-based scanners (bandit, ruff `S`) miss it, and it lives in git history, CI logs and the DAG code view all the same. Base64 is an encoding anyone reverses; a `Param` default is displayed to everyone who can trigger the DAG.',
      example:
        '```python\nconn = pymssql.connect("db.internal", "etl", "S3cr3t!pw", "dwh")\nKubernetesPodOperator(task_id="load", arguments=["--password", "S3cr3t!pw"], ...)\nauth = base64.b64encode(b"etl:S3cr3t!pw")\n```',
      useInstead:
        '```python\nc = BaseHook.get_connection("dwh")\nconn = pymssql.connect(c.host, c.login, c.password, c.schema)\nKubernetesPodOperator(task_id="load", env_vars=[k8s.V1EnvVar(name="DB_PASSWORD", value_from=...)], ...)\n```',
    },
  },
  // `ssh.connect(host, port, user, "pw")` on a client bound earlier: any receiver, judged by its name below
  calls: [...POSITIONAL.keys(), ...KEY_ARGUMENT.keys(), ...ORACLE_CONNECT, 'jaydebeapi.connect', '**.connect', 'base64.b64encode', 'base64.standard_b64encode', 'base64.urlsafe_b64encode', ...DECODERS.keys(), 'airflow.**.Param'],
  onCall(call, fn, ctx) {
    const args = callArgs(call);
    if (fn.startsWith('base64.') && fn.endsWith('encode')) {
      // base64.b64encode(b"user:password"), b64encode("user:password".encode()), b64encode(bytes("…", "utf-8")):
      // the Basic-auth recipe
      const v = literal(encodedText(args.positional[0]));
      const m = v ? USER_PASSWORD.exec(v) : null;
      if (m && !isNotASecretValue(m[2], 'password')) report(ctx, encodedText(args.positional[0])!, 'encoded with base64 (`user:password`)', m[2]);
      return;
    }
    const decoder = DECODERS.get(fn);
    if (decoder || fn.endsWith('.Param')) {
      // password=base64.b64decode("…"), password=bytes.fromhex("…").decode(), "db_password": Param("…"): the
      // secret-named binding DG101 cannot see
      let name = bindingName(call);
      const v = literal(fn.endsWith('.Param') ? (args.keywords.get('default') ?? args.positional[0]) : args.positional[0]);
      // `_AUTH = b64decode("…").decode()` … `connect(password=_AUTH)`: a name that does not announce the secret,
      // used where a credential goes
      if (decoder && v !== null && (!name || nameStrength(name) !== 'strong')) name = credentialUse(decodedValue(call), ctx) ?? name;
      // a decoder of a value that is not written at the call (`b64decode(entry["blob"])` in a helper): the file's
      // base64 literals are looked at once the calls are seen (onFile)
      if (decoder && v === null && decoder.label === 'base64-encoded') fileState(ctx).decodesData = true;
      if (decoder && v !== null) {
        // judged here: its content's offset (after a `b`/`r` prefix and the quote), which onFile skips
        const lit = unwrap(args.positional[0]);
        fileState(ctx).judged.add(lit.startIndex + lit.text.search(/["']/) + 1);
      }
      if (decoder && v !== null && (!name || nameStrength(name) !== 'strong')) {
        // `b64decode("c3ZjOlBhc3M=")` whatever it is bound to: a decoded `user:password` is the Basic-auth pair
        const pair = USER_PASSWORD.exec(decoder.decode(v, literal(args.positional[1] ?? args.keywords.get('encoding'))) ?? '');
        if (pair && !isNotASecretValue(pair[2], 'password')) report(ctx, call, `${decoder.label} (\`user:password\`)`, pair[2]);
        return;
      }
      if (!name || v === null || nameStrength(name) !== 'strong') return;
      const value = decoder ? decoder.decode(v, literal(args.positional[1] ?? args.keywords.get('encoding'))) : v;
      if (value !== null && !isNotASecretValue(value, name)) {
        report(ctx, call, decoder ? `in \`${name}\`, ${decoder.label}` : `as the default of Param \`${name}\``, value);
      }
      return;
    }
    const keyArg = KEY_ARGUMENT.get(fn);
    if (keyArg) {
      const node = args.positional[keyArg[0]] ?? args.keywords.get(keyArg[1]);
      const v = literal(node);
      // a PEM block is DG103's when private, and no secret when public (jwt.decode with an RS256 public key)
      if (node && v !== null && v.length >= 8 && !v.includes('-----BEGIN') && !isNotASecretValue(v, 'secret_key')) report(ctx, node, `as the signing or encryption key of \`${fn.split('.').slice(-2).join('.')}\``, v);
      return;
    }
    if (fn === 'jaydebeapi.connect') {
      // jaydebeapi.connect(driver, url, ["user", "password"], jars)
      const da = args.positional[2] ?? args.keywords.get('driver_args');
      const l = da ? unwrap(da) : null;
      const pw = l && l.type === 'list' ? l.namedChildren.filter((x) => x.type !== 'comment')[1] : undefined;
      const v = literal(pw);
      if (pw && v !== null && !isNotASecretValue(v, 'password')) report(ctx, pw, `passed as the password in the driver arguments of \`${fn}\``, v);
      return;
    }
    if (ORACLE_CONNECT.has(fn)) {
      // oracledb.connect("scott/tiger@db:1521/orcl"): Oracle's user/password@dsn connect string
      const v = literal(args.positional[0] ?? args.keywords.get('dsn'));
      const m = v ? /^([A-Za-z][\w$#]{0,29})\/([^@\s/]+)@\S+$/.exec(v) : null;
      if (m && !isNotASecretValue(m[2], 'password')) {
        report(ctx, (args.positional[0] ?? args.keywords.get('dsn'))!, `in the Oracle connect string of \`${fn}\` (\`user/password@dsn\`)`, m[2]);
        return;
      }
    }
    const index = passwordIndex(fn);
    if (index === undefined) return;
    const node = (args.hasSplat ? spreadPositional(call) : args.positional)[index];
    const c = node ? constantThroughName(node, ctx) : null;
    if (node && c && !isNotASecretValue(c.value, 'password')) report(ctx, node, `passed as the password argument of \`${fn.split('.').slice(-2).join('.')}\`${c.how}`, c.value);
  },
  // base64 literals of a file that decodes base64 from data (see onCall): one that decodes to a password-like value is a
  // credential kept encoded "so that it does not show up in plain text" — encoding is not hiding
  onFile(ctx) {
    const state = fileState(ctx);
    if (!state.decodesData) return;
    for (const m of ctx.file.text.matchAll(/(["'])([A-Za-z0-9+/]{12,200}={0,2})\1/g)) {
      if (m[2].length % 4 !== 0) continue;
      const value = decoded(m[2]);
      const start = m.index! + 1;
      if (!value || state.judged.has(start) || state.reported.has(value) || !PASSWORD_LIKE.test(value) || NOT_A_PASSWORD.test(value) || isNotASecretValue(value, 'password')) continue;
      ctx.reportRange(start, start + m[2].length, { how: 'kept base64-encoded in a file that decodes it', value: redact(value) }, { key: secretKey('DG105', value) });
    }
  },
  // argv lists: ["--password", "…"] anywhere (KPO arguments/cmds, subprocess, DockerOperator command lists)
  // … and authorization headers whose credential is a constant held in a name: `{"Authorization": f"Bearer {TOKEN}"}`
  query: `(list (string) @s) @list
(pair key: (string) @hk value: [(string) (binary_operator) (identifier)] @hv)`,
  // every flag SECRET_FLAG / SECRET_FLAG_VALUE accept follows a dash (`--password`, `--api-key`, `-apikey`); the
  // header patterns hold their header name
  keywords: ['-pass', '-pwd', '-token', '-key', '-secret', '-apikey', 'authorization', 'api-key', 'auth-token'],
  onMatch(c, ctx) {
    if (c.hv) {
      const key = stringValue(c.hk[0]);
      if (key === null || !AUTH_HEADER_KEY.test(key)) return;
      const folded = headerValue(c.hv[0]);
      const m = folded ? /^(?:(Bearer|Token|Basic|Api-Key|ApiKey)\s+)?(\S{8,})$/i.exec(folded.text) : null;
      if (!folded || !m || !folded.filled.includes(m[2]) || isNotASecretValue(m[2], 'token')) return;
      report(ctx, c.hv[0], `in the \`${key}\` header${m[1] ? ` (\`${m[1]} …\`)` : ''}, from a constant`, m[2]);
      return;
    }
    const s = c.s[0];
    const text = stringValue(s);
    if (text === null) return;
    if (SECRET_FLAG.test(text.trim())) {
      let next = s.nextNamedSibling;
      while (next && next.type === 'comment') next = next.nextNamedSibling;
      const v = next && next.type === 'string' ? stringValue(next) : null;
      if (next && v !== null && !v.startsWith('-') && !isNotASecretValue(v, 'password')) report(ctx, next, `after \`${text.trim()}\` in a command line`, v);
      return;
    }
    const m = SECRET_FLAG_VALUE.exec(text);
    if (m && !isNotASecretValue(m[3], 'password')) report(ctx, s, `in \`--${m[1]}=\` on a command line`, m[3]);
  },
});

/**
 * The positional arguments with `*CREDS` spread out when it is a tuple or list written in place or bound once to a
 * name (`ftp.login(*_FTP_CRED)` with `_FTP_CRED = ("user", "pw")`); the list stops at a splat it cannot spread.
 */
function spreadPositional(call: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (const a of call.childForFieldName('arguments')?.namedChildren ?? []) {
    if (a.type === 'keyword_argument' || a.type === 'dictionary_splat' || a.type === 'comment') continue;
    if (a.type !== 'list_splat') {
      out.push(a);
      continue;
    }
    let seq = a.namedChildren[0] ? unwrap(a.namedChildren[0]) : null;
    if (seq?.type === 'identifier') seq = singleBinding(seq);
    seq = seq ? unwrap(seq) : null;
    if (!seq || (seq.type !== 'tuple' && seq.type !== 'list')) break;
    out.push(...seq.namedChildren.filter((x) => x.type !== 'comment'));
  }
  return out;
}

/**
 * What a password looks like once decoded: 8–64 characters without blanks, mixing at least three of lower case, upper
 * case, digits and symbols (not a word, a path, JSON or a sentence).
 */
const PASSWORD_LIKE = /^(?=\S{8,64}$)(?:(?=.*[a-z])(?=.*[A-Z])(?=.*\d)|(?=.*[a-z])(?=.*[A-Z])(?=.*[^A-Za-z\d])|(?=.*[a-z])(?=.*\d)(?=.*[^A-Za-z\d])|(?=.*[A-Z])(?=.*\d)(?=.*[^A-Za-z\d])).*$/;

/** Decoded values shaped like something else: `host:port`, a URL, a path, an e-mail address, a date. */
const NOT_A_PASSWORD = /^[\w.-]+:\d+$|:\/\/|^[/~]|^[\w.+-]+@[\w-]+\.[\w.]+$|^\d{4}-\d{2}-\d{2}/;

/** A `user:password` pair as Basic auth encodes it (not `host:port`, not `s3://…`: the password part is no number or path). */
const USER_PASSWORD = /^([\w.@+-]{1,64}):(?!\d+$)(?!\/)(\S{1,200})$/;

/** Request headers that carry a credential. */
const AUTH_HEADER_KEY = /^(proxy-)?authorization$|^x-(api-key|auth-token|access-token)$|^api-?key$/i;

/**
 * The text of a header value built from a literal prefix and names bound to literals (`f"Bearer {TOKEN}"`,
 * `"Bearer " + TOKEN`), with the text that came from those names (`filled`); null when a part is not constant or
 * nothing came from a name (a literal written in place is DG102's).
 */
function headerValue(node: SyntaxNode): { text: string; filled: string } | null {
  let text = '';
  let filled = '';
  const bound = (e: SyntaxNode): string | null => {
    const u = unwrap(e);
    const d = u.type === 'identifier' ? singleBinding(u) : null;
    return d?.type === 'string' && !d.namedChildren.some((x) => x.type === 'interpolation') ? stringValue(d) : null;
  };
  const add = (n: SyntaxNode): boolean => {
    const u = unwrap(n);
    if (u.type === 'binary_operator' && u.childForFieldName('operator')?.type === '+') return add(u.childForFieldName('left')!) && add(u.childForFieldName('right')!);
    if (u.type === 'identifier') {
      const v = bound(u);
      if (v === null) return false;
      text += v;
      filled += v;
      return true;
    }
    if (u.type !== 'string') return false;
    for (const ch of u.namedChildren) {
      if (ch.type === 'string_content') text += ch.text;
      else if (ch.type === 'interpolation') {
        const e = ch.namedChildren.find((x) => x.type !== 'type_conversion' && x.type !== 'format_specifier');
        const v = e ? bound(e) : null;
        if (v === null) return false;
        text += v;
        filled += v;
      }
    }
    return true;
  };
  return add(node) && filled ? { text, filled } : null;
}

function report(ctx: RuleContext, node: SyntaxNode, how: string, value: string): void {
  fileState(ctx).reported.add(value);
  ctx.report(node, { how, value: redact(value) }, { key: secretKey('DG105', value) });
}

/** Per file: does it decode base64 that is not written at the call; the values already reported and the literals decoded in place (their offsets), which onFile leaves alone. */
function fileState(ctx: RuleContext): { decodesData: boolean; reported: Set<string>; judged: Set<number> } {
  return ctx.ruleState(() => ({ decodesData: false, reported: new Set<string>(), judged: new Set<number>() }));
}

/** The constant text of a string or bytes literal. */
function literal(node: SyntaxNode | undefined): string | null {
  if (!node) return null;
  const v = stringValue(unwrap(node));
  return v === null || v.length > 500 ? null : v;
}

/** The text of `"…".encode(…)` and `bytes("…", …)` (else the node itself). */
function encodedText(node: SyntaxNode | undefined): SyntaxNode | undefined {
  const n = node ? unwrap(node) : undefined;
  if (n?.type !== 'call') return node;
  const f = n.childForFieldName('function');
  if (f?.type === 'attribute' && f.childForFieldName('attribute')?.text === 'encode') return f.childForFieldName('object') ?? node;
  if (f?.type === 'identifier' && f.text === 'bytes') return callArgs(n).positional[0] ?? node;
  return node;
}

/** Printable text, or null. */
function printable(s: string): string | null {
  return /^[\x20-\x7e]{3,}$/.test(s) ? s : null;
}

/** base64 text decoded, when it decodes to printable text. */
function decoded(v: string): string | null {
  if (!/^[A-Za-z0-9+/=_-]{4,}$/.test(v)) return null;
  return printable(Buffer.from(v, 'base64').toString('utf8'));
}

function fromHex(v: string): string | null {
  const h = v.replace(/\s+/g, '');
  return /^(?:[0-9a-fA-F]{2}){3,}$/.test(h) ? printable(Buffer.from(h, 'hex').toString('utf8')) : null;
}

function rot13(v: string): string {
  return v.replace(/[a-zA-Z]/g, (c) => {
    const b = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - b + 13) % 26) + b);
  });
}


/** A decoder call with the `.decode()`/`.strip()`/`.rstrip()` calls chained on it: the value a name is bound to. */
function decodedValue(call: SyntaxNode): SyntaxNode {
  let at = call;
  while (at.parent?.type === 'attribute' && at.parent.parent?.type === 'call' && /^(decode|strip|rstrip)$/.test(at.parent.childForFieldName('attribute')?.text ?? '')) {
    at = at.parent.parent;
  }
  return at;
}

/**
 * Where the name `value` is bound to (`name = value`) is later used as a credential: the secret-named keyword it is
 * passed as (`password=name`, any call), or `password` when it is the positional password of a client (POSITIONAL).
 */
function credentialUse(value: SyntaxNode, ctx: RuleContext): string | null {
  for (const use of laterUsesOfBinding(value, ctx.file.text, ctx.root)) {
    const p = use.parent;
    if (p?.type === 'keyword_argument' && p.childForFieldName('value')?.id === use.id) {
      const k = p.childForFieldName('name')?.text;
      if (k && nameStrength(k) === 'strong') return k;
    }
    const call = p?.type === 'argument_list' ? p.parent : null;
    if (call?.type !== 'call') continue;
    const fn = ctx.callee(call);
    const index = fn ? passwordIndex(fn) : undefined;
    if (index !== undefined && callArgs(call).positional[index]?.id === use.id) return 'password';
  }
  return null;
}

/**
 * The constant a credential argument holds: a literal in place, or a name bound once before it to a literal. (A name
 * bound to a decoded literal is reported at the decoder: see credentialUse.) `how` says which, for the message.
 */
function constantThroughName(node: SyntaxNode, ctx: RuleContext): { value: string; how: string } | null {
  const direct = literal(node);
  if (direct !== null) return { value: direct, how: '' };
  const u = unwrap(node);
  const joined = u.type === 'call' ? capped(constantText(u)) : null;
  if (joined !== null) return { value: joined, how: ' (joined from pieces)' };
  if (u.type !== 'identifier') return null;
  const def = singleBinding(u);
  // a secret-named name bound to a literal is DG101's, reported where it is bound
  if (def && literal(def) !== null && nameStrength(u.text) === 'strong') return null;
  const text = capped(constantText(u));
  return text === null ? null : { value: text, how: ` (through \`${u.text}\`)` };
}

/** A value longer than a credential is something else (a document, a script): as `literal` caps it. */
function capped(v: string | null): string | null {
  return v === null || v.length > 500 ? null : v;
}

/** The name a call's value is bound to: `x = call`, `x=call` (keyword), `"x": call` (dict pair). */
function bindingName(call: SyntaxNode): string | null {
  // through `.decode()` / `.decode("utf-8")` / `.strip()` chained on the call: password=b64decode("…").decode()
  const p = decodedValue(call).parent;
  if (!p) return null;
  if (p.type === 'keyword_argument') return p.childForFieldName('name')?.text ?? null;
  if (p.type === 'pair') return stringValue(p.childForFieldName('key')) ?? null;
  if (p.type === 'assignment') {
    const left = p.childForFieldName('left');
    return left && (left.type === 'identifier' || left.type === 'attribute') ? left.text.split('.').pop()! : null;
  }
  return null;
}
