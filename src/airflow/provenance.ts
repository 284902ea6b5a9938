/**
 * Where a Python value comes from, as far as the file shows: local name resolution (assignments, loops,
 * parameters judged at their call sites) and the provenance/trust of values, memoised per file as services.
 */
import type { SyntaxNode } from 'tree-sitter';
import { RANK, atLeast, worst, type Trust } from './trust';
import { severityRank, type Severity } from '../report';
import { defineService, type RuleContext } from '../engine/context';
import { callArgs, isConstant, stringValue, unwrap, type CallArgs } from '../engine/python';
import { callAt } from '../engine/locate';
import { scopeStatements } from '../engine/scope';
import { isAllowListed } from './allow-list';
import { decoratorName, decoratorsOf, isTaskFunction } from './operators';
import { SAFE_CONTEXT_VARS, classifyJinja, jinjaExpressions, restrictedParams } from './jinja';
import { commandParts } from './strings';

/** Plain-name assignments that are direct children of one block, in order: `name = v` and `name += v`. */
type BlockAssignments = Map<string, { start: number; augmented: boolean; right: SyntaxNode }[]>;
const blockAssignments = new WeakMap<object, Map<number, BlockAssignments>>();

const COMPOUND = /^(for_statement|while_statement|if_statement|try_statement)$/;
/** What grownInside looks for, in text (every statement it finds spells one): `+=`, `append`, `extend`, `insert`. */
const GROWS = /\+=|append|extend|insert|update|setdefault|\]\s*=(?!=)/;

/** `name += value` and `name.append/extend/insert(value)` anywhere inside a compound statement (not in nested scopes). */
function grownInside(stmt: SyntaxNode): [string, SyntaxNode][] {
  const out: [string, SyntaxNode][] = [];
  const stack: SyntaxNode[] = [stmt];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'function_definition' || n.type === 'class_definition' || n.type === 'lambda') continue;
    if (n.type === 'augmented_assignment' && n.childForFieldName('operator')?.text === '+=') {
      const left = n.childForFieldName('left');
      const right = n.childForFieldName('right');
      if (left?.type === 'identifier' && right) out.push([left.text, right]);
      continue;
    }
    if (n.type === 'assignment') {
      const stored = storedInto(n);
      if (stored) {
        out.push(stored);
        continue;
      }
    }
    if (n.type === 'call' && n.parent?.type === 'expression_statement') {
      const grown = listGrownBy(n);
      if (grown !== undefined) {
        out.push(...grown);
        continue;
      }
    }
    for (const c of n.namedChildren) stack.push(c);
  }
  return out.reverse();
}

/**
 * `name.append(x)`, `name.extend(xs)`, `name.insert(i, x)`, `name.add(x)`, `name.setdefault(k, x)`,
 * `name.update(other, k=x)`: [name, each value added] (none for a value given by a keyword other than update's);
 * undefined for any other call.
 */
function listGrownBy(call: SyntaxNode): [string, SyntaxNode][] | undefined {
  const f = call.childForFieldName('function');
  const obj = f?.type === 'attribute' ? f.childForFieldName('object') : null;
  const method = f?.type === 'attribute' ? f.childForFieldName('attribute')?.text : undefined;
  if (obj?.type !== 'identifier' || !method || !GROWING_METHODS.has(method)) return undefined;
  const args = call.childForFieldName('arguments')?.namedChildren.filter((x) => x.type !== 'comment') ?? [];
  // `d.update(table=x)`: the keyword arguments are the values added
  if (method === 'update') return args.map((x) => [obj.text, x.type === 'keyword_argument' ? x.childForFieldName('value') ?? x : x]);
  const right = args[args.length - 1];
  return right && right.type !== 'keyword_argument' ? [[obj.text, right]] : [];
}

/** Methods that put a value into the list, set or dict they are called on (its last argument). */
const GROWING_METHODS = new Set(['append', 'extend', 'insert', 'update', 'setdefault', 'add']);

/** `name[key] = value` (a dict or list filled after its assignment, like `+=`): [name, value]; else null. */
function storedInto(a: SyntaxNode): [string, SyntaxNode] | null {
  const left = a.childForFieldName('left');
  const right = a.childForFieldName('right');
  if (left?.type !== 'subscript' || !right) return null;
  const obj = left.childForFieldName('value');
  return obj?.type === 'identifier' ? [obj.text, right] : null;
}

/** The assignments of a block, collected once per block and tree (each name lookup used to re-read them). */
function assignmentsOf(block: SyntaxNode): BlockAssignments {
  const tree = (block as SyntaxNode & { tree: object }).tree;
  let perTree = blockAssignments.get(tree);
  if (!perTree) blockAssignments.set(tree, (perTree = new Map()));
  let info = perTree.get(block.id);
  if (info) return info;
  info = new Map();
  const record = (name: string, entry: { start: number; augmented: boolean; right: SyntaxNode }): void => {
    let list = info!.get(name);
    if (!list) info!.set(name, (list = []));
    list.push(entry);
  };
  // the body of a `with` always runs, in the same scope: its statements count as the block's own
  // (`with open(path) as fh:⏎    CONFIG = yaml.safe_load(fh)` binds CONFIG for the rest of the module)
  const statements: SyntaxNode[] = [];
  // … as does the body of a `try` (and its `else`/`finally`): `try: path = TABLE[key]⏎except KeyError: raise …`
  // binds `path` after the statement. A handler's assignments are alternatives to it (recorded like `+=`).
  const handlers: SyntaxNode[] = [];
  const collect = (b: SyntaxNode): void => {
    for (const s of b.namedChildren) {
      const body = s.type === 'with_statement' || s.type === 'try_statement' ? s.childForFieldName('body') : null;
      if (body) collect(body);
      else statements.push(s);
      if (s.type !== 'try_statement') continue;
      for (const c of s.namedChildren) {
        const cb = c.type === 'except_clause' || c.type === 'else_clause' || c.type === 'finally_clause' ? c.namedChildren.find((x) => x.type === 'block') : null;
        if (!cb) continue;
        if (c.type === 'except_clause') handlers.push(cb);
        else collect(cb);
      }
    }
  };
  collect(block);
  for (const h of handlers) {
    for (const st of h.namedChildren) {
      const a = st.type === 'expression_statement' ? st.firstNamedChild : null;
      const left = a?.type === 'assignment' ? a.childForFieldName('left') : null;
      const right = a?.childForFieldName('right');
      if (left?.type === 'identifier' && right) record(left.text, { start: st.startIndex, augmented: true, right });
    }
  }
  for (const s of statements) {
    if (COMPOUND.test(s.type)) {
      // `for p in paths: cmd += " " + p`: a value grown inside a loop or branch, as `+=` after the assignment. The
      // text first: walking every loop and branch of every block (again for each enclosing block) was most of the
      // cost of following names, and few of them grow anything
      if (!GROWS.test(s.text)) continue;
      for (const [name, right] of grownInside(s)) record(name, { start: s.startIndex, augmented: true, right });
      continue;
    }
    if (s.type !== 'expression_statement') continue;
    const a = s.firstNamedChild;
    if (a?.type === 'call') {
      // `parts.append(x)`, `parts.extend(xs)`, `parts.insert(i, x)`: a list grown after its assignment, like `+=`
      for (const [name, right] of listGrownBy(a) ?? []) record(name, { start: s.startIndex, augmented: true, right });
      continue;
    }
    if (!a || (a.type !== 'assignment' && a.type !== 'augmented_assignment')) continue;
    const stored = a.type === 'assignment' ? storedInto(a) : null;
    if (stored) {
      record(stored[0], { start: s.startIndex, augmented: true, right: stored[1] });
      continue;
    }
    const left = a.childForFieldName('left');
    let right = a.childForFieldName('right');
    if (!left || !right) continue;
    if (a.type === 'assignment' && /^(pattern_list|tuple_pattern|list_pattern)$/.test(left.type)) {
      // `a, b = "x", y` binds element-wise; `module, cls = TABLE[kind]` binds each name to a part of the value:
      // the whole value stands for it (as trusted as its worst part)
      const names = left.namedChildren.filter((c) => c.type !== 'comment');
      let r = right;
      while (r.type === 'assignment') r = r.childForFieldName('right') ?? r;
      const u = unwrap(r);
      const parts = /^(expression_list|tuple|list)$/.test(u.type) ? u.namedChildren.filter((c) => c.type !== 'comment') : null;
      const elementWise = parts && parts.length === names.length && !parts.some((x) => x.type === 'list_splat');
      names.forEach((id, i) => {
        if (id.type === 'identifier') record(id.text, { start: s.startIndex, augmented: false, right: elementWise ? parts![i] : r });
      });
      continue;
    }
    if (left.type !== 'identifier') continue;
    const augmented = a.type === 'augmented_assignment';
    if (augmented && a.childForFieldName('operator')?.text !== '+=') continue;
    // chained `a = b = value`
    while (right.type === 'assignment') right = right.childForFieldName('right') ?? right;
    record(left.text, { start: s.startIndex, augmented, right });
  }
  // handlers were recorded out of order: resolveName reads each list in source order
  if (handlers.length) for (const list of info.values()) list.sort((x, y) => x.start - y.start);
  perTree.set(block.id, info);
  return info;
}

/**
 * Values assigned to a plain name before `use`, in the enclosing blocks (innermost first, then outwards to the
 * module): the last `name = value` plus any later `name += value` (or `name.append(value)`/`extend`/`insert`). Plain
 * assignments are seen only as direct children of an enclosing block (not nested in `if`/`try` branches); `+=` and
 * appends also inside loops and branches of such a block. Empty when not found.
 */
export function resolveName(use: SyntaxNode): SyntaxNode[] {
  const name = use.text;
  let child: SyntaxNode = use;
  for (let p = use.parent; p; child = p, p = p.parent) {
    if (p.type !== 'block' && p.type !== 'module') continue;
    const list = assignmentsOf(p).get(name);
    if (!list) continue;
    const found: SyntaxNode[] = [];
    const before = child.startIndex;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i];
      if (e.start >= before) continue;
      found.unshift(e.right);
      if (!e.augmented) return found;
    }
    if (found.length) return found; // only augmented assignments seen: base is elsewhere (unknown)
  }
  return [];
}

/** The value a plain name holds when exactly one assignment before `use` gives it (see resolveName), unwrapped. */
export function singleBinding(use: SyntaxNode): SyntaxNode | null {
  const defs = resolveName(use);
  return defs.length === 1 ? unwrap(defs[0]) : null;
}

/** The iterable of the `for` loop or comprehension around `use` that binds its name (`for path in …:`), or null. */
export function loopIterableOf(use: SyntaxNode): SyntaxNode | null {
  const b = binderOf(use);
  return b?.kind === 'for' ? b.iter : null;
}

/** A function parameter: its definition, name and node (for defaults and `*`/`**` kinds). */
interface ParamBinder {
  kind: 'param';
  fn: SyntaxNode;
  name: string;
  prm: SyntaxNode;
}

/** Where a name is bound as a loop variable, function parameter or comprehension variable around `use`. */
function binderOf(use: SyntaxNode): { kind: 'for'; iter: SyntaxNode } | { kind: 'mapped'; iter: SyntaxNode; prm: SyntaxNode } | { kind: 'with'; value: SyntaxNode } | ParamBinder | null {
  const name = use.text;
  for (let p = use.parent; p; p = p.parent) {
    const loops =
      p.type === 'for_statement'
        ? [p]
        : /comprehension$|^generator_expression$/.test(p.type)
          ? p.namedChildren.filter((c) => c.type === 'for_in_clause')
          : [];
    for (const loop of loops) {
      const left = loop.childForFieldName('left');
      const right = loop.childForFieldName('right');
      if (left && right && (left.text === name || left.descendantsOfType('identifier').some((i) => i.text === name))) return { kind: 'for', iter: right };
    }
    if (p.type === 'with_statement') {
      // `with open(path) as fh:`: fh is the value of the context expression (a file opened there is what it reads)
      // its own items only: a nested `with` binds in its own body, which the walk up meets first
      const clause = p.namedChildren.find((c) => c.type === 'with_clause');
      for (const item of clause?.namedChildren ?? []) {
        const v = item.childForFieldName('value');
        if (v?.type === 'as_pattern' && v.childForFieldName('alias')?.text === name) return { kind: 'with', value: v.namedChildren[0] };
      }
    }
    if (p.type === 'lambda') {
      // `xs.map(lambda f: …)` (XComArg.map in dynamic task mapping): f is each element of xs, as in a for loop
      const params = p.childForFieldName('parameters');
      const call = p.parent?.type === 'argument_list' ? p.parent.parent : null;
      const f = call?.type === 'call' ? call.childForFieldName('function') : null;
      const prm = params?.namedChildren.find((x) => paramName(x) === name);
      if (prm && f?.type === 'attribute' && f.childForFieldName('attribute')?.text === 'map') {
        return { kind: 'mapped', iter: f.childForFieldName('object')!, prm };
      }
    }
    if (p.type === 'function_definition') {
      const params = p.childForFieldName('parameters');
      const list = params?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
      for (const prm of list) {
        if (paramName(prm) !== name) continue;
        // `keys.map(_copy_command)`: a function of the file given to XComArg.map takes each element as its first
        // parameter, as a lambda there does
        const mappedOver = prm === list[0] ? mappedBy(p) : null;
        if (mappedOver) return { kind: 'mapped', iter: mappedOver, prm };
        return { kind: 'param', fn: p, name, prm };
      }
    }
  }
  return null;
}

/** Names given to `.map(…)` in a file's text, once per tree (most files have none). */
const MAPPED_NAMES = new WeakMap<object, Set<string>>();
function mappedNames(tree: object): Set<string> {
  let v = MAPPED_NAMES.get(tree);
  if (!v) {
    v = new Set([...(tree as { rootNode: SyntaxNode }).rootNode.text.matchAll(/\.map\(\s*([A-Za-z_]\w*)\s*\)/g)].map((m) => m[1]));
    MAPPED_NAMES.set(tree, v);
  }
  return v;
}

/** What `def`'s function is mapped over (`xs.map(f)` in the file, found in the text first), if it is. */
function mappedBy(def: SyntaxNode): SyntaxNode | null {
  const fname = def.childForFieldName('name')?.text;
  const root = def.tree.rootNode;
  if (!fname || !mappedNames(def.tree).has(fname)) return null;
  for (const call of root.descendantsOfType('call')) {
    const f = call.childForFieldName('function');
    const arg = callArgs(call).positional[0];
    if (f?.type === 'attribute' && f.childForFieldName('attribute')?.text === 'map' && arg && unwrap(arg).text === fname) return f.childForFieldName('object');
  }
  return null;
}

function paramName(prm: SyntaxNode): string | undefined {
  const id = prm.type === 'identifier' ? prm : (prm.childForFieldName('name') ?? prm.namedChildren.find((c) => c.type === 'identifier'));
  return id?.text;
}

/** Decorators of DAG functions: their parameters are DAG params, which `dag_run.conf` overrides. */
const DAG_DECORATORS = new Set(['airflow.decorators.dag', 'airflow.sdk.dag', 'airflow.models.dag.dag']);

/**
 * The trust of a function parameter, judged at the function's call sites in this file (found in the text —
 * `name(`, `name.expand(`, `name.partial(`, `name.override(…)(`, `python_callable=name` — and confirmed in the
 * tree; nothing walks the tree). Memoised per parameter.
 *
 * - TaskFlow tasks and `python_callable`s: Airflow's context variables by name (`ds` safe, `params` user); else
 *   the worst value passed at the call sites (`op_kwargs`/`op_args` for a `python_callable`): constants are
 *   safe, a constant holding a Jinja template is classified as one (task arguments are rendered), another task's
 *   call is its output (`xcom`). No call site, a call site that may pass it through `*args`/`**kwargs`, or a
 *   value whose origin is not visible: `param` (a function parameter, medium).
 * - `@dag` functions: their parameters are DAG params: `user`.
 * - Other functions: the worst value at their call sites; no call site or unclear: `unknown`, as before.
 */
const PARAMETER_TRUST = defineService('airflow: trust of function parameters', () => new Map<string, { t: Trust; cutAt: number | null }>());

function parameterTrust(b: ParamBinder, ctx: RuleContext, depth: number): Trust {
  const memo = ctx.use(PARAMETER_TRUST);
  const state = ctx.use(PROVENANCE);
  const key = `${b.fn.startIndex}:${b.name}`;
  const hit = memo.get(key);
  // as in provenance(): an answer cut short by the depth limit is final only for questions asked as deep or deeper
  if (hit && reusable(hit, depth, state)) return hit.t;
  const cuts = state.cuts;
  const decorators = decoratorsOf(b.fn).map((d) => decoratorName(d, ctx) ?? '');
  const isTask = isTaskFunction(b.fn, ctx);
  const fname = b.fn.childForFieldName('name')?.text ?? '';
  const callableSites = !isTask && fname ? pythonCallableSites(fname, ctx) : [];
  const airflowCalls = isTask || callableSites.length > 0;
  const unclear: Trust = airflowCalls ? 'param' : 'unknown';
  memo.set(key, { t: unclear, cutAt: null }); // breaks cycles (a function passing its parameter to itself)
  let r: Trust;
  if (decorators.some((d) => DAG_DECORATORS.has(d))) r = 'user';
  else if (airflowCalls && b.name === 'params') r = 'user';
  else if (airflowCalls && SAFE_CONTEXT_VARS.has(b.name)) r = 'safe';
  else if (b.prm.type === 'list_splat_pattern' || b.prm.type === 'dictionary_splat_pattern' || !fname || !ctx.root) r = unclear;
  else r = callSiteTrust(b, fname, callableSites, airflowCalls, unclear, ctx, depth);
  memo.set(key, { t: r, cutAt: cutAtOf(state, cuts, depth) });
  return r;
}

/** The class a method is defined in (directly, decorated or not). */
function classOf(fn: SyntaxNode): SyntaxNode | null {
  let p = fn.parent;
  if (p?.type === 'decorated_definition') p = p.parent;
  return p?.type === 'block' && p.parent?.type === 'class_definition' ? p.parent : null;
}

/**
 * The values a class stores in `self.<attr>` (assignments in its methods, not in nested classes) and its class
 * attribute `attr = …`; null when `use` is not in a method.
 */
function selfAttributeValues(use: SyntaxNode, attr: string, cls: SyntaxNode | null = enclosingClass(use)): SyntaxNode[] | null {
  const body = cls?.childForFieldName('body');
  if (!body || !body.text.includes(attr)) return null;
  const values: SyntaxNode[] = [];
  for (const a of body.descendantsOfType('assignment')) {
    const left = a.childForFieldName('left');
    const right = a.childForFieldName('right');
    if (!left || !right) continue;
    if (left.type === 'attribute' && left.childForFieldName('attribute')?.text === attr && left.childForFieldName('object')?.text === 'self') {
      let owner: SyntaxNode | null = a.parent;
      while (owner && owner.type !== 'class_definition') owner = owner.parent;
      if (owner?.id === cls!.id) values.push(right);
    } else if (left.type === 'identifier' && left.text === attr && a.parent?.parent?.id === body.id) values.push(right);
  }
  return values;
}

/** The class whose method `node` is in. */
function enclosingClass(node: SyntaxNode): SyntaxNode | null {
  let fn: SyntaxNode | null = node.parent;
  while (fn && fn.type !== 'function_definition') fn = fn.parent;
  return fn ? classOf(fn) : null;
}

/**
 * The values an attribute of a class of this file is given: `self.x`/`cls.x` in its methods, or `Name.x` for a class
 * `Name` defined at module level — its class attribute `x = …` and every `self.x = …` of its methods. Null when the
 * attribute is not one of those.
 */
export function classAttributeValues(attribute: SyntaxNode, ctx: RuleContext): SyntaxNode[] | null {
  if (attribute.type !== 'attribute') return null;
  const obj = unwrap(attribute.childForFieldName('object')!);
  const attr = attribute.childForFieldName('attribute')?.text;
  if (obj.type !== 'identifier' || !attr) return null;
  if (obj.text === 'self' || obj.text === 'cls') return selfAttributeValues(attribute, attr);
  for (const st of scopeStatements(ctx.root)) {
    const d = st.type === 'decorated_definition' ? st.childForFieldName('definition') : st;
    if (d?.type === 'class_definition' && d.childForFieldName('name')?.text === obj.text) return selfAttributeValues(attribute, attr, d);
  }
  return null;
}

/** Calls `Op(python_callable=name, …)` in the file. */
function pythonCallableSites(fname: string, ctx: RuleContext): SyntaxNode[] {
  const text = ctx.file.text;
  if (!text.includes('python_callable')) return [];
  const out: SyntaxNode[] = [];
  const re = new RegExp(`\\bpython_callable\\s*=\\s*${fname}\\b(?!\\s*[.(\\[])`, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const kw = ctx.root.descendantForIndex(m.index, m.index + 'python_callable'.length).parent;
    const call = kw?.type === 'keyword_argument' ? kw.parent?.parent : null;
    if (call?.type === 'call') out.push(call);
  }
  return out;
}

const MAX_SITES = 50;

function callSiteTrust(
  b: ParamBinder,
  fname: string,
  callableSites: SyntaxNode[],
  airflowCalls: boolean,
  unclear: Trust,
  ctx: RuleContext,
  depth: number,
): Trust {
  // positional index of the parameter (methods: `self`/`cls` are not passed)
  const names: string[] = [];
  let index = -1;
  let kwOnly = false;
  for (const prm of b.fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (prm.type === 'list_splat_pattern' || prm.type === 'dictionary_splat_pattern' || prm.type === 'keyword_separator') kwOnly = true;
    const n = paramName(prm);
    if (n === undefined || prm.type === 'list_splat_pattern' || prm.type === 'dictionary_splat_pattern') continue;
    if (prm.id === b.prm.id && !kwOnly) index = names.length;
    names.push(n);
  }
  const method = names[0] === 'self' || names[0] === 'cls';
  if (method && index >= 0) index--;
  // `__init__`'s parameters are passed where the class is called: `Purger(conf)`
  const ctor = fname === '__init__' && method ? classOf(b.fn)?.childForFieldName('name')?.text : undefined;
  const dflt = b.prm.childForFieldName('value');

  let trust: Trust | null = null;
  let isUnclear = false;
  const add = (t: Trust): void => {
    trust = trust ? worst(trust, t) : t;
  };
  const valueTrust = (arg: SyntaxNode): Trust => {
    const u = unwrap(arg);
    // another task's output: an XCom — and, when that task is in this file, what it returns (a task handing on
    // `dag_run.conf` passes trigger input, not just a task's output)
    if (airflowCalls && isTaskCall(u, ctx)) return worst('xcom', taskOutputTrust(u, ctx, depth));
    // task arguments are templated, and so are an operator subclass's fields (`CmdOperator(command="… {{ params.x }}")`)
    if (airflowCalls || ctor) {
      const s = stringValue(u);
      if (s !== null && s.includes('{{')) {
        // task arguments are templated: `make_dirs("{{ dag_run.conf['d'] }}")`
        let t: Trust = 'safe';
        for (const e of jinjaExpressions(s)) t = worst(t, classifyJinja(e.expr).trust);
        return t;
      }
    }
    const t = provenance(arg, ctx, depth + 1).trust;
    return t === 'unknown' ? unclear : t;
  };
  /** One call site: the argument, the default, or nothing (unclear). */
  const site = (args: CallArgs, positional: boolean): void => {
    const arg = args.keywords.get(b.name) ?? (positional && index >= 0 ? args.positional[index] : undefined);
    if (arg) add(valueTrust(arg));
    else if (args.hasSplat) isUnclear = true;
    else if (dflt) add(valueTrust(dflt));
  };

  let count = 0;
  for (const call of callableSites) {
    if (++count > MAX_SITES) break;
    const a = callArgs(call);
    const kwargs = a.keywords.get('op_kwargs');
    const opArgs = a.keywords.get('op_args');
    const kd = kwargs ? unwrap(kwargs) : null;
    const ol = opArgs ? unwrap(opArgs) : null;
    if ((kd && kd.type !== 'dictionary') || (ol && ol.type !== 'list' && ol.type !== 'tuple')) {
      isUnclear = true;
      continue;
    }
    const keywords = new Map<string, SyntaxNode>();
    let hasSplat = false;
    for (const p of kd?.namedChildren ?? []) {
      const k = p.type === 'pair' ? stringValue(p.childForFieldName('key')) : null;
      const v = p.childForFieldName('value');
      if (k !== null && v) keywords.set(k, v);
      else if (p.type !== 'comment') hasSplat = true;
    }
    const positional = (ol?.namedChildren ?? []).filter((c) => c.type !== 'comment');
    if (positional.some((c) => c.type === 'list_splat')) hasSplat = true;
    site({ positional, keywords, hasSplat }, true);
  }

  const text = ctx.file.text;
  const called = ctor ?? fname;
  const re = new RegExp(`\\b${called}\\s*(?:\\.\\s*(expand|partial|override)\\s*)?\\(`, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (++count > MAX_SITES) {
      isUnclear = true;
      break;
    }
    const via = m[1];
    const at = via ? m.index + m[0].lastIndexOf(via) : m.index;
    const found = callAt(ctx.root, at, at + (via ?? called).length, m.index + m[0].length - 1);
    if (!found) continue;
    let call = found.call;
    // `obj.name(…)` is a method call: it counts for methods only, and `name(…)` for functions only
    const calleeIsAttribute = found.fn.type === 'attribute';
    if (!via && !ctor && calleeIsAttribute !== method) continue;
    if (call.startIndex >= b.fn.startIndex && call.endIndex <= b.fn.endIndex) continue; // recursion
    if (via === 'override') {
      // `task.override(task_id=…)(args)`
      const outer = call.parent;
      if (!outer || outer.type !== 'call' || outer.childForFieldName('function')?.id !== call.id) continue;
      call = outer;
    }
    if (via === 'expand') {
      // `task.expand(x=[…])`: each element is one mapped value; `.partial(…).expand(…)` is found at `partial`
      const v = callArgs(call).keywords.get(b.name);
      if (v) add(valueTrust(v));
      continue;
    }
    if (via === 'partial') {
      const a = callArgs(call);
      const v = a.keywords.get(b.name);
      if (v) add(valueTrust(v));
      else {
        // the value comes with `.expand(…)` chained on this call
        const attr = call.parent;
        const outer = attr?.type === 'attribute' ? attr.parent : null;
        const ev = outer?.type === 'call' ? callArgs(outer).keywords.get(b.name) : undefined;
        if (ev) add(valueTrust(ev));
        else if (dflt) add(valueTrust(dflt));
        else isUnclear = true;
      }
      continue;
    }
    site(callArgs(call), true);
  }
  if (isUnclear) add(unclear);
  return trust ?? unclear;
}

/** Is this the call of a TaskFlow task defined in this file (`t(…)`, `t.expand(…)`, `t.override(…)(…)`)? Its
 *  result is an XComArg: the task's output. */
function isTaskCall(call: SyntaxNode, ctx: RuleContext): boolean {
  return taskDefOf(call, ctx) !== null;
}

/** What a task of this file called here returns (the worst of its `return`s; `xcom` when it returns nothing seen). */
function taskOutputTrust(call: SyntaxNode, ctx: RuleContext, depth: number): Trust {
  const def = taskDefOf(call, ctx);
  let t: Trust = 'xcom';
  for (const r of def ? returnedValues(def) : []) t = worst(t, provenance(r, ctx, depth + 1).trust);
  // what the file does not show inside a task's output is still that task's output (rows of a file the task
  // downloaded): an XCom, not a value of unknown origin (which SQL rules leave at info)
  return t === 'unknown' ? 'xcom' : t;
}

/**
 * `obj.method` where `obj` is bound once to an instance of a class of this file (`req = RestartRequest(conf)`): the
 * method's definition, else null.
 */
function methodOfInstance(f: SyntaxNode, ctx: RuleContext): SyntaxNode | null {
  const obj = unwrap(f.childForFieldName('object')!);
  const attr = f.childForFieldName('attribute')?.text;
  const inst = obj.type === 'identifier' ? singleBinding(obj) : obj.type === 'call' ? obj : null;
  const ctor = inst ? unwrap(inst) : null;
  const cname = ctor?.type === 'call' ? ctor.childForFieldName('function') : null;
  if (!attr || cname?.type !== 'identifier') return null;
  for (const st of scopeStatements(ctx.root)) {
    const c = st.type === 'decorated_definition' ? st.childForFieldName('definition') : st;
    if (c?.type !== 'class_definition' || c.childForFieldName('name')?.text !== cname.text) continue;
    for (const m of c.childForFieldName('body')?.namedChildren ?? []) {
      const d = m.type === 'decorated_definition' ? m.childForFieldName('definition') : m;
      if (d?.type === 'function_definition' && d.childForFieldName('name')?.text === attr) return d;
    }
  }
  return null;
}

/** The task function of this file a call (`t(…)`, `t.expand(…)`, `t.override(…)(…)`) runs, or null. */
function taskDefOf(call: SyntaxNode, ctx: RuleContext): SyntaxNode | null {
  if (call.type !== 'call') return null;
  let f = call.childForFieldName('function');
  if (f?.type === 'call') f = f.childForFieldName('function'); // t.override(…)(…)
  if (f?.type === 'attribute' && /^(expand|expand_kwargs|partial|override)$/.test(f.childForFieldName('attribute')?.text ?? '')) {
    f = f.childForFieldName('object');
  }
  const name = f?.type === 'identifier' ? f.text : undefined;
  if (!name) return null;
  const def = new RegExp(`\\bdef\\s+${name}\\s*\\(`).exec(ctx.file.text);
  if (!def) return null;
  const fn = ctx.root.descendantForIndex(def.index, def.index + 3).parent;
  return fn && fn.type === 'function_definition' && isTaskFunction(fn, ctx) ? fn : null;
}

const CONFIG_CALLS = new Set([
  'airflow.models.Variable.get', 'airflow.models.variable.Variable.get', 'airflow.sdk.Variable.get',
  'airflow.models.Variable.get_variable_from_secrets',
  'os.getenv', 'os.environ.get', 'os.getenvb',
  'airflow.configuration.conf.get', 'airflow.configuration.conf.getint',
  'airflow.hooks.base.BaseHook.get_connection', 'airflow.hooks.base_hook.BaseHook.get_connection',
  'airflow.sdk.BaseHook.get_connection', 'airflow.models.Connection.get_connection_from_secrets',
]);
/** Calls whose result can't carry shell syntax whatever the input. */
const SANITIZERS = new Set([
  'shlex.quote', 'pipes.quote', 'shlex.join', 'int', 'float', 'len', 'bool', 'abs', 'round', 'hash', 'id',
  'uuid.uuid4', 'uuid.uuid1', 'time.time', 'os.getpid', 'hex', 'oct', 'ord',
]);
/** Parsers of a document's text into data: their result is as trusted as the text (COMBINERS). */
const DOCUMENT_LOADERS = ['yaml.safe_load', 'json.load', 'json.loads', 'tomllib.load', 'tomllib.loads'];

/** Calls that combine their inputs into a path or string (result as trusted as the worst input). */
const COMBINERS = new Set([
  'os.path.join', 'os.path.dirname', 'os.path.abspath', 'os.path.realpath', 'os.path.basename', 'os.path.normpath',
  'os.path.expanduser', 'os.path.splitext', 'pathlib.Path', 'pathlib.PurePath', 'pathlib.PosixPath', 'str', 'os.fspath',
  // the same functions imported under their platform module's name (S3 keys are POSIX paths)
  'posixpath.join', 'posixpath.dirname', 'posixpath.basename', 'posixpath.splitext', 'posixpath.normpath',
  'pathlib.PurePosixPath', 'textwrap.dedent',
  'enumerate', 'zip', 'sorted', 'reversed', 'list', 'tuple', 'set', 'dict', 'min', 'max', 'range',
  // `string.Template("…")`: its `substitute(…)` combines the template with the values (COMBINING_METHODS)
  'string.Template',
  // a file's content is as trusted as its path: `yaml.safe_load(open(os.path.join(os.path.dirname(__file__), …)))`
  // reads a file committed with the DAG; a path of unknown origin leaves the content unknown
  'open', 'builtins.open', 'io.open', ...DOCUMENT_LOADERS,
  // wrappers and decoders that hand the same data on: `csv.DictReader(io.StringIO(s3.read_key(…)))` rows are the
  // object's content
  'io.StringIO', 'io.BytesIO', 'csv.reader', 'csv.DictReader', 'bytes', 'bytearray', 'iter', 'next', 'itertools.chain',
  'base64.b64decode', 'base64.urlsafe_b64decode', 'gzip.decompress', 'zlib.decompress', 'urllib.parse.unquote',
  'urllib.parse.unquote_plus', 'html.unescape',
]);
const COMBINING_METHODS = new Set([
  'substitute', 'safe_substitute',
  'parent', 'parents', 'joinpath', 'resolve', 'absolute', 'as_posix', 'name', 'stem', 'suffix', 'with_suffix',
  'with_name', 'strip', 'rstrip', 'lstrip', 'lower', 'upper', 'replace', 'format', 'join', 'expanduser',
  'items', 'keys', 'values', 'split', 'rsplit', 'splitlines', 'title', 'capitalize', 'read', 'read_text',
  'decode', 'encode', 'readline', 'readlines', 'getvalue', 'pop', 'copy', 'casefold', 'removeprefix', 'removesuffix',
  'partition', 'rpartition', 'tolist', 'to_list', 'to_dict', 'iterrows', 'itertuples',
]);
/**
 * Calls that return data fetched from outside the deployment (trust `external`): HTTP clients, and listings and
 * objects of remote storage by method name on any hook or client (`S3Hook.list_keys`, `GCSHook.list`,
 * `SFTPHook.list_directory`, boto3 `list_objects_v2`, `blob.download_as_text`).
 */
const EXTERNAL_CALLS = /^(requests|httpx)\.(get|post|put|patch|delete|request|head)$|^urllib\.request\.urlopen$|^urllib3\.request$/;
const EXTERNAL_METHODS = new Set([
  'list_keys', 'list_prefixes', 'read_key', 'select_key', 'list_directory', 'describe_directory', 'list_blobs',
  'download_as_text', 'download_as_bytes', 'download_as_string', 'list_objects', 'list_objects_v2', 'list_files',
  'receive_messages', 'get_key', 'download',
]);
/** Airflow's HTTP hooks: `HttpHook(…).run(endpoint)` is a response from the connection's host. */
const HTTP_HOOK = /(^|\.)Http(Async)?Hook$/;
function isExternalSource(q: string, f: SyntaxNode, ctx: RuleContext): boolean {
  if (EXTERNAL_CALLS.test(q)) return true;
  if (f.type !== 'attribute') return false;
  const attr = f.childForFieldName('attribute')!.text;
  if (EXTERNAL_METHODS.has(attr)) return true;
  if (attr !== 'run' && attr !== 'run_with_advanced_retry') return false;
  // `HttpHook(…).run(…)`, or `hook.run(…)` with `hook = HttpHook(…)`
  let o = unwrap(f.childForFieldName('object')!);
  if (o.type === 'identifier') o = singleBinding(o) ?? o;
  return o.type === 'call' && HTTP_HOOK.test(ctx.callee(o) ?? '');
}

/** Is `node` data parsed from a document by the file (`CONFIG = yaml.safe_load(fh)`, `CONFIG["sources"]`, …)? */
function isLoadedDocument(node: SyntaxNode, ctx: RuleContext, depth = 0): boolean {
  const u = unwrap(node);
  if (depth > 4) return false;
  if (u.type === 'call') return DOCUMENT_LOADERS.includes(ctx.callee(u) ?? '');
  if (u.type === 'subscript') return isLoadedDocument(u.childForFieldName('value')!, ctx, depth + 1);
  if (u.type === 'identifier') return resolveName(u).some((d) => isLoadedDocument(d, ctx, depth + 1));
  return false;
}

/** Date/time formatting: the result is made of digits and the format's constants. */
const SAFE_METHODS = new Set(['strftime', 'isoformat', 'timestamp', 'to_date_string', 'to_datetime_string', 'to_iso8601_string', 'date', 'year', 'month', 'day', 'hour', 'minute']);

export interface Provenance {
  trust: Trust;
  /** The sub-expression that decided the trust (for messages). */
  node: SyntaxNode;
  /**
   * When `trust` is `unknown`: the worst part known to carry outside data (`xcom`, `external`, `param`) that the
   * unknown part outranked — `f"{ti.xcom_pull(…)} {x}"` is still a task's output, which severity maps that put
   * `unknown` below those origins (formatted commands and SQL: *info*) must not lose.
   */
  also?: Provenance;
}

/** Origins that carry data from outside the file, ranked below `unknown` (see Provenance.also). */
const OUTSIDE: ReadonlySet<Trust> = new Set(['xcom', 'external', 'param']);

/**
 * Where a Python value comes from, as far as the file shows. Names are followed to their assignment, loop
 * (`for table in TABLES`) or parameter (judged at the function's call sites: see `parameterTrust`);
 * `dag_run.conf`/`params` lookups are `user`.
 */
const PROVENANCE = defineService('airflow: provenance of values by node', () => ({
  /** Answers by node; `cutAt`: the depth it was asked at, when the depth limit cut it short (else null). */
  memo: new Map<number, { p: Provenance; cutAt: number | null }>(),
  cuts: 0,
  /** Answers computed (memo misses): what bounds the work a crafted file can cause, checked by a test. */
  answers: 0,
}));
/** How far a value is followed (names, calls, arguments) before it is called unknown. */
export const MAX_DEPTH = 24;

/** How many provenance answers this file has computed so far (for the test that bounds a crafted file's cost). */
export function provenanceAnswers(ctx: RuleContext): number {
  return ctx.use(PROVENANCE).answers;
}


/** The key of a params lookup: `…["params"]["k"]`, `…["params"].get("k")`, `params["k"]`, `params.get("k")`. */
const PARAM_KEY = /^[\w.]*(?:\[\s*["']params["']\s*\]|\bparams)\s*(?:\[\s*["'](\w+)["']\s*\]|\.get\(\s*["'](\w+)["'][^)]*\))$/;

export function provenance(node: SyntaxNode, ctx: RuleContext, depth = 0): Provenance {
  // memoised per file and node: names are followed through assignments, which may share sub-expressions
  const state = ctx.use(PROVENANCE);
  const { memo } = state;
  const key = unwrap(node).id;
  const hit = memo.get(key);
  // An answer cut short by the depth limit holds for questions asked as deep or deeper; asked from closer, the node
  // is followed again (a memoised cut made `CONFIG_PATH` unknown for every later use). So each node is answered at
  // most MAX_DEPTH + 1 times: a file cannot make this exponential.
  if (hit && reusable(hit, depth, state)) return hit.p;
  memo.set(key, { p: { trust: 'unknown', node }, cutAt: null }); // breaks cycles
  state.answers++;
  const cuts = state.cuts;
  const r = provenanceOf(node, ctx, depth);
  memo.set(key, { p: r, cutAt: cutAtOf(state, cuts, depth) });
  return r;
}

/**
 * Can a memoised answer (of provenance() or parameterTrust()) be reused for a question asked at `depth`? Always when it
 * was complete; when the depth limit cut it, only for questions asked as deep or deeper — and then it makes whatever is
 * built on it cut short too: else the caller would memoise a depth-limited answer as final, and the result would
 * depend on the order the file's sinks are asked in.
 */
function reusable(hit: { cutAt: number | null }, depth: number, state: { cuts: number }): boolean {
  if (hit.cutAt === null) return true;
  if (depth < hit.cutAt) return false;
  state.cuts++;
  return true;
}

/** What to memoise an answer computed at `depth` with: that depth if the limit cut anything since `cutsBefore`. */
function cutAtOf(state: { cuts: number }, cutsBefore: number, depth: number): number | null {
  return state.cuts === cutsBefore ? null : depth;
}

/**
 * The provenance of a call of a function of this file (module-level or local), through its `return` values: the worst argument
 * among the parameters a returned expression uses (`def build(p): return f"rm -rf {p}"`), or the returned values'
 * own provenance when they use no parameter. Null when the function is not defined here (or is recursive).
 */
function helperResult(call: SyntaxNode, name: string, ctx: RuleContext, depth: number): Provenance | null {
  const def = visibleFunction(call, name);
  if (!def || (call.startIndex >= def.startIndex && call.endIndex <= def.endIndex)) return null;
  const params = (def.childForFieldName('parameters')?.namedChildren ?? []).map((p) => (p.type === 'identifier' ? p.text : p.childForFieldName('name')?.text ?? p.namedChildren[0]?.text ?? ''));
  const returns = returnedValues(def);
  if (!returns.length) return null;
  const args = callArgs(call);
  let best: Provenance = { trust: 'safe', node: call };
  for (const r of returns) {
    // a parameter used only inside a sanitizer (`shlex.quote(customer)`) does not reach the result as it came
    const used = new Set(r.descendantsOfType('identifier').filter((i) => params.includes(i.text) && !insideSanitizer(i, r, ctx)).map((i) => i.text));
    // … and the parameters behind the helper's own locals in it (`codes = ",".join(… for c in codes_list)` then
    // `return "… IN (%s)" % codes`), two bindings back
    for (const p of paramsThroughLocals(r, params, def, ctx)) used.add(p);
    const sources: SyntaxNode[] = [];
    for (const p of used) {
      const i = params.indexOf(p);
      const a = args.keywords.get(p) ?? args.positional[i];
      if (a) sources.push(a);
    }
    const candidates = used.size ? sources.map((a) => provenance(a, ctx, depth + 1)) : [provenance(r, ctx, depth + 1)];
    for (const p of candidates) if (RANK[p.trust] > RANK[best.trust]) best = p;
  }
  return best;
}

/** Parameters of `def` that the non-parameter names in `expr` are bound from, inside `def` (two bindings back). */
function paramsThroughLocals(expr: SyntaxNode, params: string[], def: SyntaxNode, ctx: RuleContext): string[] {
  const out = new Set<string>();
  let frontier = [expr];
  const seen = new Set<number>();
  for (let step = 0; step < 2 && frontier.length; step++) {
    const next: SyntaxNode[] = [];
    for (const n of frontier) {
      for (const id of n.descendantsOfType('identifier')) {
        if (seen.has(id.id) || params.includes(id.text) || insideSanitizer(id, n, ctx)) continue;
        seen.add(id.id);
        const bound = resolveName(id);
        // checked against an allow list before it is returned (`if candidate not in ALLOWED: raise`)
        if (isAllowListed(id, bound, ctx)) continue;
        for (const b of bound) {
          if (b.startIndex < def.startIndex || b.endIndex > def.endIndex) continue;
          for (const i of b.descendantsOfType('identifier')) if (params.includes(i.text) && !insideSanitizer(i, b, ctx)) out.add(i.text);
          next.push(b);
        }
      }
    }
    frontier = next;
  }
  return [...out];
}

/** The function of this file a plain call `name(…)` reaches (see visibleFunction), or null for any other call. */
export function calledFunction(call: SyntaxNode): SyntaxNode | null {
  const f = call.type === 'call' ? call.childForFieldName('function') : null;
  return f?.type === 'identifier' ? visibleFunction(call, f.text) : null;
}

/**
 * The function (possibly decorated) a call of `name` at `site` reaches, the last one defined if several: a local
 * function of an enclosing function first, else a module-level one. `with DAG(…):`, `if`, `for`, `try` blocks open no
 * scope in Python, so a helper defined inside `with DAG(…) as dag:` is a module-level function too.
 */
export function visibleFunction(site: SyntaxNode, name: string): SyntaxNode | null {
  for (let s: SyntaxNode | null = site.parent; s; s = s.parent) {
    if (s.type !== 'function_definition') continue;
    const body = s.childForFieldName('body');
    const found = body && definedIn(body, name);
    if (found) return found;
  }
  return definedIn(site.tree.rootNode, name);
}

/** Is `id` an argument (at any depth) of a sanitizer call (`shlex.quote`, `int`…) within `top`? */
function insideSanitizer(id: SyntaxNode, top: SyntaxNode, ctx: RuleContext): boolean {
  for (let p = id.parent; p && p.id !== top.id; p = p.parent) {
    if (p.type === 'call' && SANITIZERS.has(ctx.callee(p) ?? '')) return true;
  }
  return false;
}

/** The expressions a function returns (its own `return`s, not those of nested functions). */
export function returnedValues(def: SyntaxNode): SyntaxNode[] {
  const body = def.childForFieldName('body');
  const returns: SyntaxNode[] = [];
  const stack: SyntaxNode[] = body ? [body] : [];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.type === 'return_statement') {
      if (x.namedChildren[0]) returns.push(x.namedChildren[0]);
      continue;
    }
    if (x.type === 'function_definition' || x.type === 'class_definition' || x.type === 'lambda') continue;
    for (const ch of x.namedChildren) stack.push(ch);
  }
  return returns;
}

/** The last `def name` of this scope (src/engine/scope.ts `scopeStatements`: nested blocks that open no scope too). */
function definedIn(block: SyntaxNode, name: string): SyntaxNode | null {
  let found: SyntaxNode | null = null;
  for (const s of scopeStatements(block)) {
    const d = s.type === 'decorated_definition' ? s.childForFieldName('definition') : s;
    if (d?.type === 'function_definition' && d.childForFieldName('name')?.text === name) found = d;
  }
  return found;
}

function provenanceOf(node: SyntaxNode, ctx: RuleContext, depth: number): Provenance {
  const n = unwrap(node);
  const mk = (trust: Trust, at: SyntaxNode = n): Provenance => ({ trust, node: at });
  const combine = (nodes: SyntaxNode[], base: Trust = 'safe'): Provenance => {
    let best: Provenance = mk(base);
    let outside: Provenance | undefined;
    for (const c of nodes) {
      const p = provenance(c, ctx, depth + 1);
      const o = OUTSIDE.has(p.trust) ? p : p.also;
      if (o && (!outside || RANK[o.trust] > RANK[outside.trust])) outside = o;
      if (RANK[p.trust] > RANK[best.trust]) best = p;
    }
    return best.trust === 'unknown' && outside ? { ...best, also: outside } : best;
  };
  if (depth > MAX_DEPTH) {
    ctx.use(PROVENANCE).cuts++;
    return mk('unknown');
  }
  if (isConstant(n) || n.type === 'comment') return mk('safe');
  const text = n.text;
  // `context["params"]["table"]`, `params.get("table")` of a param the DAG declares `Param(…, enum=[…])` or numeric:
  // Airflow validates the value before the task runs
  if (n.type !== 'identifier' && text.includes('params')) {
    const m = PARAM_KEY.exec(text);
    const key = m?.[1] ?? m?.[2];
    if (key && restrictedParams(n, ctx).has(key)) return mk('safe');
  }
  if ((n.type === 'attribute' || n.type === 'subscript') && /\bdag_run\b[\s\S]*\bconf\b|\[\s*["'](params|dag_run)["']\s*\]/.test(text)) {
    return mk('user');
  }
  switch (n.type) {
    case 'identifier': {
      if (n.text === '__file__' || n.text === '__name__') return mk('deployment');
      const defs = resolveName(n);
      if (defs.length) {
        const r = combine(defs);
        if (r.trust === 'safe' || r.trust === 'deployment') return r;
        return isAllowListed(n, defs, ctx) ? mk('safe') : { ...r, node: n };
      }
      const b = binderOf(n);
      if (b?.kind === 'for') {
        const r = provenance(b.iter, ctx, depth + 1);
        return { ...r, node: n };
      }
      if (b?.kind === 'with') {
        const r = provenance(b.value, ctx, depth + 1);
        return { ...r, node: n };
      }
      if (b?.kind === 'mapped') {
        // an element of a task's output mapped over (`list_files().map(lambda f: …)`, or a name bound to it): data
        // another task produced, often from outside (file names of an SFTP listing) — unless the task checks it
        // against an allow list before this use (`if table not in TARGETS: raise`)
        if (isAllowListed(n, [b.prm], ctx)) return mk('safe');
        const src = unwrap(b.iter);
        const calls = src.type === 'identifier' ? resolveName(src).map(unwrap) : [src];
        if (calls.some((c) => isTaskCall(c, ctx))) return mk('xcom');
        const r = provenance(b.iter, ctx, depth + 1);
        return { ...r, node: n };
      }
      if (b?.kind === 'param') {
        const t = parameterTrust(b, ctx, depth);
        // a parameter checked against an allow list in its function before this use (`if table not in TARGETS: raise`)
        if (t !== 'safe' && t !== 'deployment' && isAllowListed(n, [b.prm], ctx)) return mk('safe');
        return mk(t);
      }
      if (ctx.imports.has(n.text)) return mk('deployment');
      return mk('unknown');
    }
    case 'string':
    case 'concatenated_string':
    case 'binary_operator':
    case 'conditional_expression': {
      if (n.type === 'binary_operator') {
        const op = n.childForFieldName('operator')?.type;
        if (op === '/' || op === '+' || op === '%') {
          // Path / "x", "a" + b, "…%s" % x
          if (op === '/') return combine([n.childForFieldName('left')!, n.childForFieldName('right')!]);
        } else if (op !== undefined) {
          // arithmetic: numbers
          return combine([n.childForFieldName('left')!, n.childForFieldName('right')!]);
        }
      }
      const parts = commandParts(n);
      return combine(parts.values);
    }
    case 'list':
    case 'tuple':
    case 'set':
    case 'expression_list': // `return start, end`
      return combine(n.namedChildren);
    case 'generator_expression':
    case 'list_comprehension':
    case 'set_comprehension':
      // `",".join(str(i) for i in ids)`: each element is the body, its loop variable an element of the iterable
      return combine([n.childForFieldName('body') ?? n]);
    case 'boolean_operator':
      // `keys = hook.list_keys(…) or []`: either side
      return combine([n.childForFieldName('left')!, n.childForFieldName('right')!]);
    case 'dictionary':
      // `{**DEFAULTS, **dag_run.conf}`: what is spread in is in the dict
      return combine(n.namedChildren.map((p) => p.childForFieldName('value') ?? (p.type === 'dictionary_splat' ? (p.namedChildren[0] ?? p) : p)));
    case 'subscript': {
      const value = n.childForFieldName('value')!;
      const q = ctx.qualifiedName(value);
      if (q === 'os.environ') return mk('config');
      const v = unwrap(value);
      if (v.type === 'identifier') {
        // `context["ds"]` of a `**context` parameter: Airflow's own run metadata
        const key = stringValue(n.childForFieldName('subscript'));
        const b = key !== null && SAFE_CONTEXT_VARS.has(key) ? binderOf(v) : null;
        if (b?.kind === 'param' && b.prm.type === 'dictionary_splat_pattern') return mk('safe');
      }
      return provenance(value, ctx, depth + 1);
    }
    case 'attribute': {
      const q = ctx.qualifiedName(n);
      if (q && (q.startsWith('os.environ') || CONFIG_CALLS.has(q))) return mk('config');
      const obj = n.childForFieldName('object')!;
      const attr = n.childForFieldName('attribute')!.text;
      if (SAFE_METHODS.has(attr)) return mk('safe');
      const o = unwrap(obj);
      if (o.type === 'identifier' && ctx.imports.has(o.text)) return mk('deployment'); // module constant
      if (o.type === 'identifier' && o.text === 'self') {
        // `self.table`: every value the class stores there (`self.table = conf["table"]` in `__init__`, whose
        // parameters are judged where the class is called), or its class attribute
        const stored = selfAttributeValues(n, attr);
        if (stored?.length) return { ...combine(stored), node: n };
      }
      if (COMBINING_METHODS.has(attr)) return provenance(obj, ctx, depth + 1);
      const p = provenance(obj, ctx, depth + 1);
      // attribute of a connection/Variable object is config; of a task-context object is user
      return p.trust === 'safe' || p.trust === 'deployment' ? mk('unknown') : { ...p, node: n };
    }
    case 'call': {
      const q = ctx.callee(n) ?? '';
      const args = callArgs(n);
      // `f(*parts)`, `tmpl.format(**conf)`: what is spread is passed too
      const argNodes = [...args.positional, ...args.keywords.values(), ...(args.hasSplat ? spreadValues(n) : [])];
      if (SANITIZERS.has(q)) return mk('safe');
      if (CONFIG_CALLS.has(q) || /(^|\.)Variable\.get$/.test(q) || /\.get_connection$/.test(q)) return mk('config');
      if (/(^|\.)xcom_pull$/.test(q) || /\.xcom_pull$/.test(n.childForFieldName('function')?.text ?? '')) return mk('xcom');
      if (COMBINERS.has(q)) return combine(argNodes);
      const f = n.childForFieldName('function')!;
      if (isExternalSource(q, f, ctx)) return mk('external');
      if (f.type === 'attribute') {
        const attr = f.childForFieldName('attribute')!.text;
        const obj = f.childForFieldName('object')!;
        if (SAFE_METHODS.has(attr)) return mk('safe');
        if (attr === 'get' || attr === 'getenv') {
          const oq = ctx.qualifiedName(obj);
          if (oq === 'os.environ') return mk('config');
          const po = provenance(obj, ctx, depth + 1);
          if (po.trust !== 'safe' && po.trust !== 'deployment') return { ...po, node: n };
          // `CONFIG.get("sources", [])` of a document the file loaded (from a file committed with it): its data;
          // else `.get` on a module or client may fetch anything (`requests.get`)
          if (isLoadedDocument(obj, ctx)) return combine([obj, ...argNodes]);
          return mk('unknown');
        }
        // `TEMPLATE.format(**locals())`: the names the template's fields ask for (commandParts follows them)
        if (attr === 'format' && args.hasSplat) {
          const parts = commandParts(n);
          if (parts.literals.length) return combine(parts.values);
        }
        if (COMBINING_METHODS.has(attr)) return combine([obj, ...argNodes]);
      }
      // a helper of this file that builds and returns a value from its parameters: `build_cmd(conf["path"])`
      if (f.type === 'identifier') {
        const h = helperResult(n, f.text, ctx, depth);
        if (h) return h;
      }
      // `req.command()` with `req = RestartRequest(conf)`, a class of this file: what the method returns
      if (f.type === 'attribute') {
        const m = methodOfInstance(f, ctx);
        const returns = m ? returnedValues(m) : [];
        if (returns.length) return { ...combine(returns), node: n };
      }
      // `resp.json()`, `obj.get()["Body"].read()`: what a method of fetched data returns is fetched data
      if (f.type === 'attribute' && provenance(f.childForFieldName('object')!, ctx, depth + 1).trust === 'external') return mk('external');
      return mk('unknown');
    }
    case 'integer':
    case 'float':
    case 'true':
    case 'false':
    case 'none':
      return mk('safe');
    default:
      return mk('unknown');
  }
}

/** The expressions a call spreads (`*parts`, `**conf`). */
function spreadValues(call: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (const a of call.childForFieldName('arguments')?.namedChildren ?? []) {
    if ((a.type === 'list_splat' || a.type === 'dictionary_splat') && a.namedChildren[0]) out.push(a.namedChildren[0]);
  }
  return out;
}

/**
 * What flows into a value computed by code this file does not show: the arguments of a call of a function or class
 * defined elsewhere (`build_query(conf["table"])` imported from `common.sql`), and the object whose method is called
 * (`window.delete_sql()` with `window = BackfillWindow(table=conf["table"])`). The worst of them when it comes from
 * outside (trigger input, another task, fetched data), else null. For a SQL
 * statement built whole by such code, that input is what it may have formatted in. Functions and classes of this file
 * are not unseen: `provenance` follows what they return.
 */
export function inputToUnseenCode(node: SyntaxNode, ctx: RuleContext, depth = 0): Provenance | null {
  const n = unwrap(node);
  const f = n.type === 'call' ? n.childForFieldName('function') : null;
  if (!f) return null;
  const args = callArgs(n);
  const inputs = [...args.positional, ...args.keywords.values()];
  if (f.type === 'attribute') {
    if (methodOfInstance(f, ctx)) return null;
    inputs.push(f.childForFieldName('object')!);
  } else if (f.type !== 'identifier' || visibleFunction(n, f.text)) {
    return null;
  }
  let out: Provenance | null = null;
  for (const a of inputs) {
    const p = provenance(a, ctx);
    // `Spec(table=conf["t"]).sql()`, `spec.sql()` with `spec = Spec(conf["t"])`: an object made by unseen code
    const made = p.trust === 'unknown' && depth < 3 ? (unwrap(a).type === 'identifier' ? resolveName(unwrap(a)) : [p.node]) : [];
    for (const o of [p.trust === 'user' || OUTSIDE.has(p.trust) ? p : p.also, ...made.map((m) => inputToUnseenCode(m, ctx, depth + 1))]) {
      // a task parameter the file does not show is too weak a lead here: `table.select()` of a SQLAlchemy table
      // handed to a helper is a query object, not text
      if (o && o.trust !== 'param' && (!out || RANK[o.trust] > RANK[out.trust])) out = o;
    }
  }
  return out;
}

/**
 * Severity of a command or query built by Python formatting (DG204, DG250), by origin of the worst formatted value. "Unknown" (a helper's parameter, a value computed elsewhere) was 100 of
 * 131 findings on real repositories and almost all noise: it stays visible at `info` (below the default `--fail-on`).
 * Variables, Connections and environment values are edited by Airflow admins, not by whoever triggers a DAG: `low`.
 * A task parameter whose value the file does not show: `medium`, like the XCom it usually carries.
 */
export const FORMATTED_SEVERITY: Record<Trust, Severity | null> = {
  user: 'high',
  xcom: 'medium',
  external: 'medium',
  param: 'medium',
  config: 'info',
  unknown: 'info',
  deployment: null,
  safe: null,
};

/** The value that decides the finding: the one with the highest severity (ties: the riskier origin). */
export function decisiveFormattedValue(values: SyntaxNode[], ctx: RuleContext): Provenance | null {
  let best: Provenance | null = null;
  const parts = values.flatMap((v) => {
    const whole = provenance(v, ctx);
    return whole.also ? [whole, whole.also] : [whole];
  });
  for (const p of parts) {
    const sev = FORMATTED_SEVERITY[p.trust];
    if (!sev) continue;
    if (!best) {
      best = p;
      continue;
    }
    const d = severityRank(sev) - severityRank(FORMATTED_SEVERITY[best.trust]!);
    if (d > 0 || (d === 0 && atLeast(p.trust, best.trust) && p.trust !== best.trust)) best = p;
  }
  return best;
}
