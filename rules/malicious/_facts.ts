/**
 * What calls do in a DAG file (network, process, file write, exec, descriptor juggling, logging) and the per-file
 * facts built from them (the FACTS service). GuardDog's "capability + threat in the same file" idea (its rules are
 * Apache-2.0; nothing copied, the lists are ours).
 */
import type { SyntaxNode } from 'tree-sitter';
import { defineService, type RuleContext } from '../../src/engine/context';
import { callArgs, stringValue, unwrap, type CallArgs } from '../../src/engine/python';
import { CLIENT_CONSTRUCTORS, networkCallsOn } from './_clients';
import { calledFunction, returnedValues, singleBinding } from '../../src/airflow/provenance';


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
  // log handlers that ship every record they get to a remote host: installed at parse time, on Airflow's loggers,
  // they send the dag-processor's and tasks' logs out
  // asyncio HTTP clients: a session made in a coroutine run at parse time (`asyncio.run(fetch())`)
  'aiohttp.request',
  'aiohttp.ClientSession',
  'logging.handlers.HTTPHandler',
  'logging.handlers.SocketHandler',
  'logging.handlers.DatagramHandler',
  'logging.handlers.SMTPHandler',
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
const CONNECTABLE = new Set(['socket.socket', 'socket.create_connection', 'http.client.HTTPSConnection', 'http.client.HTTPConnection', 'paramiko.SSHClient', 'paramiko.client.SSHClient', 'urllib3.PoolManager']);
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
export const EXEC = new Set([
  'exec', 'eval', 'compile', 'builtins.exec', 'builtins.eval', 'builtins.compile',
  // code run from a file: `runpy.run_path(path)`, a loader built on a path
  'runpy.run_path', 'imp.load_source', 'importlib.machinery.SourceFileLoader', 'importlib.util.spec_from_file_location',
]);

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


/** Session constructors, whose objects' `.get(…)`/`.post(…)` are network calls. */
const SESSION_CTORS = ['requests.Session', 'requests.sessions.Session', 'requests.session', 'httpx.Client', 'httpx.AsyncClient'];
/** Calls the facts need by qualified name: the tables above, `open`, socket and session constructors. */
/**
 * Calls that run a function handed to them later (at exit, on collection, in a thread): given a process, network or
 * exec callee itself (`atexit.register(subprocess.Popen, [...])`), the call has that callee's kinds.
 */
const DEFERRED_RUNNERS = new Set(['atexit.register', 'weakref.finalize', 'threading.Thread', 'threading.Timer', 'signal.signal']);

/**
 * The function a starter runs later (DG613's starters, and DEFERRED_RUNNERS here): `atexit.register(f)`,
 * `signal.signal(sig, f)`, `weakref.finalize(obj, f)`, `threading.Timer(5, f)`, `os.register_at_fork(after_in_child=f)`,
 * `sys.settrace(f)`, `threading.Thread(target=f)` / `multiprocessing.Process(target=f)`.
 */
export function deferredTarget(fn: string, args: CallArgs): SyntaxNode | undefined {
  if (fn === 'os.register_at_fork') return args.keywords.get('after_in_child') ?? args.keywords.get('before') ?? args.keywords.get('after_in_parent');
  if (fn === 'signal.signal' || fn === 'weakref.finalize') return args.positional[1] ?? args.keywords.get('handler') ?? args.keywords.get('func');
  if (fn === 'threading.Timer') return args.positional[1] ?? args.keywords.get('function');
  if (fn.startsWith('sys.') || fn === 'threading.settrace' || fn === 'atexit.register') return args.positional[0];
  return args.keywords.get('target') ?? args.positional[1];
}
const DIRECT_CALLS: readonly string[] = [
  ...new Set([...NETWORK, ...DOWNLOAD, ...SPAWN, ...EXEC, ...FILE_MUTATION, ...CONNECTABLE, ...SESSION_CTORS, ...DEFERRED_RUNNERS.keys(), 'builtins.open', 'io.open', 'os.open', 'os.dup2', 'socket.fromfd']),
].map((q) => (q.includes('.') ? q : `builtins.${q}`));
/**
 * Calls that matter only through their receiver — `s.connect(…)` on a socket, `sess.get(…)` on a session,
 * `p.write_text(…)` on a path, `x.chmod(…)` in a file that downloads — and path constructors, by last name (any
 * receiver). Looked for only when the file has such a receiver: a socket/session constructor or a download among
 * the direct calls, or a path word (see `needsMethodCalls`).
 */
const METHOD_CALLS: readonly string[] = [...new Set([...CONNECT_METHODS, ...HTTP_VERBS, ...PATHLIB_WRITES, 'chmod', 'open', 'Path', 'PurePath', 'PosixPath'])].map((n) => `**.${n}`);
/** The C library's functions that run a command, called through ctypes. */
const NATIVE_EXEC = new Set(['system', 'popen', 'execv', 'execve', 'execvp', 'execl', 'execlp', 'posix_spawn']);
const NATIVE_CALLS: readonly string[] = [...NATIVE_EXEC].map((n) => `**.${n}`);
/** Words without which no receiver in the file is a native library. */
const NATIVE_WORDS = ['CDLL', 'cdll', 'LoadLibrary', 'PyDLL', 'find_library'];

/** A ctypes library object: `ctypes.CDLL(…)`, `ctypes.cdll.LoadLibrary(…)`, `ctypes.cdll.libc`, a name bound to one, a helper returning one. */
export function isNativeLibrary(obj: SyntaxNode, ctx: RuleContext, depth = 0): boolean {
  const o = unwrap(obj);
  if (depth > 3) return false;
  if (o.type === 'call') {
    const fn = ctx.callee(o) ?? '';
    if (/^ctypes\.(?:CDLL|PyDLL|cdll\.LoadLibrary|pydll\.LoadLibrary|util\.find_library)$/.test(fn)) return true;
    const def = calledFunction(o);
    return !!def && returnedValues(def).some((r) => isNativeLibrary(r, ctx, depth + 1));
  }
  if (o.type === 'attribute') return /^ctypes\.cdll\.\w+$/.test(ctx.qualifiedName(o) ?? '');
  if (o.type === 'identifier') {
    const b = singleBinding(o);
    return !!b && isNativeLibrary(b, ctx, depth + 1);
  }
  return false;
}

/** Words without which no receiver in the file is a path (PATH_CTOR, PATH_DERIVED). */
const PATH_WORDS = ['Path', 'PurePath', 'PosixPath', 'pathlib', 'with_name', 'with_suffix', 'joinpath', 'resolve', 'absolute'];

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
/** Kinds of one call (a download is also a network call). `fn` is the resolved callee, or null. */
export function kindsOf(call: SyntaxNode, ctx: RuleContext, fn = ctx.callee(call), facts: Facts = factsOf(ctx)): Set<Kind> {
  const out = new Set<Kind>();
  if (fn !== null && !fn.includes('.') && !KNOWN_BARE.has(fn)) return out; // local function or unimported name
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
    if (DEFERRED_RUNNERS.has(fn)) {
      const target = deferredTarget(fn, callArgs(call));
      const q = target ? ctx.qualifiedName(target) : null;
      if (q) {
        if (NETWORK.has(q)) out.add('network');
        if (SPAWN.has(q)) out.add('spawn');
        if (EXEC.has(q) || EXEC.has(q.replace(/^builtins\./, ''))) out.add('exec');
      }
    }
  }
  // Method calls on objects we track: only look at the node when the method name could matter.
  const method = fn ? fn.slice(fn.lastIndexOf('.') + 1) : null;
  // `ctypes.CDLL(None).system(b"…")`, `_libc().system(cmd)`: the C library's own process functions
  if (method !== null && NATIVE_EXEC.has(method)) {
    const f = call.childForFieldName('function');
    if (f?.type === 'attribute' && isNativeLibrary(f.childForFieldName('object')!, ctx)) out.add('spawn');
    return out;
  }
  if (method !== null && !CONNECT_METHODS.has(method) && !HTTP_VERBS.includes(method) && !PATHLIB_WRITES.has(method) && method !== 'open') return out;
  // `conf.get(…)`, `name.replace(…)`: a receiver that is a plain name, and not one bound to a socket, session or
  // path, needs no look at the tree (these method names are among the most common calls in DAG files).
  // A dotted receiver (`self.client.get(…)`) is an attribute: never a tracked socket or session, and a path only
  // through `.parent` (`HERE.parent.write_text(…)`).
  if (fn !== null && method !== null) {
    const receiver = fn.slice(0, fn.length - method.length - 1);
    if (/^[A-Za-z_]\w*$/.test(receiver)) {
      const pathMethod = PATHLIB_WRITES.has(method) || method === 'open';
      const obj = pathMethod ? call.childForFieldName('function')?.childForFieldName('object') : null;
      if (!facts.connectables.has(receiver) && !facts.paths.has(receiver) && !(obj && isPathlike(obj, ctx, facts))) return out;
    } else if (DOTTED_NAME.test(receiver) && !((PATHLIB_WRITES.has(method) || method === 'open') && receiver.endsWith('.parent'))) return out;
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
    if (PATHLIB_WRITES.has(m) && isPathlike(obj, ctx, facts)) out.add('write');
    // `Path.home().joinpath(".ssh", "authorized_keys").open("a")`: a path opened for writing
    if (m === 'open' && isPathlike(obj, ctx, facts)) {
      const a = callArgs(call);
      const mode = a.positional[0] ?? a.keywords.get('mode');
      const v = mode ? stringValue(mode) : 'r';
      if (v === null || /[wax+]/.test(v)) out.add('write');
    }
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
function isPathlike(obj: SyntaxNode, ctx: RuleContext, facts: Facts, depth = 0): boolean {
  const o = unwrap(obj);
  if (depth > 4) return false;
  if (o.type === 'call') {
    const fn = ctx.callee(o) ?? '';
    if (PATH_CTOR.test(fn) || PATH_DERIVED.test(o.childForFieldName('function')?.text ?? '')) return true;
    // `_site_packages() / "x.pth"` with `def _site_packages(): return Path(…)`: a helper of the file returning a path
    const def = calledFunction(o);
    return !!def && returnedValues(def).some((r) => isPathlike(r, ctx, facts, depth + 1));
  }
  if (o.type === 'binary_operator') return isPathlike(o.childForFieldName('left')!, ctx, facts, depth + 1);
  if (o.type === 'identifier') {
    if (facts.paths.has(o.text)) return true;
    // `_auth = _ssh_dir / "authorized_keys"`: a name bound once to a path expression
    const bound = singleBinding(o);
    return !!bound && isPathlike(bound, ctx, facts, depth + 1);
  }
  if (o.type === 'attribute') return /\.parent$/.test(o.text) && isPathlike(o.childForFieldName('object')!, ctx, facts, depth + 1);
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Per-file facts: an engine service, computed once per file from the file's own calls

/** How a fact's callee is named in a message: its qualified name, else as written; `builtins.` dropped. */
export function shownCallee(fact: CallFact): string {
  return (fact.fn ?? fact.call.childForFieldName('function')!.text).replace(/^builtins\./, '');
}

/** What one call does. `parseTime` is computed on first use (walking up the tree is the costly part). */
export class CallFact {
  private pt: boolean | undefined;
  constructor(
    readonly call: SyntaxNode,
    readonly fn: string | null,
    readonly kinds: Set<Kind>,
    private readonly ctx: RuleContext,
    /** A method call on a hook or cloud SDK client (`glue.get_tables(…)`, see _clients.ts), not a call of its own kind. */
    readonly client = false,
  ) {}
  get parseTime(): boolean {
    if (this.pt === undefined) this.pt = this.ctx.isParseTime(this.call);
    return this.pt;
  }
}

export interface Facts {
  /** Every call that does something (a kind), in document order. */
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
  /** Recorded facts (`calls`) by node id. */
  byId: Map<number, CallFact>;
}


/**
 * What the file's calls do (network, process, write, exec…), and the names bound to sockets, sessions, paths and
 * downloads: the capabilities DG6xx rules rank their findings by (GuardDog's "capability + threat in the same file").
 * Classified in document order, so a name is known as a socket before `s.connect(…)` is classified.
 */
export const FACTS = defineService<Facts>('malicious: call facts', (ctx) => {
  const facts: Facts = {
    calls: [],
    connectables: new Map(),
    paths: new Set(),
    downloaded: new Map(),
    downloadPaths: new Set(),
    socket: false,
    byId: new Map(),
  };
  let calls = ctx.findCalls(DIRECT_CALLS);
  if (ctx.exhaustive || NATIVE_WORDS.some((w) => ctx.hasToken(w))) calls = [...calls, ...ctx.findCalls(NATIVE_CALLS)];
  if (needsMethodCalls(calls, ctx)) {
    calls = [...calls, ...ctx.findCalls(METHOD_CALLS)];
    // document order (an enclosing call first): a name is bound to a socket before `s.connect(…)` is classified
    calls.sort(documentOrder);
  }
  for (const { call, fn } of calls) record(call, fn, ctx, facts);
  // what is called on hooks and cloud SDK clients reaches the network too: a function that lists Glue tables is as
  // outbound as one calling requests (DG613 follows functions run at parse time by what their bodies reach)
  let clientCalls = 0;
  for (const { call, fn } of ctx.findCalls(CLIENT_CONSTRUCTORS)) {
    for (const c of networkCallsOn(call, fn, ctx)) {
      if (facts.byId.has(c.call.id)) continue;
      const fact = new CallFact(c.call, c.fn, new Set<Kind>(['network']), ctx, true);
      facts.byId.set(c.call.id, fact);
      facts.calls.push(fact);
      clientCalls++;
    }
  }
  if (clientCalls) facts.calls.sort(documentOrder);
  return facts;
});

/** Document order, an enclosing call before the calls inside it. */
function documentOrder(a: { call: SyntaxNode }, b: { call: SyntaxNode }): number {
  return a.call.startIndex - b.call.startIndex || b.call.endIndex - a.call.endIndex;
}

/** Can a receiver of this file give a method call a kind? (Else method calls such as `config.get(…)` are not looked at.) */
function needsMethodCalls(direct: { fn: string }[], ctx: RuleContext): boolean {
  if (ctx.exhaustive) return true;
  if (PATH_WORDS.some((w) => ctx.hasToken(w))) return true;
  return direct.some((c) => CONNECTABLE.has(c.fn) || SESSION_CTOR.test(c.fn) || SOCKET_CTORS.has(c.fn) || DOWNLOAD.has(c.fn));
}

export function factsOf(ctx: RuleContext): Facts {
  return ctx.use(FACTS);
}

function record(call: SyntaxNode, fn: string | null, ctx: RuleContext, facts: Facts): void {
  if (facts.byId.has(call.id)) return;
  const kinds = kindsOf(call, ctx, fn, facts);
  if (fn && SOCKET_CTORS.has(fn)) facts.socket = true;
  if (fn && (CONNECTABLE.has(fn) || SESSION_CTOR.test(fn))) {
    const bound = boundName(call);
    if (bound) facts.connectables.set(bound, fn);
  }
  if (fn && PATH_CTOR.test(fn)) {
    const p = boundName(call, true);
    if (p) facts.paths.add(p);
  }
  if (!kinds.size && !(fn && fn.endsWith('.chmod'))) return;
  const fact = new CallFact(call, fn, kinds, ctx);
  facts.byId.set(call.id, fact);
  facts.calls.push(fact);
  if (kinds.has('download')) {
    const d = boundName(call, true);
    if (d) facts.downloaded.set(d, call);
    const args = callArgs(call);
    const dest = stringValue(args.positional[1] ?? args.keywords.get('filename') ?? args.keywords.get('out'));
    if (dest) facts.downloadPaths.add(dest);
  }
}

/**
 * What any call of the file does (also one the facts did not record: a `print(…)` around `os.environ`, a lookup):
 * the recorded fact, or a fresh classification against the file's complete facts. Records nothing.
 */
export function classify(call: SyntaxNode, ctx: RuleContext): CallFact {
  const facts = factsOf(ctx);
  const known = facts.byId.get(call.id);
  if (known) return known;
  const fn = ctx.callee(call);
  return new CallFact(call, fn, kindsOf(call, ctx, fn, facts), ctx);
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

