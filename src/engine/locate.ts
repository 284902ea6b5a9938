/**
 * Text first, tree second. A query or a full-tree walk visits every node of every file, and that walk alone costs
 * a third of the parse (bench/README.md); the things rules look for are rare. So the engine finds candidates in
 * the raw text with one regular expression each (tens of MB/s), then asks the tree what is at each offset
 * (`descendantForIndex`) and keeps only the real ones: a name followed by `(` inside a string or a comment is
 * not a call, and a `# nosec` inside a string is not a comment.
 */
import type { SyntaxNode } from 'tree-sitter';

/**
 * Every `import` word of the text (not part of a longer name). Each import statement has exactly one — `import x`,
 * `from m import x`, `from __future__ import x` — so this finds them all, plus the word in strings and comments.
 * `indexOf` is several times faster than a line-anchored regex.
 */
export function importWords(text: string): number[] {
  const out: number[] = [];
  for (let i = text.indexOf('import'); i >= 0; i = text.indexOf('import', i + 6)) {
    if (isNameChar(text.charCodeAt(i - 1)) || isNameChar(text.charCodeAt(i + 6))) continue;
    out.push(i);
  }
  return out;
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c >= 128;
}

/** The import statements of a file, in document order. */
export function findImports(text: string, root: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (const i of importWords(text)) {
    // The smallest node spanning the keyword and the next token is the statement (`import x`, `from m import (x)`);
    // in a string or comment it is that string or comment. (Cheaper than the keyword's `.parent`: see callAt.)
    let j = i + 6;
    for (let c = text.charCodeAt(j); c === 32 || c === 9 || c === 92 || c === 13 || c === 10 || c === 12; c = text.charCodeAt(++j));
    if (j >= text.length) continue;
    const stmt = root.descendantForIndex(i, j + 1);
    const t = stmt.type;
    if (t === 'import_statement' || t === 'import_from_statement' || t === 'future_import_statement') out.push(stmt);
  }
  return out;
}

/** A `#` followed, on the same line, by a suppression keyword. */
export const SUPPRESSION_CANDIDATE = /#[^\n]*?(?:nosec|NOSEC|dag-guard|noqa)/;

/** Does the text contain a suppression keyword at all? (`indexOf` is far cheaper than the regex on the many files without.) */
export function hasSuppressionWord(text: string): boolean {
  return text.includes('noqa') || text.includes('nosec') || text.includes('NOSEC') || text.includes('dag-guard');
}

/** Comments that may hold a suppression (`# dag-guard: ignore[…]`, `# nosec`, `# noqa`). */
export function findSuppressionComments(text: string, tree: () => SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  if (!hasSuppressionWord(text)) return out;
  const re = new RegExp(SUPPRESSION_CANDIDATE.source, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const node = tree().descendantForIndex(m.index, m.index + 1);
    if (node.type === 'comment' && node.startIndex === m.index) {
      out.push(node);
      re.lastIndex = node.endIndex;
    } else {
      // A `#` inside a string: a real comment may still follow on the same line.
      re.lastIndex = m.index + 1;
    }
  }
  return out;
}

/**
 * Each name of `names` (or of `extra`), or starting with one of `prefixes`, where it is followed by `(` (whitespace and `\`
 * line continuations allowed between): `[{index, name}]`, in text order. Found from each `(` backwards with a set
 * lookup, which is several times faster than a regex alternation of the names rules subscribe to. `paren`: the `(`.
 */
export function findCallNames(text: string, names: ReadonlySet<string>, prefixes: readonly string[] = [], extra?: ReadonlySet<string>): { index: number; name: string; paren: number }[] {
  const out: { index: number; name: string; paren: number }[] = [];
  for (let i = text.indexOf('('); i >= 0; i = text.indexOf('(', i + 1)) {
    let j = i - 1;
    for (let c = text.charCodeAt(j); c === 32 || (c >= 9 && c <= 13) || c === 92; c = text.charCodeAt(--j));
    const end = j + 1;
    for (let c = text.charCodeAt(j); (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c >= 128; c = text.charCodeAt(--j));
    if (end === j + 1) continue;
    const name = text.slice(j + 1, end);
    if (names.has(name) || extra?.has(name) || (prefixes.length && prefixes.some((p) => name.startsWith(p)))) out.push({ index: j + 1, name, paren: i });
  }
  return out;
}

/**
 * The call whose callee ends with the identifier at [start, end) of the text, `paren` being the offset of the `(`
 * that follows it, or null when that identifier is not a callee (it is in a string or comment, or is an argument).
 * Returns the call and its function node. The smallest node spanning the name and that `(` is the call itself,
 * found without `.parent` (which tree-sitter answers by descending from the root again, the dearest node access).
 */
export function callAt(root: SyntaxNode, start: number, end: number, paren: number): { call: SyntaxNode; fn: SyntaxNode } | null {
  const call = root.descendantForIndex(start, paren + 1);
  if (call.type !== 'call') return null;
  const fn = call.childForFieldName('function');
  if (!fn || fn.endIndex !== end) return null;
  if (fn.type === 'identifier') return fn.startIndex === start ? { call, fn } : null;
  if (fn.type !== 'attribute') return null;
  const attr = fn.childForFieldName('attribute');
  return attr && attr.startIndex === start ? { call, fn } : null;
}

/**
 * Every node of one of `types` that encloses [start, end), innermost first, up to and including the statement
 * that holds it (a trigger inside a function body does not anchor the whole `def`).
 */
export function enclosingOfTypes(root: SyntaxNode, start: number, end: number, types: Set<string>): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const any = types.has('_');
  let n: SyntaxNode | null = root.descendantForIndex(start, end);
  while (n && n.type !== 'module' && n.type !== 'block') {
    if (any ? n.isNamed : types.has(n.type)) out.push(n);
    const p: SyntaxNode | null = n.parent;
    if (p && (p.type === 'block' || p.type === 'module')) break;
    n = p;
  }
  return out;
}

/**
 * The uses of the name `value` is bound to (`name = value`) after that assignment, found in the text and confirmed
 * in the tree: identifiers spelled like the name (not attributes of something else). Empty when `value` is not the
 * right-hand side of an assignment to a plain name.
 */
export function laterUsesOfBinding(value: SyntaxNode, text: string, root: SyntaxNode): SyntaxNode[] {
  const a = value.parent;
  if (a?.type !== 'assignment' || a.childForFieldName('right')?.id !== value.id) return [];
  const name = a.childForFieldName('left');
  if (name?.type !== 'identifier') return [];
  const uses: SyntaxNode[] = [];
  const re = new RegExp(`(?<![\\w.])${name.text}(?!\\w)`, 'g');
  re.lastIndex = a.endIndex;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const id = root.descendantForIndex(m.index, m.index + name.text.length);
    if (id.type === 'identifier' && id.startIndex === m.index) uses.push(id);
  }
  return uses;
}
