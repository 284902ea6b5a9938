/**
 * Cheaper `type` and `startIndex` on tree-sitter nodes. In node-tree-sitter 0.22 every node property is a call into
 * C++ (marshal the node, call, unmarshal), and rules ask `.type` and `.startIndex` of every candidate node several
 * times. Both answers are already on the JavaScript side: each named node type has its own class (built from the
 * grammar's node-types.json), and the node's start byte is one of the six numbers the binding copies into the node
 * object (`context[0]` of the C `TSNode`; bytes of UTF-16, so twice the string index).
 *
 * That layout is the binding's, not a public API: `installFastNodeAccessors` checks on a sample tree that the fast
 * answers equal the native ones for every node, and leaves the binding untouched if anything differs.
 */
import Parser = require('tree-sitter');

type AnyNode = Parser.SyntaxNode & Record<number, number>;

const SAMPLE = [
  '# comment',
  'import os, sys as s',
  'from a.b import (c as d, e)',
  '@task.bash',
  'def f(x: int = 1, *a, **k) -> str:',
  '    """doc"""',
  '    return f"{x!r:>3}" + "é" * 2',
  'class C(B):',
  '    y = lambda z: z[1:2] if z else None',
  'with DAG("d") as dag, open(p) as fh:',
  '    t = BashOperator(task_id="t", bash_command="echo {{ params.x }}")',
  'x = [i async for i in g()] ; del x',
  'if __name__ == "__main__": print(1)',
  'y = (1,',
  '',
].join('\n');

let installed: boolean | null = null;

export function installFastNodeAccessors(parser: Parser): boolean {
  if (installed !== null) return installed;
  installed = false;
  const lang = parser.getLanguage() as unknown as { nodeSubclasses?: (new (...a: unknown[]) => unknown)[] };
  const subclasses = lang.nodeSubclasses;
  const base = (Parser as unknown as { SyntaxNode: { prototype: object } }).SyntaxNode?.prototype;
  if (!subclasses || !base) return false;
  const nativeType = Object.getOwnPropertyDescriptor(base, 'type')?.get;
  const nativeStart = Object.getOwnPropertyDescriptor(base, 'startIndex')?.get;
  if (!nativeType || !nativeStart) return false;

  // Learn each subclass's type name from a node of that class, then verify everything on the sample.
  const names = new Map<unknown, string>();
  const tree = parser.parse(SAMPLE);
  const all: AnyNode[] = [];
  const stack: Parser.SyntaxNode[] = [tree.rootNode];
  while (stack.length) {
    const n = stack.pop()!;
    all.push(n as AnyNode);
    for (const c of n.children) stack.push(c);
  }
  for (const n of all) {
    const cls = n.constructor;
    if (cls === (Parser as unknown as { SyntaxNode: unknown }).SyntaxNode) continue;
    const t = nativeType.call(n) as string;
    if (names.has(cls) && names.get(cls) !== t) return false; // one class, two names: the layout is not what we think
    names.set(cls, t);
  }
  // Classes of types that do not occur in the sample get their name the same way, lazily, on first use.
  const patched: [object, PropertyDescriptor | undefined][] = [];
  const seen = new Set<unknown>();
  for (const cls of subclasses) {
    if (!cls || seen.has(cls) || cls === (Parser as unknown as { SyntaxNode: unknown }).SyntaxNode) continue;
    seen.add(cls);
    const proto = cls.prototype as object;
    let name = names.get(cls);
    patched.push([proto, Object.getOwnPropertyDescriptor(proto, 'type')]);
    Object.defineProperty(proto, 'type', {
      configurable: true,
      get(this: Parser.SyntaxNode) {
        if (name === undefined) name = nativeType.call(this) as string;
        return name;
      },
    });
  }
  const startDesc = Object.getOwnPropertyDescriptor(base, 'startIndex');
  Object.defineProperty(base, 'startIndex', {
    configurable: true,
    get(this: AnyNode) {
      return this[2] >>> 1;
    },
  });
  const ok = all.every((n) => n.type === nativeType.call(n) && n.startIndex === nativeStart.call(n));
  if (!ok) {
    for (const [proto, d] of patched) {
      if (d) Object.defineProperty(proto, 'type', d);
      else delete (proto as Record<string, unknown>).type;
    }
    Object.defineProperty(base, 'startIndex', startDesc!);
    return false;
  }
  installed = true;
  return true;
}

/**
 * Turn off the binding's node cache. node-tree-sitter 0.22 registers every node object it hands out in a per-tree
 * C++ map, through a weak reference with a finalizer, so that asking for the same node twice returns the same object.
 * Those finalizers are most of what the garbage collector does in a check (≈ 10 % of the CPU on the real-repository
 * corpus, and more with two workers, where the collector's helper threads no longer have a core to themselves).
 * Nothing here relies on node identity: memos key nodes by position or `id`, or tolerate a miss. Without the cache
 * the binding copies the node's six numbers into a new object each time, which is what it does on a miss anyway.
 */
export function disableNodeCache(): boolean {
  const proto = (Parser as unknown as { Tree?: { prototype: Record<string, unknown> } }).Tree?.prototype;
  if (!proto || typeof proto._cacheNode !== 'function' || typeof proto._cacheNodes !== 'function') return false;
  proto._cacheNode = function cacheNothing(): void {};
  proto._cacheNodes = function cacheNothing(): void {};
  return true;
}
