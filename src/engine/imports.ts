import type { SyntaxNode } from 'tree-sitter';

export interface ImportRecord {
  /** Fully qualified module or member imported, e.g. `os`, `subprocess.Popen`, `.helpers.x` (relative). */
  qualified: string;
  /** Name bound in the module namespace (`*` for wildcard). */
  local: string;
  /** What `local` refers to: `import a.b.c` imports `a.b.c` but binds `a` to module `a`. */
  target: string;
  node: SyntaxNode;
}

/** Records what each import statement binds. Later bindings win, as in Python. */
export function importRecords(stmt: SyntaxNode): ImportRecord[] {
  const out: ImportRecord[] = [];
  if (stmt.type === 'import_statement') {
    for (const n of stmt.namedChildren) {
      if (n.type === 'dotted_name') {
        // `import a.b.c` binds `a`; attribute access then resolves through it.
        const first = n.text.split('.')[0];
        out.push({ qualified: n.text, local: first, target: first, node: n });
      } else if (n.type === 'aliased_import') {
        const name = n.childForFieldName('name');
        const alias = n.childForFieldName('alias');
        if (name && alias) out.push({ qualified: name.text, local: alias.text, target: name.text, node: n });
      }
    }
  } else if (stmt.type === 'import_from_statement' || stmt.type === 'future_import_statement') {
    const moduleNode = stmt.childForFieldName('module_name');
    const module = stmt.type === 'future_import_statement' ? '__future__' : (moduleNode?.text ?? '');
    const sep = module.endsWith('.') ? '' : '.';
    for (const n of stmt.namedChildren) {
      if (n === moduleNode) continue;
      if (n.type === 'dotted_name') {
        out.push({ qualified: `${module}${sep}${n.text}`, local: n.text, target: `${module}${sep}${n.text}`, node: n });
      } else if (n.type === 'aliased_import') {
        const name = n.childForFieldName('name');
        const alias = n.childForFieldName('alias');
        if (name && alias) {
          const q = `${module}${sep}${name.text}`;
          out.push({ qualified: q, local: alias.text, target: q, node: n });
        }
      } else if (n.type === 'wildcard_import') {
        out.push({ qualified: `${module}${sep}*`, local: '*', target: `${module}${sep}*`, node: n });
      }
    }
  }
  return out;
}

/** The module an import record refers to (`from a.b import c` -> both `a.b` and `a.b.c` are candidates). */
export function importedModule(stmt: SyntaxNode): string | null {
  if (stmt.type === 'import_from_statement') return stmt.childForFieldName('module_name')?.text ?? null;
  return null;
}
