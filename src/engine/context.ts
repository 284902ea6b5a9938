import type { SyntaxNode } from 'tree-sitter';
import { SEVERITIES, severityRank, type Severity } from '../report';
import { lineCommentOf, type DataKind } from '../data/kinds';
import type { Settings } from './settings';
import type { Rule } from './rule';
import { importAliasCandidates, importBindingCandidates, importLocalCandidates, importRecords, importStatementTexts, type ImportRecord } from './imports';
import { findImports } from './locate';
import { appliedTo, callArgs, stringValue, unwrap } from './python';
import { deferredRanges, statementSpan } from './scope';
import { fillTemplate, PARSE_TIME_NOTE, type Fields } from './template';
import { resolvedCalls, type ResolvedCall } from './calls';
import { calleeMemo, compilePattern, type CalleePattern } from './patterns';
import { tokenPositions } from './keywords';

// Compiled patterns by source: a pure function of the string, shared by every file.
const compiledPatterns = new Map<string, CalleePattern>();
function patternOf(source: string): CalleePattern {
  let p = compiledPatterns.get(source);
  if (!p) compiledPatterns.set(source, (p = compilePattern(/[.*]/.test(source) ? source : `**.${source}`)));
  return p;
}

/** Compiled pattern lists of `findCalls`, by list (services pass constant arrays), with a memo of callees tested. */
const patternSets = new WeakMap<readonly string[], { compiled: CalleePattern[]; matches(fn: string): boolean }>();
function patternSet(patterns: readonly string[]): { compiled: CalleePattern[]; matches(fn: string): boolean } {
  let set = patternSets.get(patterns);
  if (!set) {
    const compiled = patterns.map(patternOf);
    patternSets.set(patterns, (set = { compiled, matches: calleeMemo((fn) => compiled.some((p) => p.test(fn))) }));
  }
  return set;
}

const DOTTED = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;
/**
 * `name = dotted.name`, `name = __import__(…)` / `importlib.import_module(…)` / `getattr(…)` and namespace lookups
 * (`name = sys.modules[…]`, `builtins.__dict__[…]`, `vars(os)[…]`, `__builtins__[…]`) at a line start:
 * candidates for `aliases` (other calls bind a call's result, not a function or module).
 */
const ALIAS_LINE = /^[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*(?!=)((?:[A-Za-z_][\w.]*[ \t]*(?:$|#|;))|(?:[\w.]*(?:__import__|import_module|getattr|__getattribute__)[ \t]*\()|(?:[\w.]*(?:__dict__|\bmodules|__builtins__|\bvars[ \t]*\([^)\n]*\))[ \t]*\[)|(?:[A-Za-z_]\w*[ \t]*\())/gm;
/** What an importer alias resolves to (`imp = __import__`; then `so = imp("socket")` binds a module). */
const IMPORTERS = new Set(['__import__', 'builtins.__import__', 'importlib.import_module', 'getattr', 'builtins.getattr']);
/** Builtins worth following through an alias (`imp = __import__`). */
const ALIASED_BUILTINS = new Set(['__import__', 'eval', 'exec', 'compile', 'getattr', 'open']);

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
  /** A data file (src/data/kinds.ts): no syntax tree, only rules with `onDataFile` run on it. */
  dataKind?: DataKind;
}

/**
 * A per-file analysis several rules need (call facts, provenance of values, shell scripts of operators…): computed
 * by the engine on the first question, once per file, and shared. Declared once with `defineService`, asked for
 * with `ctx.use(service)`; typed, so no rule reads a value another rule left under a string key.
 */
export interface Service<T> {
  readonly name: string;
  compute(ctx: RuleContext): T;
}

export function defineService<T>(name: string, compute: (ctx: RuleContext) => T): Service<T> {
  return { name, compute };
}

export interface ReportOptions {
  severity?: Severity;
  /** Normalised code hashed into the fingerprint (default: the node's text). */
  key?: string;
  /** The node whose statement's suppression comments apply (default: the reported node). */
  span?: SyntaxNode;
  /** Key of `meta.messages` to use instead of `meta.message`. */
  message?: string;
  /** `false`: no parse-time escalation for this finding (the rule decided its severity itself). */
  parseTime?: boolean;
  /**
   * Where the finding points, when that is not the node itself: a line inside a multi-line literal (the `eval` in a
   * script). Suppressions still follow the node's statement (`span`).
   */
  at?: { startIndex: number; endIndex: number };
}

/** What rules see of the file under analysis. One instance per file; `rule` changes as rules run. */
export class RuleContext {
  rule!: Rule;
  private readonly services = new Map<Service<unknown>, unknown>();
  private readonly ruleStates = new Map<Rule, unknown>();
  private readonly onceSeen = new Map<Rule, Set<number>>();
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
    /** Tests: find calls in every call of the tree rather than from text candidates (see prefilter.test.ts). */
    readonly exhaustive = false,
  ) {}

  /**
   * The calls of this file whose callee matches one of `patterns` (as in a rule's `calls`), resolved, in document
   * order. For services that need calls no rule subscribed to.
   */
  findCalls(patterns: readonly string[]): ResolvedCall[] {
    const set = patternSet(patterns);
    return resolvedCalls(this, this.file.text, set.compiled, this.exhaustive).filter((c) => set.matches(c.fn));
  }

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
   * -> `os.system`; `getattr(os, "system")` -> `os.system`; `sys.modules["os"].system` -> `os.system` (see
   * subscriptName). Unknown roots stay as written (builtins: `eval`).
   */
  qualifiedName(node: SyntaxNode | null | undefined): string | null {
    if (!node) return null;
    const n = unwrap(node);
    if (n.type === 'identifier') {
      const q = this.imports.get(n.text) ?? this.aliases.get(n.text);
      if (q !== undefined) return q;
      // the builtins module as every module sees it: getattr(__builtins__, "__import__")
      return n.text === '__builtins__' ? 'builtins' : n.text;
    }
    if (n.type === 'attribute') {
      const obj = this.qualifiedName(n.childForFieldName('object'));
      const attr = n.childForFieldName('attribute');
      // `eval.__call__(x)` is `eval(x)`
      if (attr?.text === '__call__') return obj;
      return obj && attr ? `${obj}.${attr.text}` : null;
    }
    if (n.type === 'subscript') return this.subscriptName(n);
    if (n.type === 'call') {
      // `(lambda: exec)()` is `exec`: a lambda without parameters called at once yields its body
      const lam = n.childForFieldName('function') && unwrap(n.childForFieldName('function')!);
      if (lam?.type === 'lambda' && !lam.childForFieldName('parameters') && !callArgs(n).positional.length) {
        return this.qualifiedName(lam.childForFieldName('body'));
      }
      const fn = this.qualifiedName(n.childForFieldName('function'));
      // `functools.partial(os.popen, cmd)()`: the partial called at once calls what it wraps (rules that judge the
      // arguments follow the partial's bound ones through src/engine/partials.ts)
      if (fn === 'functools.partial' && n.parent?.type === 'call' && n.parent.childForFieldName('function')?.id === n.id) {
        return this.qualifiedName(callArgs(n).positional[0]);
      }
      if (fn === '__import__' || fn === 'importlib.import_module' || fn === 'builtins.__import__') {
        return stringValue(callArgs(n).positional[0]);
      }
      if (fn === 'getattr' || fn === 'builtins.getattr') {
        const a = callArgs(n);
        const base = this.qualifiedName(a.positional[0]);
        const attr = stringValue(a.positional[1]);
        return base && attr ? `${base}.${attr}` : null;
      }
      // `os.__getattribute__("system")`, `operator.attrgetter("system")(os)`: getattr by other names
      const f = n.childForFieldName('function');
      if (f?.type === 'attribute' && f.childForFieldName('attribute')?.text === '__getattribute__') {
        const base = this.qualifiedName(f.childForFieldName('object'));
        const attr = stringValue(callArgs(n).positional[0]);
        return base && attr ? `${base}.${attr}` : null;
      }
      if (f?.type === 'call' && this.qualifiedName(f.childForFieldName('function')) === 'operator.attrgetter') {
        const attr = stringValue(callArgs(f).positional[0]);
        const base = this.qualifiedName(appliedTo(n));
        return base && attr ? `${base}.${attr}` : null;
      }
    }
    return null;
  }

  /**
   * A module or attribute fetched by name from a namespace: `sys.modules["os"]` -> `os`, `__builtins__["exec"]`,
   * `builtins.__dict__["exec"]`, `vars(builtins)["exec"]` -> `builtins.exec`, `os.__dict__["system"]` -> `os.system`.
   */
  private subscriptName(n: SyntaxNode): string | null {
    const key = stringValue(n.childForFieldName('subscript'));
    const value = n.childForFieldName('value');
    if (key === null || !value) return null;
    const v = unwrap(value);
    if (v.type === 'attribute' && v.childForFieldName('attribute')?.text === '__dict__') {
      const base = this.qualifiedName(v.childForFieldName('object'));
      return base ? `${base}.${key}` : null;
    }
    if (v.type === 'call') {
      const fn = this.qualifiedName(v.childForFieldName('function'));
      if (fn !== 'vars' && fn !== 'builtins.vars') return null;
      const base = this.qualifiedName(callArgs(v).positional[0]);
      return base ? `${base}.${key}` : null;
    }
    const q = this.qualifiedName(v);
    if (q === 'sys.modules') return key;
    return q === 'builtins' ? `builtins.${key}` : null;
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
      const f = call.childForFieldName('function');
      v = this.calleeOfFunction(f) ?? this.methodcallerCallee(call);
      this.calleeCache.set(call, v);
    }
    return v;
  }

  /** `operator.methodcaller("system", "id")(os)` is a call of `os.system`. */
  methodcallerCallee(call: SyntaxNode): string | null {
    const f = call.childForFieldName('function');
    if (f?.type !== 'call' || !f.text.includes('methodcaller') || this.qualifiedName(f.childForFieldName('function')) !== 'operator.methodcaller') return null;
    const method = stringValue(callArgs(f).positional[0]);
    const base = this.qualifiedName(appliedTo(call));
    return method && base ? `${base}.${method}` : null;
  }

  /** Was a module (or anything under it) imported in this file? */
  imported(module: string): boolean {
    return this.importList.some((r) => r.qualified === module || r.qualified.startsWith(module + '.'));
  }

  /** Qualified name of a call's function node: from its text when it is a plain dotted name, else node by node. */
  calleeOfFunction(f: SyntaxNode | null): string | null {
    if (!f) return null;
    if (!DOTTED.test(f.text)) return this.qualifiedName(f);
    const t = f.text.replace(/(?:\s*\.\s*__call__)+$/, ''); // `eval.__call__(x)` is `eval(x)`
    const i = t.indexOf('.');
    const head = i < 0 ? t : t.slice(0, i);
    const mapped = this.imports.get(head) ?? this.aliases.get(head) ?? head;
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

  private readonly tokenMemo = new Map<string, boolean>();

  /**
   * Does the text hold `word` as a whole identifier-shaped token (strings and comments included)? What words a file
   * may use, for a rule's own cheap prefilter.
   */
  hasToken(word: string): boolean {
    let v = this.tokenMemo.get(word);
    if (v === undefined) this.tokenMemo.set(word, (v = tokenPositions(this.file.text, word).length > 0));
    return v;
  }

  private importStatementList: string[] | null = null;

  /** The text of every statement that may be an import (imports.ts `importStatementTexts`; no tree needed). */
  get importStatementTexts(): string[] {
    return (this.importStatementList ??= importStatementTexts(this.file.text));
  }

  private importBindingList: { target: string; local: string }[] | null = null;

  /** What those statements bind: `import a.b as c` -> {target: 'a.b', local: 'c'} (an over-approximation of `imports`). */
  get importBindings(): { target: string; local: string }[] {
    return (this.importBindingList ??= importBindingCandidates(this.importStatementTexts));
  }

  private importAliasList: { target: string; local: string }[] | null = null;

  /** `from subprocess import run as r` -> {target: 'subprocess.run', local: 'r'}, from the text (imports.ts). */
  get importAliasCandidates(): { target: string; local: string }[] {
    return (this.importAliasList ??= importAliasCandidates(this.importBindings));
  }

  private importLocalSet: Set<string> | null = null;

  /** Names the import statements may bind, from the text (a superset of `imports`' keys; no tree needed). */
  get importLocals(): Set<string> {
    return (this.importLocalSet ??= importLocalCandidates(this.importBindings));
  }

  private aliasMap: Map<string, string> | null = null;
  private partialAliases = new Map<string, string>();
  private resolvingAliases = false;

  /**
   * Names bound by plain assignment to something an import explains: `f = os.system`, `imp = __import__`,
   * `m = importlib.import_module("o" + "s")`, `run = getattr(subprocess, "run")`, `g = builtins.__dict__["ex" + "ec"]` — so that `f("id")` is a call of
   * `os.system`, as an attacker's alias would have it. Flow-insensitive: a name assigned two different such
   * targets anywhere in the file is left unresolved. Found from the text (`name = …` lines), confirmed in the tree.
   */
  get aliases(): Map<string, string> {
    if (this.aliasMap) return this.aliasMap;
    // resolving a right-hand side: imports, and the aliases bound on earlier lines (`imp = __import__` before
    // `so = imp("socket")`)
    if (this.resolvingAliases) return this.partialAliases;
    const out = new Map<string, string>();
    this.partialAliases = out;
    this.resolvingAliases = true;
    try {
      const text = this.file.text;
      const conflicting = new Set<string>();
      for (const m of text.matchAll(ALIAS_LINE)) {
        // only a right-hand side an import or a followed builtin can explain (`x = y` of two locals is not one)
        const head = /^[A-Za-z_]\w*/.exec(m[2])![0];
        const isCall = /\($/.test(m[2]);
        if (m[2].endsWith('[')) {
          // a namespace lookup: `g = builtins.__dict__["ex" + "ec"]`, `m = sys.modules["o" + "s"]`, `f = vars(os)["system"]`
          if (head !== '__builtins__' && head !== 'vars' && !out.has(head) && !(this.importLocals.has(head) && this.imports.has(head))) continue;
        } else if (isCall) {
          // a call binds a module only through an importer: __import__(…), import_module(…), getattr(…), or an alias of one
          if (!/__import__|import_module|getattr/.test(m[2]) && !IMPORTERS.has(out.get(head) ?? '')) continue;
        } else if (!ALIASED_BUILTINS.has(head) && !out.has(head) && !(this.importLocals.has(head) && this.imports.has(head))) continue;
        const at = m.index! + m[0].length - m[2].length;
        const node = this.root.descendantForIndex(at, at + 1);
        let a: SyntaxNode | null = node;
        while (a && a.type !== 'assignment' && a.type !== 'module' && a.type !== 'block') a = a.parent;
        const left = a?.type === 'assignment' ? a.childForFieldName('left') : null;
        const right = a?.type === 'assignment' ? a.childForFieldName('right') : null;
        if (!left || !right || left.type !== 'identifier' || left.text !== m[1]) continue;
        const q = this.qualifiedName(right);
        // (a name the file does not explain resolves to its own text: `x = y` of two locals; `f = os.system` with
        // `import os` resolves to its text too, and is an alias)
        if (!q || q === m[1] || (q === right.text && !ALIASED_BUILTINS.has(q) && !this.imports.has(head))) continue;
        const prev = out.get(m[1]);
        if (prev !== undefined && prev !== q) conflicting.add(m[1]);
        out.set(m[1], q);
      }
      for (const c of conflicting) out.delete(c);
    } finally {
      this.resolvingAliases = false;
    }
    return (this.aliasMap = out);
  }

  /** The file's value of a per-file service (computed on first use, then shared by every rule). */
  use<T>(service: Service<T>): T {
    if (this.services.has(service)) return this.services.get(service) as T;
    const v = service.compute(this);
    this.services.set(service, v);
    return v;
  }

  /**
   * The current rule's own per-file state (what its `onCall`/`onMatch` collect for its `onFile`), created by `init`
   * on first use. Private to the rule: other rules share analysis through services, never through this.
   */
  ruleState<T>(init: () => T): T {
    if (this.ruleStates.has(this.rule)) return this.ruleStates.get(this.rule) as T;
    const v = init();
    this.ruleStates.set(this.rule, v);
    return v;
  }

  /**
   * True the first time the current rule asks about this node in this file: a finding placed at a constant that
   * several calls use (`ENRICH_TAG = "latest"`, a shared script literal) is reported once.
   */
  once(node: SyntaxNode): boolean {
    let seen = this.onceSeen.get(this.rule);
    if (!seen) this.onceSeen.set(this.rule, (seen = new Set()));
    if (seen.has(node.id)) return false;
    seen.add(node.id);
    return true;
  }

  /**
   * Report a finding on `node`: the rule's message template filled with `fields` (or a literal message, for
   * rules not yet on templates), parse-time escalation from `meta.parseTime`. Never put a secret in a field: use
   * `redact()`.
   */
  report(node: SyntaxNode, fields?: Fields | string, opts: ReportOptions = {}): void {
    const { severity, message } = this.finish(fields, opts, opts.span ?? node);
    const stmt = statementSpan(opts.span ?? node);
    this.sink.push({
      ruleId: this.rule.meta.id,
      severity,
      message,
      startIndex: opts.at?.startIndex ?? node.startIndex,
      endIndex: opts.at?.endIndex ?? node.endIndex,
      stmtStart: stmt.start,
      stmtEnd: stmt.end,
      key: opts.key ?? node.text.replace(/\s+/g, ' '),
    });
  }

  private finish(fields: Fields | string | undefined, opts: ReportOptions, at: SyntaxNode | null): { severity: Severity; message: string } {
    const meta = this.rule.meta;
    let message: string;
    if (typeof fields === 'string') message = fields;
    else {
      const template = opts.message ? meta.messages?.[opts.message] : meta.message;
      if (template === undefined) throw new Error(`rule ${meta.id}: no message \`${opts.message}\``);
      message = fillTemplate(template, fields, `rule ${meta.id}`);
    }
    let severity = opts.severity ?? meta.severity;
    if (meta.parseTime && opts.parseTime !== false && at && this.isParseTime(at)) {
      if (meta.parseTime === 'note') {
        // the note alone
      } else if (meta.parseTime === 'step') severity = SEVERITIES[Math.min(SEVERITIES.length - 1, severityRank(severity) + 1)];
      else if (severityRank(meta.parseTime) > severityRank(severity)) severity = meta.parseTime;
      message += PARSE_TIME_NOTE;
    }
    return { severity, message };
  }

  /**
   * Report at a character range of the raw text (for rules that scan text, not the tree). A suppression on any line
   * of the statement around the range applies, as for tree findings; in a data file (no statements, no parse
   * time) one on the finding's line or on the comment lines right above it.
   */
  reportRange(startIndex: number, endIndex: number, fields?: Fields | string, opts: Omit<ReportOptions, 'span'> = {}): void {
    const before = this.file.text.slice(0, startIndex).split('\n');
    const line = before.length;
    let at: SyntaxNode | null = null;
    let stmtStart = line;
    let stmtEnd = line;
    if (this.file.dataKind) {
      const comment = lineCommentOf(this.file.dataKind);
      while (comment && stmtStart > 1 && comment.test(before[stmtStart - 2])) stmtStart--;
    } else {
      at = this.root.descendantForIndex(startIndex);
      const span = statementSpan(at);
      stmtStart = Math.min(span.start, line);
      stmtEnd = Math.max(span.end, line);
    }
    const { severity, message } = this.finish(fields, opts, at);
    this.sink.push({
      ruleId: this.rule.meta.id,
      severity,
      message,
      startIndex,
      endIndex,
      stmtStart,
      stmtEnd,
      key: opts.key ?? this.file.text.slice(startIndex, endIndex),
    });
  }
}
