import type { SyntaxNode } from 'tree-sitter';

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
  const out: ImportRecord[] = [];
  // Comments, line continuations and the parentheses of `from m import (a, b)` carry no names.
  const text = stmt.text.replace(/#[^\n]*/g, ' ').replace(/\\\r?\n/g, ' ').replace(/[()]/g, ' ').replace(/\s+/g, ' ').trim();
  const norm = (s: string): string => s.replace(/\s*\.\s*/g, '.').trim();
  if (stmt.type === 'import_statement') {
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
  } else if (stmt.type === 'import_from_statement' || stmt.type === 'future_import_statement') {
    const m = /^from\s+(.+?)\s*\bimport\b\s*(.*)$/.exec(text);
    if (!m) return out;
    const module = stmt.type === 'future_import_statement' ? '__future__' : norm(m[1]).replace(/\s+/g, '');
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
