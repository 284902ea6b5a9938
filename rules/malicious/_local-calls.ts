/**
 * Module-level functions of the file and what their bodies do when called: the indirect routes by which a DAG file
 * runs a function body while it is imported — a plain call at module level (`_setup()`), a decorator (`@deco`,
 * `@deco(…)`), a default value (`def f(x=_helper())`). (The body of a `@dag` function is parse-time code itself: see
 * src/engine/scope.ts; calls of local functions from it are sites like module-level ones.)
 * Parse-time rules see only module-level code; this follows the call into the body (and from there into other
 * local functions, a few levels deep).
 */
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { factsOf, type CallFact } from './_facts';
import { isDagFunction, scopeStatements } from '../../src/engine/scope';

/** Every `def` line, indented ones too: a helper defined inside `with DAG(...):` is a module-level function. */
const ANY_DEF = /^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)/gm;

/** The names of every function the file defines, read from its `def` lines (indented ones too). */
export function definedFunctionNames(text: string): Set<string> {
  return new Set([...text.matchAll(ANY_DEF)].map((m) => m[1]));
}
/** Airflow decorators whose function body runs when the task runs, not when it is called at parse time. */
const DEFERRED_DECORATOR = /^@\s*(?:[\w.]*\.)?(?:task|asset|setup|teardown)\b(?!_group)/;
const MAX_DEPTH = 3;

export interface LocalCall {
  /** The call (or decorator) that runs the body at parse time. */
  site: SyntaxNode;
  name: string;
  /** The first call in the body (or in a local function it calls) that reaches the network, a process or exec. */
  reach: CallFact;
  how: 'call' | 'decorator' | 'class' | 'module-getattr';
  /** For `how: 'class'`: the class whose definition runs the method. */
  cls?: string;
}

/** Module-level calls and decorators of local functions whose body reaches the network, a process or exec. */
export function localCallsAtParseTime(ctx: RuleContext): LocalCall[] {
  // nothing to reach in a file without a call that reaches the network, starts a process or runs code (most files):
  // no need to look for the uses of its functions
  if (!factsOf(ctx).calls.some(reaches)) return [];
  const text = ctx.file.text;
  const out: LocalCall[] = [];
  if (text.includes('metaclass') || text.includes('__init_subclass__')) out.push(...classHooksAtParseTime(ctx));
  // a module-level `def __getattr__(name)` (PEP 562) runs when another file imports a name this one does not
  // define — `from utils.dag_defaults import DEFAULT_ARGS` in a DAG file, at its parse
  if (text.includes('__getattr__') || text.includes('__dir__')) {
    const defs = topLevelDefs(ctx.root);
    for (const hook of ['__getattr__', '__dir__']) {
      const def = defs.get(hook);
      const reach = def ? reachOf(ctx, def, defs, 0, new Set([hook]), false) : null;
      if (def && reach) out.push({ site: def.childForFieldName('name')!, name: hook, reach, how: 'module-getattr' });
    }
  }
  const names = definedFunctionNames(text);
  if (!names.size) return out;
  const sites: { node: SyntaxNode; name: string; how: 'call' | 'decorator' }[] = [];
  const re = new RegExp(`(@[ \\t]*)?\\b(${[...names].join('|')})\\b[ \\t]*(\\()?`, 'g');
  for (const m of text.matchAll(re)) {
    if (!m[1] && !m[3]) continue;
    // the definition itself (`def name(`) is no use of it: a file of definitions alone is not parsed for this
    if (!m[1] && /\b(?:def|class)[ \t]+$/.test(text.slice(Math.max(0, m.index! - 12), m.index!))) continue;
    const at = m.index! + (m[1]?.length ?? 0);
    const id = ctx.root.descendantForIndex(at, at + m[2].length);
    if (id.type !== 'identifier') continue;
    if (m[1]) {
      let d: SyntaxNode | null = id.parent;
      if (d?.type === 'call' && d.childForFieldName('function')?.id === id.id) d = d.parent;
      if (d?.type === 'decorator' && ctx.isParseTime(d)) sites.push({ node: d, name: m[2], how: 'decorator' });
    } else {
      const call = id.parent;
      if (call?.type === 'call' && call.childForFieldName('function')?.id === id.id && ctx.isParseTime(call)) sites.push({ node: call, name: m[2], how: 'call' });
    }
  }
  if (!sites.length) return out;
  const defs = topLevelDefs(ctx.root);
  for (const s of sites) {
    const def = defs.get(s.name);
    // a `@dag` body is parse-time code itself: what it does is reported where it does it (DG601, DG607…)
    if (!def || isDagFunction(def)) continue;
    // @deco(args): deco's body runs, then the decorator it returns (a nested def) runs on the function
    const decoratorFactory = s.how === 'decorator' && s.node.namedChildren[0]?.type === 'call';
    const reach = reachOf(ctx, def, defs, 0, new Set([s.name]), decoratorFactory);
    if (reach) out.push({ site: s.node, name: s.name, reach, how: s.how });
  }
  return out;
}

/**
 * Class statements run code of other classes while the file is imported: the metaclass's `__new__`/`__init__`
 * (`class P(metaclass=Meta)`) and a base class's `__init_subclass__` (`class Child(Base)`). Local classes only.
 */
function classHooksAtParseTime(ctx: RuleContext): LocalCall[] {
  const classes = new Map<string, SyntaxNode>();
  for (const c of ctx.root.descendantsOfType('class_definition')) {
    const n = c.childForFieldName('name')?.text;
    if (n) classes.set(n, c);
  }
  const method = (cls: string, names: string[]): SyntaxNode[] => {
    const body = classes.get(cls)?.childForFieldName('body');
    if (!body) return [];
    const out: SyntaxNode[] = [];
    for (const m of body.namedChildren) {
      const d = m.type === 'decorated_definition' ? m.childForFieldName('definition') : m;
      if (d?.type === 'function_definition' && names.includes(d.childForFieldName('name')?.text ?? '')) out.push(d);
    }
    return out;
  };
  const defs = topLevelDefs(ctx.root);
  const out: LocalCall[] = [];
  for (const c of classes.values()) {
    const args = c.childForFieldName('superclasses');
    if (!args || !ctx.isParseTime(c)) continue;
    const name = c.childForFieldName('name')!.text;
    const hooks: [string, SyntaxNode][] = [];
    for (const a of args.namedChildren) {
      if (a.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'metaclass') {
        const meta = a.childForFieldName('value')?.text ?? '';
        for (const d of method(meta, ['__new__', '__init__', '__call__', '__prepare__'])) hooks.push([`${meta}.${d.childForFieldName('name')!.text}`, d]);
      } else if (a.type === 'identifier') {
        for (const d of method(a.text, ['__init_subclass__'])) hooks.push([`${a.text}.__init_subclass__`, d]);
      }
    }
    for (const [fn, d] of hooks) {
      const reach = reachOf(ctx, d, defs, 0, new Set(), false);
      if (reach) {
        out.push({ site: c.childForFieldName('name')!, name: fn, reach, how: 'class', cls: name });
        break;
      }
    }
  }
  return out;
}

/**
 * What a function handed to a starter (`Thread(target=f)`, `atexit.register(f)`, `signal.signal(s, lambda *a: f())`)
 * reaches: a local function's body (and the local functions it calls), or a lambda's calls of local functions.
 */
export function reachOfTarget(ctx: RuleContext, target: SyntaxNode): CallFact | null {
  if (!factsOf(ctx).calls.some(reaches)) return null;
  const defs = topLevelDefs(ctx.root);
  if (target.type === 'identifier') {
    const def = defs.get(target.text);
    return def ? reachOf(ctx, def, defs, 0, new Set([target.text]), false) : null;
  }
  if (target.type !== 'lambda') return null;
  for (const id of target.descendantsOfType('identifier')) {
    const def = defs.get(id.text);
    const call = id.parent;
    if (!def || call?.type !== 'call' || call.childForFieldName('function')?.id !== id.id) continue;
    const r = reachOf(ctx, def, defs, 0, new Set([id.text]), false);
    if (r) return r;
  }
  return null;
}

function reaches(f: CallFact): boolean {
  return f.kinds.has('network') || f.kinds.has('spawn') || f.kinds.has('exec');
}

/**
 * Module-level function definitions by name (the last one wins, as in Python), without deferred-body ones; those in
 * `with`/`if`/`try` blocks at module level included (they open no scope).
 */
function topLevelDefs(root: SyntaxNode): Map<string, SyntaxNode> {
  const defs = new Map<string, SyntaxNode>();
  for (const c of scopeStatements(root)) {
    let def: SyntaxNode | null = c;
    if (c.type === 'decorated_definition') {
      if (c.namedChildren.some((d) => d.type === 'decorator' && DEFERRED_DECORATOR.test(d.text))) {
        const n = c.childForFieldName('definition')?.childForFieldName('name')?.text;
        if (n) defs.delete(n);
        continue;
      }
      def = c.childForFieldName('definition');
    }
    if (def?.type !== 'function_definition') continue;
    const n = def.childForFieldName('name')?.text;
    if (n) defs.set(n, def);
  }
  return defs;
}

/** The function (nested defs, lambdas and classes excluded, except one level for decorator factories) a node runs in. */
function runsIn(node: SyntaxNode, def: SyntaxNode, oneNested: boolean): boolean {
  let nested = 0;
  for (let p = node.parent; p; p = p.parent) {
    if (p.id === def.id) return true;
    if (p.type === 'function_definition' || p.type === 'lambda' || p.type === 'class_definition') {
      nested++;
      if (nested > (oneNested ? 1 : 0)) return false;
    }
  }
  return false;
}

function reachOf(ctx: RuleContext, def: SyntaxNode, defs: Map<string, SyntaxNode>, depth: number, seen: Set<string>, oneNested: boolean): CallFact | null {
  const body = def.childForFieldName('body');
  if (!body) return null;
  for (const f of factsOf(ctx).calls) {
    if (f.call.startIndex < body.startIndex || f.call.endIndex > body.endIndex) continue;
    if (!reaches(f)) continue;
    if (runsIn(f.call, def, oneNested)) return f;
  }
  if (depth >= MAX_DEPTH) return null;
  // calls to other local functions from this body
  for (const id of body.descendantsOfType('identifier')) {
    const name = id.text;
    const next = defs.get(name);
    if (!next || seen.has(name)) continue;
    const call = id.parent;
    if (call?.type !== 'call' || call.childForFieldName('function')?.id !== id.id || !runsIn(call, def, oneNested)) continue;
    seen.add(name);
    const r = reachOf(ctx, next, defs, depth + 1, seen, false);
    if (r) return r;
  }
  return null;
}
