import type { SyntaxNode } from 'tree-sitter';
import type { Severity } from '../report';
import type { Settings } from './settings';
import type { Rule } from './rule';
import { importRecords, type ImportRecord } from './imports';
import { findImports } from './locate';
import { callArgs, stringValue, unwrap } from './python';
import { deferredRanges, statementSpan } from './scope';

const DOTTED = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;

export interface RawFinding {
  ruleId: string;
  severity: Severity;
  message: string;
  startIndex: number;
  endIndex: number;
  /** Statement line span, for suppression comments. */
  stmtStart: number;
  stmtEnd: number;
  /** Normalised code that identifies the finding independently of its line (hashed into the fingerprint). */
  key: string;
}

export interface SourceFile {
  /** As shown in reports: relative to the working directory, '/' separators. */
  path: string;
  text: string;
}

/** What rules see of the file under analysis. One instance per file; `rule` changes as rules run. */
export class RuleContext {
  rule!: Rule;
  /** Free-form per-file scratch space for rules that aggregate (keyed by rule id). */
  readonly state = new Map<string, unknown>();
  private rootNode: SyntaxNode | null = null;
  private importsOf: { map: Map<string, string>; list: ImportRecord[]; statements: SyntaxNode[] } | null = null;

  /**
   * `tree` parses the file; it is called on the first question that needs the tree. A file in which no rule finds
   * anything to look at in the text is never parsed (see analyze.ts).
   */
  constructor(
    readonly file: SourceFile,
    readonly settings: Settings,
    private readonly sink: RawFinding[],
    private readonly tree: () => SyntaxNode = () => {
      throw new Error('RuleContext: no syntax tree given');
    },
  ) {}

  /** The file's syntax tree (for `onFile` rules that locate a text match with `descendantForIndex`). Parsed on first use. */
  get root(): SyntaxNode {
    return (this.rootNode ??= this.tree());
  }

  /** Was the file parsed (did any question need the tree)? */
  get parsed(): boolean {
    return this.rootNode !== null;
  }

  /** Local name -> what it refers to, for every import of the file (later bindings win, as in Python). */
  get imports(): Map<string, string> {
    return this.allImports().map;
  }

  get importList(): ImportRecord[] {
    return this.allImports().list;
  }

  /** Every import statement of the file, in document order. */
  get importStatements(): SyntaxNode[] {
    return this.allImports().statements;
  }

  // All imports at once, on the first question, so that a name used before a later import still resolves (as at
  // run time, mostly). A file without the word `import` needs no tree for that.
  private allImports(): { map: Map<string, string>; list: ImportRecord[]; statements: SyntaxNode[] } {
    if (this.importsOf) return this.importsOf;
    const out = { map: new Map<string, string>(), list: [] as ImportRecord[], statements: [] as SyntaxNode[] };
    this.importsOf = out;
    if (!this.file.text.includes('import')) return out;
    for (const stmt of findImports(this.file.text, this.root)) {
      out.statements.push(stmt);
      for (const rec of importRecords(stmt)) {
        out.list.push(rec);
        if (rec.local !== '*') out.map.set(rec.local, rec.target);
      }
    }
    return out;
  }

  /**
   * Fully qualified name of an expression, through import aliases:
   * `sp.run` -> `subprocess.run` after `import subprocess as sp`; `Popen` -> `subprocess.Popen` after
   * `from subprocess import Popen`; `__import__("os").system` and `importlib.import_module("os").system`
   * -> `os.system`; `getattr(os, "system")` -> `os.system`. Unknown roots stay as written (builtins: `eval`).
   */
  qualifiedName(node: SyntaxNode | null | undefined): string | null {
    if (!node) return null;
    const n = unwrap(node);
    if (n.type === 'identifier') return this.imports.get(n.text) ?? n.text;
    if (n.type === 'attribute') {
      const obj = this.qualifiedName(n.childForFieldName('object'));
      const attr = n.childForFieldName('attribute');
      return obj && attr ? `${obj}.${attr.text}` : null;
    }
    if (n.type === 'call') {
      const fn = this.qualifiedName(n.childForFieldName('function'));
      if (fn === '__import__' || fn === 'importlib.import_module' || fn === 'builtins.__import__') {
        return stringValue(callArgs(n).positional[0]);
      }
      if (fn === 'getattr' || fn === 'builtins.getattr') {
        const a = callArgs(n);
        const base = this.qualifiedName(a.positional[0]);
        const attr = stringValue(a.positional[1]);
        return base && attr ? `${base}.${attr}` : null;
      }
    }
    return null;
  }

  private readonly calleeCache = new WeakMap<SyntaxNode, string | null>();

  /**
   * Qualified name of the function a call invokes. Memoised (many rules ask about the same call), and a plain
   * dotted callee (`os.system`, `sp.run`) is resolved from its text through the import map — the same answer
   * as `qualifiedName` without walking the attribute chain node by node.
   */
  callee(call: SyntaxNode): string | null {
    let v = this.calleeCache.get(call);
    if (v === undefined) {
      v = this.calleeOfFunction(call.childForFieldName('function'));
      this.calleeCache.set(call, v);
    }
    return v;
  }

  /** Was a module (or anything under it) imported in this file? */
  imported(module: string): boolean {
    return this.importList.some((r) => r.qualified === module || r.qualified.startsWith(module + '.'));
  }

  /** Qualified name of a call's function node: from its text when it is a plain dotted name, else node by node. */
  calleeOfFunction(f: SyntaxNode | null): string | null {
    if (!f) return null;
    const t = f.text;
    if (!DOTTED.test(t)) return this.qualifiedName(f);
    const i = t.indexOf('.');
    const head = i < 0 ? t : t.slice(0, i);
    const mapped = this.imports.get(head) ?? head;
    return i < 0 ? mapped : mapped + t.slice(i);
  }

  /** Records a callee the engine already resolved, so that `callee()` answers without resolving again. */
  setCallee(call: SyntaxNode, fn: string): void {
    this.calleeCache.set(call, fn);
  }

  private deferredStarts: number[] | null = null;
  private deferredMaxEnd: number[] | null = null;

  /**
   * Does the node run while Airflow imports the file? (See scope.ts for the rules.) Answered by a binary search
   * over the code that does not run at import — function and lambda bodies, `if __name__ == "__main__":` blocks —
   * which is located once per file, text first (`def`, `lambda`, `__main__`), on the first question.
   */
  isParseTime(node: SyntaxNode): boolean {
    if (!this.deferredStarts) this.locateDeferred();
    const s = node.startIndex;
    const starts = this.deferredStarts!;
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= s) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 || this.deferredMaxEnd![found] <= s;
  }

  private locateDeferred(): void {
    const ranges = deferredRanges(this.file.text, this.root);
    ranges.sort((a, b) => a[0] - b[0]);
    this.deferredStarts = ranges.map((r) => r[0]);
    let max = -1;
    this.deferredMaxEnd = ranges.map((r) => (max = Math.max(max, r[1])));
  }

  /**
   * Report a finding on `node`. `message` defaults to the rule's. Never put a secret in the message:
   * use `redact()`. `key` overrides the normalised code used for the fingerprint (default: node text).
   */
  report(node: SyntaxNode, message?: string, opts: { severity?: Severity; key?: string; span?: SyntaxNode } = {}): void {
    const stmt = statementSpan(opts.span ?? node);
    this.sink.push({
      ruleId: this.rule.meta.id,
      severity: opts.severity ?? this.rule.meta.severity,
      message: message ?? this.rule.meta.message,
      startIndex: node.startIndex,
      endIndex: node.endIndex,
      stmtStart: stmt.start,
      stmtEnd: stmt.end,
      key: opts.key ?? node.text.replace(/\s+/g, ' '),
    });
  }

  /** Report at a character range of the raw text (for rules that scan text, not the tree). */
  reportRange(startIndex: number, endIndex: number, message?: string, opts: { severity?: Severity; key?: string } = {}): void {
    // The statement around the range, so a suppression on any of its lines applies (as for tree findings).
    const at = this.root?.descendantForIndex(startIndex);
    const span = at ? statementSpan(at) : null;
    const line = this.file.text.slice(0, startIndex).split('\n').length;
    this.sink.push({
      ruleId: this.rule.meta.id,
      severity: opts.severity ?? this.rule.meta.severity,
      message: message ?? this.rule.meta.message,
      startIndex,
      endIndex,
      stmtStart: span ? Math.min(span.start, line) : line,
      stmtEnd: span ? Math.max(span.end, line) : line,
      key: opts.key ?? this.file.text.slice(startIndex, endIndex),
    });
  }
}
