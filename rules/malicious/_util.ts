/**
 * Shared knowledge of the malicious family (DG6xx): what a call *does* (network, process, file write, …) and a
 * per-file record of those capabilities, so that rules can rank a finding by what else the file does — GuardDog's
 * "capability + threat in the same file" idea (its rules are Apache-2.0; nothing copied, the lists are ours).
 *
 * Every DG6xx rule that needs the per-file facts subscribes to FACT_CALL_NAMES and calls `observe()` on each call:
 * the first rule to see a call classifies it (memoised per node object), so the facts are complete whichever rules are
 * enabled.
 */
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { callArgs, stringValue, unwrap } from '../../src/engine/python';

// ---------------------------------------------------------------------------------------------------------------
// What calls do

const HTTP_VERBS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'request', 'stream'];

/** URL fetchers: network calls (NETWORK) that also fetch content (DOWNLOAD). */
const URL_FETCHERS = [
  'urllib.request.urlopen',
  'urllib.request.urlretrieve',
  'urllib.urlopen',
  'urllib.urlretrieve',
  'urllib2.urlopen',
  'six.moves.urllib.request.urlopen',
  'six.moves.urllib.request.urlretrieve',
  'urllib3.request',
  'wget.download',
];

/** Calls that talk to the network. */
export const NETWORK = new Set<string>([
  ...HTTP_VERBS.map((v) => `requests.${v}`),
  ...HTTP_VERBS.map((v) => `requests.api.${v}`),
  ...HTTP_VERBS.map((v) => `httpx.${v}`),
  ...URL_FETCHERS,
  'http.client.HTTPConnection',
  'http.client.HTTPSConnection',
  'httplib.HTTPConnection',
  'httplib.HTTPSConnection',
  'socket.create_connection',
  'socket.gethostbyname',
  'socket.gethostbyname_ex',
  'socket.getaddrinfo',
  'dns.resolver.resolve',
  'dns.resolver.query',
  'smtplib.SMTP',
  'smtplib.SMTP_SSL',
  'ftplib.FTP',
  'ftplib.FTP_TLS',
  'telnetlib.Telnet',
  'paramiko.Transport',
  'xmlrpc.client.ServerProxy',
  'ssl.get_server_certificate',
  'aiohttp.request',
]);

/** Network calls that fetch content (the first half of download-and-execute). */
export const DOWNLOAD = new Set<string>([
  'requests.get',
  'requests.api.get',
  'requests.request',
  'httpx.get',
  'httpx.request',
  ...URL_FETCHERS,
]);

/** Constructors whose instances connect with `.connect(...)` etc. */
const CONNECTABLE = new Set(['socket.socket', 'paramiko.SSHClient', 'paramiko.client.SSHClient', 'urllib3.PoolManager']);
const CONNECT_METHODS = new Set(['connect', 'connect_ex', 'sendto', 'sendall', 'send', 'request', 'urlopen']);

const OS_EXEC = ['execl', 'execle', 'execlp', 'execlpe', 'execv', 'execve', 'execvp', 'execvpe'];
const OS_SPAWN = ['spawnl', 'spawnle', 'spawnlp', 'spawnlpe', 'spawnv', 'spawnve', 'spawnvp', 'spawnvpe'];

/** Calls that start a process (or fork this one). */
export const SPAWN = new Set<string>([
  ...['run', 'call', 'check_call', 'check_output', 'Popen', 'getoutput', 'getstatusoutput'].map((f) => `subprocess.${f}`),
  ...['system', 'popen', 'fork', 'forkpty', 'posix_spawn', 'posix_spawnp', 'startfile'].map((f) => `os.${f}`),
  ...OS_EXEC.map((f) => `os.${f}`),
  ...OS_SPAWN.map((f) => `os.${f}`),
  'pty.spawn',
  'pty.fork',
  'commands.getoutput',
  'commands.getstatusoutput',
  'popen2.popen2',
  'multiprocessing.Process',
  'multiprocessing.Pool',
  'multiprocessing.pool.Pool',
  'concurrent.futures.ProcessPoolExecutor',
  'asyncio.create_subprocess_exec',
  'asyncio.create_subprocess_shell',
]);

/** Calls that run Python code. */
export const EXEC = new Set(['exec', 'eval', 'compile', 'builtins.exec', 'builtins.eval', 'builtins.compile']);

/** Calls that modify or delete files. `open` and pathlib writes are judged by `writeKind`. */
export const FILE_MUTATION = new Set<string>([
  ...['copy', 'copy2', 'copyfile', 'copytree', 'move', 'rmtree', 'copyfileobj'].map((f) => `shutil.${f}`),
  ...['remove', 'unlink', 'rename', 'renames', 'replace', 'chmod', 'chown', 'lchown', 'rmdir', 'removedirs', 'truncate', 'symlink', 'link'].map(
    (f) => `os.${f}`,
  ),
]);

const PATHLIB_WRITES = new Set(['write_text', 'write_bytes', 'unlink', 'rmdir', 'rename', 'replace', 'chmod', 'touch', 'symlink_to', 'hardlink_to']);

/** Calls that print or log (an env dump written there ends up in the scheduler logs). */
const LOG_SINKS = /^(print|pprint\.pprint|logging\.\w+|log\.\w+|logger\.\w+|LOG\.\w+|sys\.stdout\.write|sys\.stderr\.write)$/;

const last = (q: string): string => q.slice(q.lastIndexOf('.') + 1);

/**
 * Last names of every call the facts depend on: the tables above, `open`, socket/session/path constructors and the
 * methods called on them. Each DG6xx rule that reads the facts subscribes to all of them (`calls: FACT_CALL_NAMES`).
 * Log sinks are not among them: DG606 classifies the calls around an `os.environ` itself.
 */
export const FACT_CALL_NAMES: readonly string[] = [
  ...new Set([
    ...[...NETWORK, ...DOWNLOAD, ...SPAWN, ...EXEC, ...FILE_MUTATION, ...CONNECTABLE].map(last),
    ...CONNECT_METHODS,
    ...HTTP_VERBS,
    ...PATHLIB_WRITES,
    'open', 'dup2', 'chmod', 'fromfd', 'Session', 'session', 'Client', 'AsyncClient', 'Path', 'PurePath', 'PosixPath',
  ]),
];

const DOTTED_NAME = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/;

/** Unqualified callees that can matter: builtins. Anything else bare is a local function. */
const KNOWN_BARE = new Set(['open', 'exec', 'eval', 'compile', 'print']);

export type Kind = 'network' | 'download' | 'spawn' | 'exec' | 'write' | 'dup2' | 'log';

/** Calls that create a socket (the file then "has a socket", DG608). */
const SOCKET_CTORS = new Set(['socket.socket', 'socket.create_connection', 'socket.fromfd']);
/** `open`s whose mode or flags decide whether they write. */
const OPENERS = new Set(['open', 'io.open', 'builtins.open', 'os.open']);
const SESSION_CTOR = /^(requests\.(sessions\.)?Session|requests\.session|httpx\.(Async)?Client)$/;
const PATH_CTOR = /(^|\.)(Path|PurePath|PosixPath)$|^pathlib\./;
/** Path methods that return a path (`p.with_suffix(".bak").write_text(…)`); see isPathlike. */
const PATH_DERIVED = /\.(with_name|with_suffix|joinpath|resolve|absolute)$/;
const PATHLIB_WRITE_CALL = /\.\s*(?:write_text|write_bytes|unlink|rmdir|rename|replace|chmod|touch|symlink_to|hardlink_to)\s*\(/;
// Seven rules ask about the same file: remember the last answer.
const pathlibWrite = { text: null as string | null, answer: false };
function hasPathlibWrite(text: string): boolean {
  if (pathlibWrite.text !== text) {
    pathlibWrite.text = text;
    pathlibWrite.answer = PATHLIB_WRITE_CALL.test(text);
  }
  return pathlibWrite.answer;
}

/**
 * Could `observe` record anything about a call of `fn`? (The rules' `mayCall`: decides, before the file is parsed,
 * that a `conf.get(…)` or `name.replace(…)` needs no look.) Mirrors `observe` and the early exits of `kindsOf`;
 * method calls on a plain name matter only when that name is bound by a constructor call, which is itself a yes.
 */
export function mayObserve(fn: string, text: string): boolean {
  if (SOCKET_CTORS.has(fn)) return true;
  if (CONNECTABLE.has(fn) || SESSION_CTOR.test(fn) || fn.endsWith('.chmod')) return true;
  // A path bound to a name matters only to a write method called on it (`p.write_text(…)`).
  if (PATH_CTOR.test(fn) && hasPathlibWrite(text)) return true;
  if (!fn.includes('.') && !KNOWN_BARE.has(fn)) return false;
  if (NETWORK.has(fn) || DOWNLOAD.has(fn) || SPAWN.has(fn) || EXEC.has(fn) || FILE_MUTATION.has(fn) || LOG_SINKS.test(fn)) return true;
  if (OPENERS.has(fn) || fn === 'os.dup2') return true;
  const method = fn.slice(fn.lastIndexOf('.') + 1);
  if (!CONNECT_METHODS.has(method) && !HTTP_VERBS.includes(method) && !PATHLIB_WRITES.has(method)) return false;
  const receiver = fn.slice(0, fn.length - method.length - 1);
  if (/^[A-Za-z_]\w*$/.test(receiver)) return false;
  // `F(…).method`, the result of a call of F (as the engine spells it): what kindsOf asks of a call receiver.
  const called = /^([\w.]+)\(…\)$/.exec(receiver);
  if (called) {
    const ctor = called[1];
    return (
      (CONNECT_METHODS.has(method) && CONNECTABLE.has(ctor)) ||
      (HTTP_VERBS.includes(method) && SESSION_CTOR.test(ctor)) ||
      (PATHLIB_WRITES.has(method) && (PATH_CTOR.test(ctor) || PATH_DERIVED.test(ctor)))
    );
  }
  return !(DOTTED_NAME.test(receiver) && !(PATHLIB_WRITES.has(method) && receiver.endsWith('.parent')));
}

/** Kinds of one call (a download is also a network call). `fn` is the resolved callee, or null. */
export function kindsOf(call: SyntaxNode, ctx: RuleContext, fn = ctx.callee(call)): Set<Kind> {
  const out = new Set<Kind>();
  if (fn !== null && !fn.includes('.') && !KNOWN_BARE.has(fn)) return out; // local function or unimported name
  const facts = factsOf(ctx);
  if (fn) {
    if (NETWORK.has(fn)) out.add('network');
    if (DOWNLOAD.has(fn)) out.add('download');
    if (SPAWN.has(fn)) out.add('spawn');
    if (EXEC.has(fn)) out.add('exec');
    if (FILE_MUTATION.has(fn) || (OPENERS.has(fn) && isWriteOpen(call, fn))) {
      out.add('write');
    }
    if (fn === 'os.dup2') out.add('dup2');
    if (LOG_SINKS.test(fn)) out.add('log');
  }
  // Method calls on objects we track: only look at the node when the method name could matter.
  const method = fn ? fn.slice(fn.lastIndexOf('.') + 1) : null;
  if (method !== null && !CONNECT_METHODS.has(method) && !HTTP_VERBS.includes(method) && !PATHLIB_WRITES.has(method)) return out;
  // `conf.get(…)`, `name.replace(…)`: a receiver that is a plain name, and not one bound to a socket, session or
  // path, needs no look at the tree (these method names are among the most common calls in DAG files).
  // A dotted receiver (`self.client.get(…)`) is an attribute: never a tracked socket or session, and a path only
  // through `.parent` (`HERE.parent.write_text(…)`).
  if (fn !== null && method !== null) {
    const receiver = fn.slice(0, fn.length - method.length - 1);
    if (/^[A-Za-z_]\w*$/.test(receiver)) {
      if (!facts.connectables.has(receiver) && !facts.paths.has(receiver)) return out;
    } else if (DOTTED_NAME.test(receiver) && !(PATHLIB_WRITES.has(method) && receiver.endsWith('.parent'))) return out;
  }
  const f = call.childForFieldName('function');
  if (f && f.type === 'attribute') {
    const m = f.childForFieldName('attribute')?.text ?? '';
    const obj = unwrap(f.childForFieldName('object')!);
    // `socket.socket().connect(...)`, `s.connect(...)` after `s = socket.socket()`
    if (CONNECT_METHODS.has(m)) {
      const ctor = obj.type === 'call' ? ctx.callee(obj) : obj.type === 'identifier' ? facts.connectables.get(obj.text) : undefined;
      if (ctor && CONNECTABLE.has(ctor)) out.add('network');
    }
    // `requests.Session().get(...)`, `sess.get(...)` after `sess = requests.Session()`
    if (HTTP_VERBS.includes(m)) {
      const ctor = obj.type === 'call' ? ctx.callee(obj) : obj.type === 'identifier' ? facts.connectables.get(obj.text) : undefined;
      if (ctor && /^(requests\.(sessions\.)?Session|requests\.session|httpx\.(Async)?Client)$/.test(ctor)) {
        out.add('network');
        if (m === 'get' || m === 'request') out.add('download');
      }
    }
    if (PATHLIB_WRITES.has(m) && isPathlike(obj, ctx)) out.add('write');
  }
  return out;
}

/** `open(path, "w")`, `open(path, mode="a+")`, `os.open(path, os.O_WRONLY | …)`. */
function isWriteOpen(call: SyntaxNode, fn: string): boolean {
  const text = call.text;
  if (!text.includes(',')) return false; // `open(path)`: no mode, no flags
  const args = callArgs(call);
  if (fn === 'os.open') {
    const flags = args.positional[1] ?? args.keywords.get('flags');
    return !!flags && /O_(WRONLY|RDWR|CREAT|APPEND|TRUNC)/.test(flags.text);
  }
  const mode = args.positional[1] ?? args.keywords.get('mode');
  if (!mode) return false;
  const m = stringValue(mode);
  if (m === null) return true; // computed mode: assume the worst
  return /[wax+]/.test(m);
}

/** Receiver that is plausibly a `pathlib.Path`: `Path(...)`, `Path(...) / "x"`, a name bound to one, `__file__`-based. */
function isPathlike(obj: SyntaxNode, ctx: RuleContext): boolean {
  const o = unwrap(obj);
  if (o.type === 'call') {
    const fn = ctx.callee(o) ?? '';
    return PATH_CTOR.test(fn) || PATH_DERIVED.test(o.childForFieldName('function')?.text ?? '');
  }
  if (o.type === 'binary_operator') return isPathlike(o.childForFieldName('left')!, ctx);
  if (o.type === 'identifier') return factsOf(ctx).paths.has(o.text);
  if (o.type === 'attribute') return /\.parent$/.test(o.text) && isPathlike(o.childForFieldName('object')!, ctx);
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Per-file facts

/** What one call does. `parseTime` is computed on first use (walking up the tree is the costly part). */
export class CallFact {
  private pt: boolean | undefined;
  constructor(
    readonly call: SyntaxNode,
    readonly fn: string | null,
    readonly kinds: Set<Kind>,
    private readonly ctx: RuleContext,
  ) {}
  get parseTime(): boolean {
    if (this.pt === undefined) this.pt = this.ctx.isParseTime(this.call);
    return this.pt;
  }
}

export interface Facts {
  calls: CallFact[];
  /** Names bound to sockets/SSH clients/sessions: name -> constructor. */
  connectables: Map<string, string>;
  /** Names bound to pathlib paths. */
  paths: Set<string>;
  /** Names bound to the result of a download call. */
  downloaded: Map<string, SyntaxNode>;
  /** Constant strings given as the destination of a download (`urlretrieve(url, "/tmp/x")`). */
  downloadPaths: Set<string>;
  /** The file creates a socket somewhere. */
  socket: boolean;
  /** The call last classified, and its fact (see `observe`). */
  lastCall: SyntaxNode | null;
  lastFact: CallFact | null;
  /** Recorded facts (`calls`) by node id. */
  byId: Map<number, CallFact>;
}

export function factsOf(ctx: RuleContext): Facts {
  let f = ctx.state.get('DG6:facts') as Facts | undefined;
  if (!f) {
    f = {
      calls: [],
      connectables: new Map(),
      paths: new Set(),
      downloaded: new Map(),
      downloadPaths: new Set(),
      socket: false,
      lastCall: null,
      lastFact: null,
      byId: new Map(),
    };
    ctx.state.set('DG6:facts', f);
  }
  return f;
}

/** Classify a call once per file and record what it tells about the file. Returns its fact. */
export function observe(call: SyntaxNode, ctx: RuleContext): CallFact {
  const facts = factsOf(ctx);
  // The engine hands each call, as one node object, to every subscribed rule in turn: a one-entry memo answers
  // all but the first of them (no C++ call, no per-node table). A call reached again later, or through another node
  // object (an enclosing call, from DG606/DG609), is classified again — cheap, and a recorded one is found by node
  // id below, so that `facts.calls` holds each call once.
  if (facts.lastCall === call) return facts.lastFact!;
  const fn = ctx.callee(call);
  const kinds = kindsOf(call, ctx, fn);
  const fact = new CallFact(call, fn, kinds, ctx);
  facts.lastCall = call;
  facts.lastFact = fact;

  if (fn && SOCKET_CTORS.has(fn)) facts.socket = true;
  if (fn && (CONNECTABLE.has(fn) || SESSION_CTOR.test(fn))) {
    const bound = boundName(call);
    if (bound) facts.connectables.set(bound, fn);
  }
  if (fn && PATH_CTOR.test(fn)) {
    const p = boundName(call, true);
    if (p) facts.paths.add(p);
  }
  if (!kinds.size && !(fn && fn.endsWith('.chmod'))) return fact;
  // Recorded calls (few) are also keyed by node id: the same call reached again through another node object.
  const id = call.id;
  const same = facts.byId.get(id);
  if (same) {
    facts.lastFact = same;
    return same;
  }
  facts.byId.set(id, fact);
  facts.calls.push(fact);
  if (kinds.has('download')) {
    const d = boundName(call, true);
    if (d) facts.downloaded.set(d, call);
    const args = callArgs(call);
    const dest = stringValue(args.positional[1] ?? args.keywords.get('filename') ?? args.keywords.get('out'));
    if (dest) facts.downloadPaths.add(dest);
  }
  return fact;
}

/**
 * `x = call(...)` / `with call(...) as x` -> `x`. With `through`, also through attribute/method chains and `/`
 * joins: `x = requests.get(u).text`, `x = urlopen(u).read()`, `x = Path(d) / "f"`.
 */
export function boundName(call: SyntaxNode, through = false): string | null {
  let node = call;
  if (through) {
    for (;;) {
      const q = node.parent;
      if (!q) break;
      const t = q.type;
      // `node` is an expression, so as a child of an attribute it is the object and of a call the function.
      if (t === 'attribute' || t === 'call' || t === 'await' || t === 'parenthesized_expression') node = q;
      else if (t === 'binary_operator' && q.startIndex === node.startIndex && q.childForFieldName('operator')?.type === '/') node = q;
      else break;
    }
  }
  const p = node.parent;
  if (!p) return null;
  if (p.type === 'assignment') {
    const left = p.childForFieldName('left');
    return left && left.type === 'identifier' && left.startIndex !== node.startIndex ? left.text : null;
  }
  if (p.type === 'as_pattern') {
    const alias = p.childForFieldName('alias');
    const id = alias?.namedChildren[0] ?? alias;
    return id && id.type === 'identifier' ? id.text : null;
  }
  return null;
}

/** Nearest enclosing call (the node itself excluded) within the same statement. */
export function enclosingCalls(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  let p = node.parent;
  while (p && p.type !== 'block' && p.type !== 'module' && !p.type.endsWith('_definition')) {
    if (p.type === 'call') out.push(p);
    p = p.parent;
  }
  return out;
}

/** Every constant string inside a call's arguments, joined by spaces (for command-shape checks). */
export function argStrings(call: SyntaxNode): string {
  const args = call.childForFieldName('arguments');
  if (!args) return '';
  const out: string[] = [];
  const visit = (n: SyntaxNode): void => {
    if (n.type === 'string' || n.type === 'concatenated_string') {
      const v = stringValue(n);
      if (v !== null) out.push(v);
      return;
    }
    for (const c of n.namedChildren) visit(c);
  };
  visit(args);
  return out.join(' ');
}

/** Shell shapes of download-and-execute: `curl … | sh`, `wget … && chmod +x …`. */
export const SHELL_DOWNLOAD_EXEC =
  /\b(curl|wget)\b[^\n|;&]*\|\s*(sudo\s+)?(ba|da|z|k)?sh\b|\b(curl|wget)\b[^\n|;&]*\|\s*(sudo\s+)?python[0-9.]*\b|\b(curl|wget)\b[\s\S]*\bchmod\s+(\+x|[0-7]?[1357][0-7]{2})\b|\b(iwr|Invoke-WebRequest|DownloadString)\b[\s\S]*\b(iex|Invoke-Expression)\b/i;

/**
 * Cheap test before SHELL_DOWNLOAD_EXEC, which no DAG file matches but every file would pay for: a word each of
 * its shapes contains. Case-sensitive (a case-insensitive alternation cannot skip ahead): `CURL`/`WGET` do not run
 * on Linux; PowerShell is case-insensitive, so its words are tested in their usual spellings.
 */
const DOWNLOAD_HINT = /[cC]url|[wW]get|[iI]wr|IWR|nvoke-|NVOKE-|ownload[Ss]tring|OWNLOADSTRING/;
export const mayDownloadExec = (text: string): boolean => DOWNLOAD_HINT.test(text);

/** Cheap test before SHELL_REVERSE: `/dev/tcp`, `mkfifo`, `socat`, `>&`, or the ` -e`/` -c` every `nc` shape needs. */
const REVERSE_HINT = /\/dev\/|mkfifo|socat|>&|\s-[ecEC]/;
export const mayReverseShell = (text: string): boolean => REVERSE_HINT.test(text);

/**
 * Shell shapes of reverse shells. `/dev/tcp/host/port` alone is not one: `</dev/tcp/db/5432` and
 * `echo > /dev/tcp/db/5432` are how Bash scripts wait for a port. It is when a shell's input or output is attached
 * to it: `>& /dev/tcp/…` (stdout and stderr), `sh < /dev/tcp/…`, `… /dev/tcp/… | sh`, `0>&1`/`0<&N` with it, or
 * `exec N<>/dev/tcp/…` whose descriptor feeds a shell (`sh <&N`, `0<&N`, a `while read` loop).
 */
const TCP = String.raw`\/dev\/(?:tcp|udp)\/`;
const SH = String.raw`(?:\/(?:usr\/)?bin\/)?\b(?:ba|z|k|da)?sh\b`;
export const SHELL_REVERSE = new RegExp(
  [
    String.raw`>&\s*${TCP}`,
    String.raw`${SH}\s+(?:-i\s+)?<\s*${TCP}`,
    String.raw`${TCP}\S+[^\n]*\|\s*${SH}`,
    String.raw`${TCP}[^\s/]+\/\d+[^\n]*\b0\s*[<>]&\s*\d`,
    String.raw`<>\s*${TCP}(?=[^\n]*(?:${SH}\s*<&|\b0<&|\bwhile\s+read\b))`,
    String.raw`\b0<&\s*\d+[^\n]*<>\s*${TCP}`,
    String.raw`\b(nc|ncat|netcat)\b[^\n]*\s-(e|c)\s`,
    String.raw`\bmkfifo\b[^\n]*\|\s*(nc|ncat|netcat)\b`,
    String.raw`\bsocat\b[^\n]*\bexec:`,
    String.raw`\bbash\s+-i\s*>&`,
    String.raw`\bsh\s+-i\s*>&`,
  ].join('|'),
  'i',
);

/** An interactive shell started as a process: the shell alone, or with `-i` (not a shell running a script). */
export const SHELL_BINARY =
  /^\s*((\/usr)?\/bin\/)?(ba|z|da|k)?sh(\s+-i)?\s*$|(^|\s)((\/usr)?\/bin\/)?(ba|z|da|k)?sh\s+-i\b|^\s*(cmd(\.exe)?|powershell(\.exe)?)\s*$/;

/**
 * Text-first matching: the string-literal node holding `index` of the file text (climbing from the leaf), or null
 * when that offset is not inside a string (a comment, code). Avoids a tree-wide `(string)` query.
 */
export function stringAt(root: SyntaxNode, index: number): SyntaxNode | null {
  let n: SyntaxNode | null = root.descendantForIndex(index, index + 1);
  while (n && n.type !== 'string') {
    if (n.type === 'module' || n.type === 'block' || n.type.endsWith('statement')) return null;
    n = n.parent;
  }
  return n;
}

/**
 * Each string literal of the file that holds a whole match of `shape` (a shell one-liner), once per literal: found in
 * the raw text (after the cheap `hint`), then located in the tree — cheaper than a query over every string.
 */
export function stringsWithShape(ctx: RuleContext, hint: (text: string) => boolean, shape: RegExp, each: (s: SyntaxNode) => void): void {
  const text = ctx.file.text;
  if (!hint(text) || !shape.test(text)) return;
  const done = new Set<number>();
  const ends: number[] = [];
  offsets(shape, text, 50, ends).forEach((i, k) => {
    const s = stringAt(ctx.root, i);
    if (!s || done.has(s.id) || ends[k] > s.endIndex) return; // the whole shape must sit in one string literal
    done.add(s.id);
    each(s);
  });
}

/** Start offsets of every match of `re` in `text`, capped; `ends` (if given) receives the end offsets. */
export function offsets(re: RegExp, text: string, cap = 50, ends?: number[]): number[] {
  const out: number[] = [];
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  for (let m = g.exec(text); m && out.length < cap; m = g.exec(text)) {
    out.push(m.index);
    ends?.push(m.index + m[0].length);
    if (m[0].length === 0) g.lastIndex++;
  }
  return out;
}

/** `if __name__ == "__main__":` at column 0 (either operand order). */
const MAIN_GUARD = /^if[ \t(]+(?:__name__[ \t]*==[ \t]*["']__main__["']|["']__main__["'][ \t]*==[ \t]*__name__)/m;
/** DAG definitions that need no `airflow` import in the same file (`from dags_common import *`). */
const DAG_USE = /\bDAG[ \t]*\(|@dag\b/;

/** Signs of a command-line script: a `#!` first line, command-line arguments (`sys.argv`, argparse). */
const SCRIPT_SIGNS = /^#!|\bsys\.argv\b|^[ \t]*(?:import[ \t]+argparse\b|from[ \t]+argparse[ \t]+import\b)/m;

/**
 * A stand-alone script that sits in a DAG repository but is not a DAG file: an `if __name__ == "__main__":` block,
 * a `#!` line or command-line arguments (`sys.argv`, argparse), and no Airflow usage (no `airflow` import, no `DAG(`,
 * no `@dag`). Airflow would still import it if it were in the DAG folder, so parse-time findings stay, at low
 * severity, worded conditionally. Text and import list only.
 */
export function isStandaloneScript(ctx: RuleContext): boolean {
  let v = ctx.state.get('DG6:standalone') as boolean | undefined;
  if (v === undefined) {
    const t = ctx.file.text;
    const script = (t.includes('__main__') && MAIN_GUARD.test(t)) || SCRIPT_SIGNS.test(t);
    v = script && !ctx.imported('airflow') && !DAG_USE.test(t);
    ctx.state.set('DG6:standalone', v);
  }
  return v;
}

export const STANDALONE_NOTE =
  ' — if this file is in the DAG folder (it looks like a stand-alone script: a `__main__` block, a `#!` line or command-line arguments, and no Airflow)';
