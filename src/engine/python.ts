/** Small, allocation-light helpers over tree-sitter-python nodes, shared by every rule. */
import type { SyntaxNode } from 'tree-sitter';

const SIMPLE_CONSTANTS = new Set(['integer', 'float', 'true', 'false', 'none', 'ellipsis']);

/** `f"..."` or any string with `{...}` interpolation. */
export function isFString(node: SyntaxNode): boolean {
  if (node.type !== 'string') return false;
  const start = node.firstChild;
  if (start && /f/i.test(start.text)) return true;
  return node.namedChildren.some((c) => c.type === 'interpolation');
}

/** Strips parentheses: `((x))` -> `x`. */
export function unwrap(node: SyntaxNode): SyntaxNode {
  let n = node;
  while (n.type === 'parenthesized_expression' && n.namedChildCount === 1) n = n.namedChildren[0];
  return n;
}

/**
 * Value of a compile-time constant string: plain literals, implicit concatenation and `+` of constants.
 * Escape sequences are kept as written (good enough for matching; never executed).
 * Returns null for anything that is not fully constant (f-strings with interpolation, names, calls...).
 */
export function stringValue(node: SyntaxNode | null | undefined): string | null {
  if (!node) return null;
  const n = unwrap(node);
  switch (n.type) {
    case 'string': {
      let out = '';
      for (const c of n.namedChildren) {
        if (c.type === 'interpolation') return null;
        if (c.type === 'string_content' || c.type === 'escape_sequence') out += c.text;
      }
      return out;
    }
    case 'concatenated_string': {
      let out = '';
      for (const c of n.namedChildren) {
        const v = stringValue(c);
        if (v === null) return null;
        out += v;
      }
      return out;
    }
    case 'binary_operator': {
      if (n.childForFieldName('operator')?.type !== '+') return null;
      const l = stringValue(n.childForFieldName('left'));
      if (l === null) return null;
      const r = stringValue(n.childForFieldName('right'));
      return r === null ? null : l + r;
    }
    case 'call': {
      // `"".join(["Pr0d", "_Sec", "ret"])`: pieces of constants joined in place are as constant as one literal
      const f = n.childForFieldName('function');
      if (f?.type !== 'attribute' || f.childForFieldName('attribute')?.text !== 'join') return null;
      const sep = stringValue(f.childForFieldName('object'));
      const args = n.childForFieldName('arguments')?.namedChildren.filter((x) => x.type !== 'comment') ?? [];
      const seq = args.length === 1 ? unwrap(args[0]) : null;
      if (sep === null || !seq || (seq.type !== 'list' && seq.type !== 'tuple')) return null;
      const parts: string[] = [];
      for (const x of seq.namedChildren) {
        if (x.type === 'comment') continue;
        const v = stringValue(x);
        if (v === null) return null;
        parts.push(v);
      }
      return parts.join(sep);
    }
    default:
      return null;
  }
}

/** The literal text of a string node's content, including interpolations as written (for template checks). */
export function stringTemplateText(node: SyntaxNode): string {
  const n = unwrap(node);
  if (n.type === 'string') {
    let out = '';
    for (const c of n.namedChildren) {
      if (c.type === 'string_content' || c.type === 'escape_sequence' || c.type === 'interpolation') out += c.text;
    }
    return out;
  }
  if (n.type === 'concatenated_string') return n.namedChildren.map(stringTemplateText).join('');
  return n.text;
}

/** True for values fixed at write time: literals, and lists/tuples/sets/dicts made only of literals. */
export function isConstant(node: SyntaxNode | null | undefined): boolean {
  if (!node) return false;
  const n = unwrap(node);
  if (SIMPLE_CONSTANTS.has(n.type)) return true;
  if (n.type === 'unary_operator') return isConstant(n.childForFieldName('argument'));
  if (n.type === 'string' || n.type === 'concatenated_string' || n.type === 'binary_operator') return stringValue(n) !== null;
  if (n.type === 'list' || n.type === 'tuple' || n.type === 'set') return n.namedChildren.every(isConstant);
  if (n.type === 'dictionary') {
    return n.namedChildren.every(
      (p) => p.type === 'pair' && isConstant(p.childForFieldName('key')) && isConstant(p.childForFieldName('value')),
    );
  }
  return false;
}

/** `a.b.c` for identifier/attribute chains, else null. */
export function dottedName(node: SyntaxNode | null | undefined): string | null {
  if (!node) return null;
  const n = unwrap(node);
  if (n.type === 'identifier') return n.text;
  if (n.type === 'attribute') {
    const obj = dottedName(n.childForFieldName('object'));
    const attr = n.childForFieldName('attribute');
    return obj && attr ? `${obj}.${attr.text}` : null;
  }
  if (n.type === 'dotted_name') return n.text;
  return null;
}

export interface CallArgs {
  positional: SyntaxNode[];
  keywords: Map<string, SyntaxNode>;
  /** `*args` / `**kwargs` present: an unseen keyword may be passed. */
  hasSplat: boolean;
}

export function callArgs(call: SyntaxNode): CallArgs {
  // `operator.methodcaller("system", cmd)(os)` calls `os.system(cmd)`: its arguments are the ones after the method
  // name, not the object it is applied to (`appliedTo` gives that)
  const f = call.childForFieldName('function');
  if (f?.type === 'call' && METHODCALLER.test(f.childForFieldName('function')?.text ?? '')) {
    const inner = syntacticArgs(f);
    return { positional: inner.positional.slice(1), keywords: inner.keywords, hasSplat: inner.hasSplat };
  }
  return syntacticArgs(call);
}

const METHODCALLER = /(?:^|\.)\s*methodcaller$/;

/** The object a `methodcaller(…)`/`attrgetter(…)` result is applied to: `os` in `methodcaller("system", c)(os)`. */
export function appliedTo(call: SyntaxNode): SyntaxNode | undefined {
  return syntacticArgs(call).positional[0];
}

function syntacticArgs(call: SyntaxNode): CallArgs {
  const positional: SyntaxNode[] = [];
  const keywords = new Map<string, SyntaxNode>();
  let hasSplat = false;
  const args = call.childForFieldName('arguments');
  if (args && args.type === 'argument_list') {
    for (const a of args.namedChildren) {
      if (a.type === 'keyword_argument') {
        const name = a.childForFieldName('name');
        const value = a.childForFieldName('value');
        if (name && value) keywords.set(name.text, value);
      } else if (a.type === 'dictionary_splat' && spreadKeywords(a, keywords)) {
        // `**{"shell": True}`: the keywords are as good as written out
      } else if (a.type === 'list_splat' || a.type === 'dictionary_splat') {
        hasSplat = true;
      } else if (a.type !== 'comment') {
        positional.push(a);
      }
    }
  } else if (args) {
    positional.push(args); // generator expression argument
  }
  return { positional, keywords, hasSplat };
}

/**
 * The pairs of a `**{...}` dict literal whose keys are all constant strings, added as keywords (an explicit keyword
 * of the same name is kept: Python refuses the duplicate anyway). False when the splat is anything else.
 */
function spreadKeywords(splat: SyntaxNode, keywords: Map<string, SyntaxNode>): boolean {
  const d = splat.namedChildren[0] && unwrap(splat.namedChildren[0]);
  if (d?.type !== 'dictionary') return false;
  const pairs: [string, SyntaxNode][] = [];
  for (const p of d.namedChildren) {
    if (p.type === 'comment') continue;
    const k = p.type === 'pair' ? p.childForFieldName('key') : null;
    const v = p.type === 'pair' ? p.childForFieldName('value') : null;
    const name = k ? stringValue(unwrap(k)) : null;
    if (name === null || !v) return false;
    pairs.push([name, v]);
  }
  for (const [name, v] of pairs) if (!keywords.has(name)) keywords.set(name, v);
  return true;
}

/** Argument given by keyword or at a position (for APIs like `subprocess.run(args, ..., shell=...)`). */
export function argument(args: CallArgs, keyword: string, position?: number): SyntaxNode | undefined {
  const kw = args.keywords.get(keyword);
  if (kw) return kw;
  return position === undefined ? undefined : args.positional[position];
}

export function isTruthyConstant(node: SyntaxNode | undefined): boolean {
  if (!node) return false;
  const n = unwrap(node);
  if (n.type === 'true') return true;
  if (n.type === 'integer') return Number(n.text) !== 0;
  if (n.type === 'false' || n.type === 'none') return false;
  const s = stringValue(n);
  if (s !== null) return s.length > 0;
  // A non-constant expression may be true: treat as truthy, the safer reading for shell=.
  return true;
}

/**
 * Where the text of one line, up to some offset, ends: in code, inside a quoted string, or in a `#` comment.
 * Text only (a line of a raw-text scan); triple quotes and strings continued from earlier lines are not tracked.
 */
export function lineContext(prefix: string): 'code' | 'string' | 'comment' {
  let quote: string | null = null;
  for (let i = 0; i < prefix.length; i++) {
    const ch = prefix[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') return 'comment';
  }
  return quote ? 'string' : 'code';
}
