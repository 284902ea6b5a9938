/**
 * The constant values an expression may take, as far as the file shows them: through names, lookups in constant dicts
 * and lists, `.get(key, default)`, the arguments a function of the file is called with, and loops over constant
 * collections. What settings tables and DAG factories hide behind a key —
 * `session.verify = cfg["verify_tls"]` with `_session(VENDOR)` and `VENDOR = {"verify_tls": False}`,
 * `yaml.load(t, Loader=LOADERS[SETTINGS["loader"]])`, `image=f"{REPO}:{cfg['tag']}"` in a factory looped over
 * `TENANTS.items()`. A rule asks whether *some* value is the dangerous one.
 */
import type { SyntaxNode } from 'tree-sitter';
import { defineService, type RuleContext } from '../engine/context';
import { callArgs, stringValue, unwrap } from '../engine/python';
import { resolveName } from './provenance';

/** Bounds: a crafted file must stay cheap (each answer is at most MAX_VALUES nodes, MAX_DEPTH hops deep). */
const MAX_VALUES = 32;
const MAX_DEPTH = 8;

const LEAVES = new Set(['string', 'concatenated_string', 'integer', 'float', 'true', 'false', 'none', 'dictionary', 'list', 'tuple']);

/**
 * The constant expressions `node` may evaluate to — literals, constant containers (to look into), and names or
 * attributes of imported modules (`yaml.UnsafeLoader`) — or null when some path leads to a value the file does not
 * show as a constant.
 */
export function possibleValues(node: SyntaxNode, ctx: RuleContext, depth = 0): SyntaxNode[] | null {
  if (depth > MAX_DEPTH) return null;
  const n = unwrap(node);
  // (an f-string is a leaf too: its template is what a caller can judge, `stringValue` of it is null)
  if (LEAVES.has(n.type)) return [n];
  if (n.type === 'attribute') {
    const head = n.text.split('.')[0];
    return ctx.imports.has(head) ? [n] : null;
  }
  if (n.type === 'conditional_expression') {
    const [a, , b] = n.namedChildren;
    return union([a && possibleValues(a, ctx, depth + 1), b && possibleValues(b, ctx, depth + 1)]);
  }
  if (n.type === 'subscript') return lookup(n.childForFieldName('value')!, n.childForFieldName('subscript'), null, ctx, depth);
  if (n.type === 'call') {
    // `CFG.get("key", default)`
    const f = n.childForFieldName('function');
    if (f?.type !== 'attribute' || f.childForFieldName('attribute')?.text !== 'get') return null;
    const a = callArgs(n);
    return lookup(f.childForFieldName('object')!, a.positional[0] ?? null, a.positional[1] ?? null, ctx, depth);
  }
  if (n.type !== 'identifier') return null;
  if (ctx.imports.has(n.text)) return [n];
  const defs = resolveName(n);
  if (defs.length) return union(defs.map((d) => possibleValues(d, ctx, depth + 1)));
  return fromLoop(n, ctx, depth) ?? fromCallSites(n, ctx, depth);
}

/** The strings among an expression's possible values (null when some value is not a constant string). */
export function possibleStrings(node: SyntaxNode, ctx: RuleContext): { text: string; node: SyntaxNode }[] | null {
  const vs = possibleValues(node, ctx);
  if (!vs) return null;
  const out: { text: string; node: SyntaxNode }[] = [];
  for (const v of vs) {
    const s = stringValue(v);
    if (s === null) return null;
    out.push({ text: s, node: v });
  }
  return out;
}

function union(parts: (SyntaxNode[] | null | undefined)[]): SyntaxNode[] | null {
  const out: SyntaxNode[] = [];
  for (const p of parts) {
    if (!p) return null;
    for (const x of p) if (!out.some((y) => y.id === x.id)) out.push(x);
    if (out.length > MAX_VALUES) return null;
  }
  return out;
}

/** `container[key]` (or `.get(key, fallback)`): the values under every possible key of every possible container. */
function lookup(container: SyntaxNode, key: SyntaxNode | null, fallback: SyntaxNode | null, ctx: RuleContext, depth: number): SyntaxNode[] | null {
  if (!key) return null;
  const containers = possibleValues(container, ctx, depth + 1);
  const keys = possibleValues(key, ctx, depth + 1);
  if (!containers || !keys) return null;
  const parts: (SyntaxNode[] | null)[] = [];
  for (const c of containers) {
    for (const k of keys) {
      if (c.type === 'dictionary') {
        const want = stringValue(k) ?? k.text;
        const pair = c.namedChildren.find((p) => p.type === 'pair' && (stringValue(p.childForFieldName('key')) ?? p.childForFieldName('key')?.text) === want);
        const v = pair?.childForFieldName('value');
        if (v) parts.push(possibleValues(v, ctx, depth + 1));
        else if (fallback) parts.push(possibleValues(fallback, ctx, depth + 1));
        else if (c.namedChildren.some((p) => p.type === 'dictionary_splat')) return null;
      } else if ((c.type === 'list' || c.type === 'tuple') && k.type === 'integer') {
        const items = c.namedChildren.filter((x) => x.type !== 'comment');
        const i = Number(k.text);
        const v = items[i < 0 ? items.length + i : i];
        if (!v) return null;
        parts.push(possibleValues(v, ctx, depth + 1));
      } else return null;
    }
  }
  return union(parts);
}

/** A name bound by a `for` over a constant collection: `for name, cfg in TENANTS.items():`, `for t in TABLES:`. */
function fromLoop(id: SyntaxNode, ctx: RuleContext, depth: number): SyntaxNode[] | null {
  for (let p = id.parent; p; p = p.parent) {
    if (p.type === 'function_definition' || p.type === 'class_definition') return null;
    if (p.type !== 'for_statement') continue;
    const left = p.childForFieldName('left');
    const right = p.childForFieldName('right');
    if (!left || !right) continue;
    const targets = left.type === 'identifier' ? [left] : left.namedChildren;
    const index = targets.findIndex((t) => t.type === 'identifier' && t.text === id.text);
    if (index < 0) continue;
    const r = unwrap(right);
    const f = r.type === 'call' ? r.childForFieldName('function') : null;
    const method = f?.type === 'attribute' ? f.childForFieldName('attribute')?.text : null;
    const coll = possibleValues(method ? f!.childForFieldName('object')! : r, ctx, depth + 1);
    if (!coll) return null;
    const parts: (SyntaxNode[] | null)[] = [];
    for (const c of coll) {
      if (c.type === 'dictionary') {
        const pairs = c.namedChildren.filter((x) => x.type === 'pair');
        const pick = (x: SyntaxNode): SyntaxNode | null =>
          method === 'items' ? (left.type === 'identifier' ? null : x.childForFieldName(index === 0 ? 'key' : 'value')) : method === 'values' ? x.childForFieldName('value') : x.childForFieldName('key');
        for (const x of pairs) {
          const v = pick(x);
          parts.push(v ? possibleValues(v, ctx, depth + 1) : null);
        }
      } else if ((c.type === 'list' || c.type === 'tuple') && !method && left.type === 'identifier') {
        for (const x of c.namedChildren) if (x.type !== 'comment') parts.push(possibleValues(x, ctx, depth + 1));
      } else return null;
    }
    return union(parts);
  }
  return null;
}

/** The file's calls of plain names, by name: collected once (a crafted file cannot make each parameter walk the tree). */
const CALLS_BY_NAME = defineService('airflow: calls by callee name', (ctx) => {
  const out = new Map<string, SyntaxNode[]>();
  for (const c of ctx.root.descendantsOfType('call')) {
    const f = c.childForFieldName('function');
    if (f?.type !== 'identifier') continue;
    const list = out.get(f.text);
    if (list) list.push(c);
    else out.set(f.text, [c]);
  }
  return out;
});

/** A parameter of a function of this file: the arguments of its calls in the file (none shown: not constant). */
function fromCallSites(id: SyntaxNode, ctx: RuleContext, depth: number): SyntaxNode[] | null {
  let def: SyntaxNode | null = id.parent;
  while (def && def.type !== 'function_definition') def = def.parent;
  const name = def?.childForFieldName('name')?.text;
  const params = def?.childForFieldName('parameters')?.namedChildren ?? [];
  const index = params.findIndex((p) => (p.type === 'identifier' ? p.text : p.childForFieldName('name')?.text ?? p.namedChildren[0]?.text) === id.text);
  if (!def || !name || index < 0 || params[0]?.text === 'self') return null;
  const calls = (ctx.use(CALLS_BY_NAME).get(name) ?? []).filter((c) => !(c.startIndex >= def!.startIndex && c.endIndex <= def!.endIndex));
  if (!calls.length) return null;
  const parts: (SyntaxNode[] | null)[] = [];
  for (const c of calls) {
    const a = callArgs(c);
    const arg = a.keywords.get(id.text) ?? a.positional[index];
    const dflt = params[index].childForFieldName('value');
    parts.push(arg ? possibleValues(arg, ctx, depth + 1) : dflt ? possibleValues(dflt, ctx, depth + 1) : null);
  }
  return union(parts);
}
