/**
 * Shared logic of the unapproved-import family (DG5xx): which modules a statement or a dynamic-import call brings
 * in, the built-in deny list, and micromatch globs over dotted module names.
 */
import micromatch from 'micromatch';
import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import type { Severity } from '../../src/report';
import { callArgs, stringValue } from '../../src/engine/python';

export interface ImportedModule {
  /** Dotted module name, e.g. `airflow.providers.amazon`. */
  module: string;
  /**
   * Other names that count as the same import for an allow list: `from airflow import models` imports
   * `airflow` and perhaps the submodule `airflow.models`; an allow list matching either admits it.
   */
  alternatives: string[];
  node: SyntaxNode;
  dynamic: boolean;
}

/** Queries shared by the family: import statements and constant dynamic imports. */
export const IMPORT_QUERY = `
(import_statement) @import
(import_from_statement) @import
(call function: [(identifier) (attribute)] @fn (#match? @fn "(^|\\\\.)(__import__|import_module)$") arguments: (argument_list)) @dyn
`;

/** Modules brought in by one match of IMPORT_QUERY (relative imports and non-constant dynamic imports excluded). */
export function importedModules(c: Record<string, SyntaxNode[]>, ctx: RuleContext): ImportedModule[] {
  const out: ImportedModule[] = [];
  if (c.import) {
    const stmt = c.import[0];
    if (stmt.type === 'import_statement') {
      for (const n of stmt.namedChildren) {
        const name = n.type === 'aliased_import' ? n.childForFieldName('name') : n.type === 'dotted_name' ? n : null;
        if (name) out.push({ module: name.text, alternatives: [], node: n, dynamic: false });
      }
    } else {
      const mod = stmt.childForFieldName('module_name');
      if (!mod || mod.type === 'relative_import') return out; // the repo's own modules
      const alts: string[] = [];
      for (const n of stmt.namedChildren) {
        if (n.id === mod.id) continue;
        const name = n.type === 'aliased_import' ? n.childForFieldName('name') : n.type === 'dotted_name' ? n : null;
        if (name) alts.push(`${mod.text}.${name.text}`);
      }
      out.push({ module: mod.text, alternatives: alts, node: stmt, dynamic: false });
    }
    return out;
  }
  if (c.dyn) {
    const call = c.dyn[0];
    const fn = ctx.callee(call);
    if (fn !== '__import__' && fn !== 'builtins.__import__' && fn !== 'importlib.import_module' && fn !== 'importlib.__import__') {
      return out;
    }
    const args = callArgs(call);
    const name = stringValue(args.positional[0] ?? args.keywords.get('name'));
    if (!name || name.startsWith('.')) return out; // non-constant: DG302's business; relative: the repo's own
    out.push({ module: name, alternatives: [], node: call, dynamic: true });
  }
  return out;
}

/** micromatch over dotted names: dots become `/`, so `airflow.**` matches `airflow` and `airflow.providers.x`. */
export function moduleMatches(module: string, globs: string[]): boolean {
  if (!globs.length) return false;
  const key = globs.join('\0');
  let m = matchers.get(key);
  if (!m) {
    const each = globs.map((g) => micromatch.matcher(g.replace(/\./g, '/')));
    m = (s: string) => each.some((f) => f(s));
    matchers.set(key, m);
  }
  return m(module.replace(/\./g, '/'));
}

/** Compiled glob lists (settings are the same for a whole run). */
const matchers = new Map<string, (s: string) => boolean>();

export interface DenyEntry {
  /** Module glob (dotted). */
  glob: string;
  severity: Severity;
  why: string;
  /** Only denied when imported at parse time (module level). */
  parseTimeOnly?: boolean;
}

/**
 * Built-in deny list: modules a DAG file has no business importing. Kept short on purpose: modules with
 * legitimate task-time uses (`subprocess`, `ftplib`, `paramiko`, `pickle`) are judged by the rules that look
 * at what is done with them, not by their import.
 */
export const BUILTIN_DENY: DenyEntry[] = [
  { glob: 'ctypes.**', severity: 'high', why: 'calls native code and raw memory from Python' },
  { glob: '_ctypes.**', severity: 'high', why: 'calls native code and raw memory from Python' },
  { glob: 'cffi.**', severity: 'high', why: 'loads and calls native code' },
  { glob: 'pty.**', severity: 'high', why: 'spawns processes on a pseudo-terminal, the usual end of a reverse shell' },
  { glob: 'marshal', severity: 'medium', why: 'reads CPython code objects, the usual wrapper of hidden payloads' },
  { glob: 'telnetlib.**', severity: 'medium', why: 'cleartext remote login (and removed in Python 3.13)' },
  { glob: 'code', severity: 'medium', why: 'an interactive interpreter that runs arbitrary input' },
  { glob: 'pynput.**', severity: 'high', why: 'keyboard and mouse capture' },
  { glob: 'keyboard.**', severity: 'high', why: 'keyboard capture' },
  { glob: 'pyautogui.**', severity: 'high', why: 'screen capture and input automation' },
  { glob: 'browser_cookie3.**', severity: 'critical', why: 'steals browser cookies' },
  { glob: 'socket', severity: 'medium', why: 'raw network sockets while the file is parsed', parseTimeOnly: true },
];

/** The built-in entry denying a module, honouring `[tool.dag-guard.rules.DG501] allow = [...]` exemptions. */
export function builtinDenial(module: string, parseTime: boolean, ctx: RuleContext): DenyEntry | null {
  const exempt = ruleOption(ctx, 'DG501', 'allow');
  for (const e of BUILTIN_DENY) {
    if (e.parseTimeOnly && !parseTime) continue;
    if (!moduleMatches(module, [e.glob])) continue;
    if (exempt.length && moduleMatches(module, exempt)) return null;
    return e;
  }
  return null;
}

/** A string-list per-rule option, tolerant of a single string. */
export function ruleOption(ctx: RuleContext, id: string, key: string): string[] {
  const v = ctx.settings.ruleOptions?.[id]?.[key];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Modules any allow list admits: compiler directives, not code. */
export const ALWAYS_ALLOWED = ['__future__'];
