/**
 * Shared logic of the unapproved-import family (DG5xx): which modules a statement or a dynamic-import call brings
 * in, the built-in deny list, and micromatch globs over dotted module names.
 */
import type micromatchType from 'micromatch';
import type { SyntaxNode } from 'tree-sitter';
import { defineService, type RuleContext } from '../../src/engine/context';
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

/** The dynamic-import functions: a constant name (`__import__("ctypes")`) imports that module. */
const DYNAMIC_IMPORTERS = ['builtins.__import__', 'importlib.import_module', 'importlib.__import__'];

/**
 * Every module the file imports: import statements (wherever they are), then constant dynamic imports. A service:
 * computed once per file for DG501 and DG502.
 */
const IMPORTED_MODULES = defineService('imports: imported modules', (ctx): ImportedModule[] => {
  const out: ImportedModule[] = [];
  for (const stmt of ctx.importStatements) out.push(...statementModules(stmt));
  for (const { call } of ctx.findCalls(DYNAMIC_IMPORTERS)) {
    const args = callArgs(call);
    const name = stringValue(args.positional[0] ?? args.keywords.get('name'));
    // non-constant: DG302's business; relative: the repository's own module
    if (name && !name.startsWith('.')) out.push({ module: name, alternatives: [], node: call, dynamic: true });
  }
  return out;
});

export function importedModules(ctx: RuleContext): ImportedModule[] {
  return ctx.use(IMPORTED_MODULES);
}

/** Modules brought in by one import statement (relative imports excluded: the repository's own modules). */
function statementModules(stmt: SyntaxNode): ImportedModule[] {
  const out: ImportedModule[] = [];
  if (stmt.type === 'import_statement') {
    for (const n of stmt.namedChildren) {
      const name = n.type === 'aliased_import' ? n.childForFieldName('name') : n.type === 'dotted_name' ? n : null;
      if (name) out.push({ module: name.text, alternatives: [], node: n, dynamic: false });
    }
  } else if (stmt.type === 'import_from_statement') {
    const mod = stmt.childForFieldName('module_name');
    if (!mod || mod.type === 'relative_import') return out;
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

/**
 * Is a module imported by `imp` used while the file is parsed? Finds the names the import binds in the text and
 * asks the tree, for each, whether it is a name in code that runs at import (module level, class bodies, decorators,
 * default values) — not inside a function, not in a string or comment, not an attribute (`conn.socket`) or keyword
 * (`f(socket=…)`) that merely shares the spelling, not another import statement, not an exception class caught
 * (`except socket.error:`).
 */
export function usedAtParseTime(imp: ImportedModule, ctx: RuleContext, harmless: readonly string[] = []): boolean {
  if (imp.dynamic) return ctx.isParseTime(imp.node);
  const from = imp.node.type === 'import_from_statement';
  const stmt = from ? imp.node : imp.node.parent;
  if (!stmt) return true;
  // The names this import binds: for `import socket, os` only `socket`'s; for `from m import a, b as c`, `a` and `c`.
  const locals = new Set<string>();
  for (const r of ctx.importList) {
    if (r.stmt.startIndex !== stmt.startIndex) continue;
    if (r.local === '*') return true; // `from m import *`: the names are unknown, assume the worst
    if (from || r.qualified === imp.module) locals.add(r.local);
  }
  if (!locals.size) return true;
  const text = ctx.file.text;
  const re = new RegExp(`(?<![\\w.])(?:${[...locals].map((l) => l.replace(/\W/g, '\\$&')).join('|')})(?!\\w)`, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index >= stmt.startIndex && m.index < stmt.endIndex) continue;
    const id = ctx.root.descendantForIndex(m.index, m.index + m[0].length);
    if (id.type !== 'identifier' || id.startIndex !== m.index) continue;
    if (!ctx.isParseTime(id)) continue;
    const p = id.parent;
    if (p) {
      if (p.type === 'dotted_name') continue; // another import statement
      if (inExceptHeader(id)) continue; // `except socket.error:` names an exception class; it uses no capability
      if (p.type === 'attribute' && p.childForFieldName('attribute')?.startIndex === id.startIndex) continue;
      if (p.type === 'keyword_argument' && p.childForFieldName('name')?.startIndex === id.startIndex) continue;
      if (p.type === 'attribute' && harmless.includes(p.childForFieldName('attribute')?.text ?? '')) continue;
    }
    return true;
  }
  return false;
}

/** Is the node in the exception-type part of an `except …:` clause (not in its body)? */
function inExceptHeader(node: SyntaxNode): boolean {
  for (let n: SyntaxNode | null = node.parent; n; n = n.parent) {
    if (n.type === 'block' || n.type === 'module' || n.type === 'function_definition') return false;
    if (n.type === 'except_clause' || n.type === 'except_group_clause') return true;
  }
  return false;
}

/** micromatch over dotted names: dots become `/`, so `airflow.**` matches `airflow` and `airflow.providers.x`. */
export function moduleMatches(module: string, globs: string[]): boolean {
  if (!globs.length) return false;
  const key = globs.join('\0');
  let m = matchers.get(key);
  if (!m) {
    // Loaded on first use: most files never need a glob (see src/discover.ts).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const micromatch = require('micromatch') as typeof micromatchType;
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
  /** Only denied when imported at parse time (module level); `low` when only functions use it. */
  parseTimeOnly?: boolean;
  /** With `parseTimeOnly`: attributes of the module whose use at parse time is no use of what the entry denies. */
  harmless?: string[];
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
  // module-level `socket.gethostname()` (a local query: the worker's name in a callback or a tag) or exception classes
  // use no socket; `gethostbyname`/`getfqdn` resolve names over the network and count
  { glob: 'socket', severity: 'medium', why: 'raw network sockets', parseTimeOnly: true, harmless: ['gethostname', 'error', 'timeout', 'herror', 'gaierror'] },
];

/** First segments of the built-in deny list: a file that imports none of them (nor a dynamic import) needs no look. */
const DENY_ROOTS = new Set(BUILTIN_DENY.map((e) => e.glob.split('.')[0]));
const DENY_WORDS = new RegExp(`\\b(?:${[...DENY_ROOTS].map((r) => r.replace(/[^\w]/g, '')).join('|')})\\b`);

/** Could any import of this file be denied (built-in list or configured deny list)? Cheap: no tree access. */
export function mayDeny(ctx: RuleContext): boolean {
  if (ctx.settings.importDeny?.length || /__import__|import_module/.test(ctx.file.text)) return true;
  // No denied module's name in any import-looking statement of the text: no need for the real imports (nor for
  // the tree they are confirmed in). Continuation lines count: `import os, \` + `ctypes` is still caught.
  if (!ctx.importStatementTexts.some((s) => DENY_WORDS.test(s))) return false;
  for (const r of ctx.importList) {
    const q = r.qualified;
    const dot = q.indexOf('.');
    if (DENY_ROOTS.has(dot < 0 ? q : q.slice(0, dot))) return true;
  }
  return false;
}

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
