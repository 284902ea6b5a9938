import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { callArgs, stringValue, unwrap } from '../../src/engine/python';
import { atLeast, provenance } from '../../src/engine/airflow';
import type { RuleContext } from '../../src/engine/context';
import { originWords, snippet } from './_util';

/** Modules whose attributes include ways to run code or commands. */
const DANGEROUS = new Set([
  'builtins', '__builtins__', 'os', 'posix', 'nt', 'subprocess', 'sys', 'importlib', 'shutil', 'pty', 'socket',
  'ctypes', 'pickle', 'marshal', 'code', 'runpy', 'types', 'commands', 'platform', 'asyncio.subprocess', 'io', 'operator',
]);

/** Is this expression a module: `import x` binding, a dangerous module name, or `importlib.import_module(…)`? */
function moduleOf(node: SyntaxNode, ctx: RuleContext): { name: string; dangerous: boolean } | null {
  const n = unwrap(node);
  if (n.type === 'identifier' && n.text === '__builtins__') return { name: 'builtins', dangerous: true };
  const q = ctx.qualifiedName(n);
  if (q && DANGEROUS.has(q)) return { name: q, dangerous: true };
  if (n.type === 'identifier') {
    const rec = [...ctx.importList].reverse().find((r) => r.local === n.text);
    if (rec && rec.node.parent?.type === 'import_statement') return { name: rec.qualified, dangerous: false };
  }
  if (n.type === 'attribute' && q && ctx.importList.some((r) => r.qualified === q && r.node.parent?.type === 'import_statement')) {
    return { name: q, dangerous: false };
  }
  if (n.type === 'call') {
    const f = ctx.callee(n);
    if (f === 'importlib.import_module' || f === '__import__' || f === 'builtins.__import__') return { name: n.text, dangerous: false };
    if (f === 'vars' || f === 'globals') return null;
  }
  return null;
}

/** Per-finding message template. */
const MSG = 'attribute of `{module}` looked up by a computed name from {origin} (`{value}`)';

export default defineRule({
  meta: {
    id: 'DG303',
    name: 'dynamic-getattr',
    category: 'code-injection',
    severity: 'medium',
    message: 'getattr/`__dict__` lookup on a module with a computed name',
    aliases: [],
    docs: {
      what:
        'Finds `getattr(module, name)` and `module.__dict__[name]` / `__builtins__[name]` lookups whose name is not constant, on a module (on the dangerous modules, also names assembled from constants such as `"".join(["ev", "al"])`): `builtins`, `os`, `subprocess`, `sys`, `importlib`, `pty`, `socket`, `ctypes`… (*high*), any other module bound by `import x` or returned by `importlib.import_module(…)` (*medium*; *low* when the name\'s origin is not visible, e.g. `getattr(requests, method)` in a helper). `getattr` on ordinary objects is not reported, nor names from a loop over constants.',
      why:
        '`getattr(builtins, name)` or `getattr(os, name)` with a computed name reaches `eval`, `exec`, `system` or `popen` without the word appearing in the file: it is how obfuscated payloads evade greps and linters, and how input picks which function to call. DAG factories that map YAML strings to operator classes this way let whoever edits the YAML call any function of the module.',
      example: '```python\nimport builtins\nrunner = getattr(builtins, "".join(["ex", "ec"]))\nrunner(PAYLOAD)\n\nop_class = getattr(importlib.import_module(cfg["module"]), cfg["class"])\n```',
      useInstead:
        '```python\nfrom airflow.operators.bash import BashOperator\nfrom airflow.operators.python import PythonOperator\nOPERATORS = {"bash": BashOperator, "python": PythonOperator}\nop_class = OPERATORS[cfg["type"]]  # explicit allow list\n```',
    },
  },
  query: `
(call function: (identifier) @g (#eq? @g "getattr") arguments: (argument_list)) @call
(subscript value: [(identifier) (attribute)] @v (#match? @v "(__builtins__|__dict__)$")) @sub
`,
  onMatch(c, ctx) {
    let base: SyntaxNode | undefined;
    let name: SyntaxNode | undefined;
    let at: SyntaxNode;
    if (c.call) {
      at = c.call[0];
      if (ctx.imports.has('getattr')) return;
      const a = callArgs(at);
      [base, name] = a.positional;
    } else {
      at = c.sub[0];
      const v = unwrap(c.v[0]);
      base = v.type === 'attribute' && v.childForFieldName('attribute')?.text === '__dict__' ? v.childForFieldName('object')! : v;
      name = at.namedChildren.find((x, i) => i > 0 && x.type !== 'comment');
      // `mod.__dict__[k] = v` / `__builtins__[k] = v` writes: still a computed binding, report as well
    }
    if (!base || !name) return;
    const mod = moduleOf(base, ctx);
    if (!mod) return;
    const p = provenance(name, ctx);
    const nu = unwrap(name);
    // on a dangerous module, a name assembled from constants ("".join(["ex", "ec"])) is obfuscation
    const assembled = mod.dangerous && stringValue(nu) === null && nu.type !== 'identifier' && nu.type !== 'attribute';
    if (!atLeast(p.trust, 'config') && !assembled) return;
    const origin = atLeast(p.trust, 'config') ? originWords(p.trust) : 'an expression assembled at run time';
    ctx.report(
      at,
      MSG.replace('{module}', mod.name.length > 40 ? mod.name.slice(0, 37) + '…' : mod.name).replace('{origin}', origin).replace('{value}', snippet(atLeast(p.trust, 'config') ? p.node : nu)),
      { severity: mod.dangerous || p.trust === 'user' ? 'high' : p.trust === 'unknown' ? 'low' : 'medium' },
    );
  },
});
