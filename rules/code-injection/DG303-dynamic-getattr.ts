import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { appliedTo, argument, callArgs, stringValue, unwrap } from '../../src/engine/python';
import { atLeast } from '../../src/airflow/trust';
import { provenance, resolveName, singleBinding, type Provenance } from '../../src/airflow/provenance';
import type { ImportRecord } from '../../src/engine/imports';
import type { RuleContext } from '../../src/engine/context';
import { laterUsesOfBinding } from '../../src/engine/locate';
import { originWords, snippet } from '../shell-injection/_util';
import { taintSeverity } from './_util';

/** Modules whose attributes include ways to run code or commands. */
const DANGEROUS = new Set([
  'builtins', '__builtins__', 'os', 'posix', 'nt', 'subprocess', 'sys', 'importlib', 'shutil', 'pty', 'socket',
  'ctypes', 'pickle', 'marshal', 'code', 'runpy', 'types', 'commands', 'platform', 'asyncio.subprocess', 'io', 'operator',
]);

interface ModuleRef {
  name: string;
  dangerous: boolean;
  /** For a module imported by a computed name (`importlib.import_module(cfg["module"])`): that name's origin. */
  imported?: Provenance;
}

/** Is this expression a module: `import x` binding, a dangerous module name, or `importlib.import_module(…)`? */
/** `sys.modules[__name__]`: the module of this file (every function and import it holds), written in place. */
const THIS_MODULE = /^sys\s*\.\s*modules\s*\[\s*__name__\s*\]$/;

function moduleOf(node: SyntaxNode, ctx: RuleContext, depth = 0): ModuleRef | null {
  const n = unwrap(node);
  if (n.type === 'identifier' && n.text === '__builtins__') return { name: 'builtins', dangerous: true };
  // `module = sys.modules[__name__]` then `getattr(module, name)`: any function or module the file holds
  if (THIS_MODULE.test(n.text) && ctx.imports.get('sys') === 'sys') return { name: 'sys.modules[__name__]', dangerous: false };
  if (n.type === 'identifier' && depth === 0) {
    const b = singleBinding(n);
    if (b && THIS_MODULE.test(b.text)) return moduleOf(b, ctx, depth + 1);
  }
  const q = ctx.qualifiedName(n);
  if (q && DANGEROUS.has(q)) return { name: q, dangerous: true };
  if (n.type === 'identifier') {
    let rec: ImportRecord | undefined;
    for (const r of ctx.importList) if (r.local === n.text) rec = r; // the last binding wins
    if (rec && rec.kind === 'import') return { name: rec.qualified, dangerous: false };
  }
  if (n.type === 'attribute' && q && ctx.importList.some((r) => r.qualified === q && r.kind === 'import')) {
    return { name: q, dangerous: false };
  }
  if (n.type === 'call') {
    const f = ctx.callee(n);
    if (f === 'importlib.import_module' || f === '__import__' || f === 'builtins.__import__') {
      const arg = argument(callArgs(n), 'name', 0);
      return { name: n.text, dangerous: false, imported: arg ? provenance(arg, ctx) : undefined };
    }
  }
  return null;
}


export default defineRule({
  meta: {
    id: 'DG303',
    name: 'dynamic-getattr',
    category: 'code-injection',
    severity: 'medium',
    message: 'attribute of `{module}` {what} {origin} (`{value}`)',
    aliases: [],
    docs: {
      what:
        'Finds `getattr(module, name)` (also spelled `operator.methodcaller(name, …)(module)` or `operator.attrgetter(name)(module)`) and `module.__dict__[name]` / `vars(module)[name]` / `__builtins__[name]` lookups whose name is not constant, on a module (on the dangerous modules, also names assembled from constants such as `"".join(["ev", "al"])` or `"sys" + "tem"`, written in place or bound to a name first): `builtins`, `os`, `subprocess`, `sys`, `importlib`, `pickle`, `pty`, `socket`, `ctypes`… (always *high*), or any other module bound by `import x` or returned by `importlib.import_module(…)`. On those ordinary modules the severity follows the name\'s origin (or the imported module name\'s, if worse): *high* for `dag_run.conf` or params (also through a task argument), *medium* for another task\'s output (XCom) or a task function\'s parameter that no call site in the file shows, *low* for a Variable, an environment value or an origin the file does not show (`getattr(sqlalchemy.types, type_name)`, `getattr(requests, method)` in a helper). `getattr` on ordinary objects is not reported, nor names from a loop over constants.',
      why:
        '`getattr(builtins, name)` or `getattr(os, name)` with a computed name reaches `eval`, `exec`, `system` or `popen` without the word appearing in the file: it is how obfuscated payloads evade greps and linters, and how input picks which function to call. DAG factories that map YAML strings to operator classes this way let whoever edits the YAML call any function of the module.',
      example: '```python\nimport builtins\nrunner = getattr(builtins, "".join(["ex", "ec"]))\nrunner(PAYLOAD)\n\nop_class = getattr(importlib.import_module(cfg["module"]), cfg["class"])\n```',
      useInstead:
        '```python\nfrom airflow.operators.bash import BashOperator\nfrom airflow.operators.python import PythonOperator\nOPERATORS = {"bash": BashOperator, "python": PythonOperator}\nop_class = OPERATORS[cfg["type"]]  # explicit allow list\n```',
    },
  },
  calls: ['builtins.getattr', 'operator.methodcaller', 'operator.attrgetter'],
  onCall(call, fn, ctx) {
    if (fn === 'getattr' || fn === 'builtins.getattr') {
      const [base, name] = callArgs(call).positional;
      check(call, base, name, ctx);
      return;
    }
    // `operator.methodcaller(name, …)(os)` / `attrgetter(name)(os)` is `getattr(os, name)` spelled without the word;
    // applied in place or through the name it is bound to
    const name = callArgs(call).positional[0];
    for (const getter of [call, ...laterUsesOfBinding(call, ctx.file.text, ctx.root)]) {
      const applied = getter.parent;
      if (applied?.type !== 'call' || applied.childForFieldName('function')?.id !== getter.id) continue;
      check(applied, appliedTo(applied), name, ctx);
    }
  },
  // … also through a name bound to the namespace first (`b = __builtins__ if … else __builtins__.__dict__`, then
  // `b["ev" + "al"](…)`)
  // (two top-level patterns: tree-sitter does not apply a predicate inside one branch of an alternation)
  query: `(subscript value: [(identifier) (attribute)] @v (#match? @v "(__builtins__|__dict__)$")) @sub
    (subscript value: (call function: (identifier) @vars (#eq? @vars "vars")) @v) @sub
    (assignment left: (identifier) @alias right: (_) @rhs (#match? @rhs "(__builtins__|__dict__)"))`,
  keywords: ['__builtins__', '__dict__', 'vars'],
  onMatch(c, ctx) {
    if (c.rhs) {
      const mod = namespaceIn(c.rhs[0], ctx);
      if (!mod) return;
      for (const use of laterUsesOfBinding(c.rhs[0], ctx.file.text, ctx.root)) {
        const sub = use.parent;
        if (sub?.type !== 'subscript' || sub.childForFieldName('value')?.id !== use.id) continue;
        const name = sub.namedChildren.find((x, i) => i > 0 && x.type !== 'comment');
        check(sub, use, name, ctx, mod);
      }
      return;
    }
    const at = c.sub[0];
    const v = unwrap(c.v[0]);
    // `vars(builtins)[name]` is `builtins.__dict__[name]`
    const viaVars = c.vars ? callArgs(v).positional[0] : undefined;
    if (c.vars && !viaVars) return;
    const base = viaVars ?? (v.type === 'attribute' && v.childForFieldName('attribute')?.text === '__dict__' ? v.childForFieldName('object')! : v);
    // `mod.__dict__[k] = v` / `__builtins__[k] = v` writes: still a computed binding, report as well
    const name = at.namedChildren.find((x, i) => i > 0 && x.type !== 'comment');
    check(at, base, name, ctx);
  },
});

/** The dangerous namespace an expression holds: `__builtins__`, `builtins.__dict__`, `os.__dict__`… (any branch). */
function namespaceIn(expr: SyntaxNode, ctx: RuleContext): ModuleRef | null {
  for (const id of expr.descendantsOfType('identifier')) if (id.text === '__builtins__') return { name: 'builtins', dangerous: true };
  for (const a of expr.descendantsOfType('attribute')) {
    if (a.childForFieldName('attribute')?.text !== '__dict__') continue;
    const m = moduleOf(a.childForFieldName('object')!, ctx);
    if (m?.dangerous) return m;
  }
  return null;
}

function check(at: SyntaxNode, base: SyntaxNode | undefined, name: SyntaxNode | undefined, ctx: RuleContext, known?: ModuleRef): void {
  if (!base || !name) return;
  const mod = known ?? moduleOf(base, ctx);
  if (!mod) return;
  const p = provenance(name, ctx);
  const nu = unwrap(name);
  // on a dangerous module, a name assembled from constants ("".join(["ex", "ec"])) is obfuscation
  // — also through a name bound to it (`_FN = "".join([…])`, then `getattr(builtins, _FN)`)
  // (`"sys" + "tem"` too: the name is split so that no search finds it)
  const assembled = mod.dangerous && (nu.type === 'identifier' ? assembledName(nu) : nu.type !== 'string' && nu.type !== 'attribute' && (stringValue(nu) === null || ASSEMBLING.test(nu.type)));
  if (!atLeast(p.trust, 'config') && !assembled) return;
  // a module imported by a name more tainted than the attribute's: that name decides (and is the one shown)
  const decisive = mod.imported && atLeast(mod.imported.trust, p.trust) && mod.imported.trust !== p.trust ? mod.imported : p;
  const origin = atLeast(decisive.trust, 'config') ? originWords(decisive.trust) : 'an expression assembled at run time';
  const what = decisive === p ? 'looked up by a computed name from' : 'looked up by a computed name, on a module named by';
  ctx.report(
    at,
    {
      module: mod.name.length > 40 ? mod.name.slice(0, 37) + '…' : mod.name,
      what,
      origin,
      value: snippet(atLeast(decisive.trust, 'config') ? decisive.node : nu),
    },
    // ordinary modules (`getattr(sqlalchemy.types, type_name)`, `getattr(requests, method)`): low unless the
    // name — or the name of the module, when it is imported by a computed name — is tainted
    { severity: mod.dangerous ? 'high' : taintSeverity(decisive.trust) },
  );
}

/** Expressions that assemble a string (a call such as `"".join(…)`, `+`, `%`, a subscript of a table, implicit concatenation). */
const ASSEMBLING = /^(call|binary_operator|subscript|concatenated_string)$/;

/** A name whose assignments build a string from constants rather than write it (`"".join([…])`, `"ev" + "al"`). */
function assembledName(id: SyntaxNode): boolean {
  return resolveName(id).some((d) => {
    const v = unwrap(d);
    return ASSEMBLING.test(v.type);
  });
}
