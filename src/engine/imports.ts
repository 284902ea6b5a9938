import type { SyntaxNode } from 'tree-sitter';
import { importWords } from './locate';

export interface ImportRecord {
  /** Fully qualified module or member imported, e.g. `os`, `subprocess.Popen`, `.helpers.x` (relative). */
  qualified: string;
  /** Name bound in the module namespace (`*` for wildcard). */
  local: string;
  /** What `local` refers to: `import a.b.c` imports `a.b.c` but binds `a` to module `a`. */
  target: string;
  /** The import statement. */
  stmt: SyntaxNode;
  /** `import x` or `from m import x` (also `from __future__ import x`). */
  kind: 'import' | 'from';
}

const NAME = /^[A-Za-z_\u00C0-\uFFFF][\w\u00C0-\uFFFF]*(?:\.[A-Za-z_\u00C0-\uFFFF][\w\u00C0-\uFFFF]*)*$/;

/**
 * Records what one import statement binds. Later bindings win, as in Python. Read from the statement's text
 * (one slice of the source) rather than node by node: import syntax is simple, and every file has dozens.
 */
export function importRecords(stmt: SyntaxNode): ImportRecord[] {
  return recordsOf(stmt.text, stmt.type, stmt);
}

type StatementType = 'import_statement' | 'import_from_statement' | 'future_import_statement';

/**
 * One statement's records from its text. `stmt` is only carried along: null for the text-only candidates of
 * `importAliasCandidates`, which never leave this module.
 */
function recordsOf(raw: string, type: string, stmtOrNull: SyntaxNode | null): ImportRecord[] {
  const stmt = stmtOrNull as SyntaxNode;
  const out: ImportRecord[] = [];
  // Comments, line continuations and the parentheses of `from m import (a, b)` carry no names. Most statements
  // have none of these: leave their text as it is.
  const text = /[#\\()\n\r\t]| {2}/.test(raw)
    ? raw.replace(/#[^\n]*/g, ' ').replace(/\\\r?\n/g, ' ').replace(/[()]/g, ' ').replace(/\s+/g, ' ').trim()
    : raw.trim();
  const norm = (s: string): string => (/\s/.test(s) ? s.replace(/\s*\.\s*/g, '.').trim() : s);
  if (type === 'import_statement') {
    for (const part of text.replace(/^import\s+/, '').split(',')) {
      const m = /^(.+?)(?:\s+as\s+(\S+))?$/.exec(part.trim());
      if (!m) continue;
      const name = norm(m[1]);
      if (!NAME.test(name)) continue;
      if (m[2]) out.push({ qualified: name, local: m[2], target: name, stmt, kind: 'import' });
      else {
        // `import a.b.c` binds `a`; attribute access then resolves through it.
        const first = name.split('.')[0];
        out.push({ qualified: name, local: first, target: first, stmt, kind: 'import' });
      }
    }
  } else if (type === 'import_from_statement' || type === 'future_import_statement') {
    const m = /^from\s+(.+?)\s*\bimport\b\s*(.*)$/.exec(text);
    if (!m) return out;
    const module = type === 'future_import_statement' ? '__future__' : norm(m[1]).replace(/\s+/g, '');
    const sep = module.endsWith('.') ? '' : '.';
    for (const part of m[2].split(',')) {
      const p = part.trim();
      if (!p) continue;
      if (p === '*') {
        out.push({ qualified: `${module}${sep}*`, local: '*', target: `${module}${sep}*`, stmt, kind: 'from' });
        continue;
      }
      const a = /^(\S+)(?:\s+as\s+(\S+))?$/.exec(p);
      if (!a) continue;
      const q = `${module}${sep}${a[1]}`;
      out.push({ qualified: q, local: a[2] ?? a[1], target: q, stmt, kind: 'from' });
    }
  }
  return out;
}

/**
 * The `as` bindings of a file's import statements, read from the text alone: `from subprocess import run as r`
 * gives {target: 'subprocess.run', local: 'r'}. An over-approximation (an `import … as …` inside a string counts):
 * the engine only uses it to find more call candidates, each confirmed in the tree, so it needs no tree itself.
 */
export function importAliasCandidates(bindings: readonly { target: string; local: string }[]): { target: string; local: string }[] {
  return bindings.filter((r) => r.local !== '*' && r.local !== lastSegment(r.target));
}

/** Every binding of every import statement of the text (`importStatementTexts`, `statementBindings`). */
export function importBindingCandidates(statements: readonly string[]): { target: string; local: string }[] {
  return statements.flatMap(statementBindings);
}

/**
 * Every name the file's import statements may bind, read from the text alone (an over-approximation, as
 * `importAliasCandidates`): a name outside it is bound by no import, so resolving it needs no syntax tree.
 */
export function importLocalCandidates(bindings: readonly { target: string; local: string }[]): Set<string> {
  return new Set(bindings.map((r) => r.local));
}

/** The bindings of one import statement's text (as returned by `importStatementTexts`). */
export function statementBindings(stmt: string): { target: string; local: string }[] {
  const type: StatementType = stmt.startsWith('import') ? 'import_statement' : /^from\s+__future__\b/.test(stmt) ? 'future_import_statement' : 'import_from_statement';
  return recordsOf(stmt, type, null).map((r) => ({ target: r.target, local: r.local }));
}

/**
 * The text of every statement that may be an import (`import …` / `from … import …` at a line start, after `;` or
 * `:`), through parentheses and `\` continuations. Text only, so it also returns imports quoted in strings: callers
 * use it to rule a file out, never to report.
 */
export function importStatementTexts(text: string): string[] {
  if (!text.includes('import')) return [];
  const out: string[] = [];
  for (const i of importWords(text)) {
    // Back to the start of the statement: the line start (through `\` continuations), or the last `;` / `:`.
    let ls = i;
    for (;;) {
      while (ls > 0 && text[ls - 1] !== '\n' && text[ls - 1] !== ';' && text[ls - 1] !== ':') ls--;
      if (ls > 1 && text[ls - 1] === '\n' && (text[ls - 2] === '\\' || (text[ls - 2] === '\r' && text[ls - 3] === '\\'))) ls -= 2;
      else break;
    }
    const prefix = text.slice(ls, i);
    let start: number;
    if (/^[\s\\]*$/.test(prefix)) start = i;
    else {
      const from = /^[\s\\]*from\b/.exec(prefix);
      if (!from) continue; // `x = "import"`, `# we import`: not a statement
      start = ls + from[0].length - 4;
    }
    out.push(text.slice(start, logicalLineEnd(text, start)));
  }
  return out;
}

/** End of the logical line starting at `i`: through an open `(` and `\` continuations; a `#` comment ends it. */
function logicalLineEnd(text: string, i: number): number {
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 /* ( */) depth++;
    else if (c === 41 /* ) */) depth = Math.max(0, depth - 1);
    else if (c === 35 /* # */) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return text.length;
      if (depth === 0) return nl;
      i = nl;
    } else if (c === 10 /* \n */ && depth === 0 && text.charCodeAt(i - 1) !== 92 /* \ */ && !(text.charCodeAt(i - 1) === 13 && text.charCodeAt(i - 2) === 92)) return i;
    else if (c === 59 /* ; */ && depth === 0) return i;
  }
  return text.length;
}

/** `c` of `a.b.c`. */
export function lastSegment(name: string): string {
  const i = name.lastIndexOf('.');
  return i < 0 ? name : name.slice(i + 1);
}
