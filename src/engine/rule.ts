import type { SyntaxNode } from 'tree-sitter';
import type { Severity, StaticCategory } from '../report';
import type { RuleContext } from './context';

/** The four parts of every rule's documentation, ruff style. Markdown. */
export interface RuleDocs {
  what: string;
  why: string;
  example: string;
  useInstead: string;
}

/** Data about a rule, kept apart from its matcher (ESLint's `meta`). */
export interface RuleMeta {
  /** Stable code, `DG` + family digit + two digits: DG1xx secret, DG2xx shell-injection, DG3xx code-injection,
   *  DG4xx unsafe-deserialization, DG5xx unapproved-import, DG6xx malicious, DG7xx import-path. Never reuse a retired code. */
  id: string;
  /** kebab-case name, also accepted wherever an id is. */
  name: string;
  category: StaticCategory;
  severity: Severity;
  /** One line; may be refined per finding. */
  message: string;
  docs: RuleDocs;
  /** bandit test ids (B602) / ruff codes (S602) this rule covers: `# nosec B602` and `# noqa: S602` suppress it. */
  aliases?: string[];
}

export interface QueryCaptures {
  /** Captures of one match, by capture name (without `@`). A name captured several times keeps all nodes. */
  [name: string]: SyntaxNode[];
}

export interface Rule {
  meta: RuleMeta;
  /**
   * Callees this rule inspects, by their last dotted segment: `['run', 'Popen']` sees `subprocess.run(…)`,
   * `sp.run(…)`, `run(…)` after `from subprocess import run`, `r(…)` after `… import run as r`, and
   * `getattr(subprocess, "run")(…)`. The engine finds the calls once for all rules (text first, confirmed in
   * the tree), resolves each callee through the imports once, and hands every call to the rules that named it.
   */
  calls?: readonly string[];
  /** Gets each call named in `calls`, in document order, with its qualified callee (`subprocess.run`), or the
   *  callee as written when it cannot be resolved. */
  onCall?(call: SyntaxNode, fn: string, ctx: RuleContext): void;
  /**
   * Optional, for rules subscribed to common names (`get`, `replace`, `open`): could `onCall` do anything for a call
   * of `fn` in a file of this `text`? The engine asks it before it parses the file, with the callee read from the
   * text (dotted name as written, import aliases resolved from the import lines); a file where every such answer
   * is no is not parsed for calls. Must never say no where `onCall` could report or record something that matters:
   * when unsure, say yes. `text` is the whole file; `at` the index of the called name in it (the call's own text
   * starts at most the length of `fn` before it).
   */
  mayCall?(fn: string, text: string, at: number): boolean;
  /**
   * A tree-sitter query (one or more patterns) for shapes that are not plain calls. It runs only where
   * `trigger` matches the file's text: on each node of one of the patterns' root types that encloses a trigger
   * match, within its statement, with matches anchored at that node. Required with `query`.
   */
  query?: string;
  trigger?: RegExp;
  onMatch?(captures: QueryCaptures, ctx: RuleContext): void;
  /** Whole-file checks that need no tree walk (raw-text scans), or that aggregate what `onCall`/`onMatch` saw. */
  onFile?(ctx: RuleContext): void;
  /**
   * Path rules (rules/import-path): called once for every file, folder and outside link of the checked tree and of
   * its zip archives, whatever the file's type; they never see source text. A rule with `onPath` has no other hook.
   */
  onPath?(entry: PathEntry, report: PathReport): void;
}

export function defineRule(rule: Rule): Rule {
  return rule;
}

/**
 * One path of the checked tree, for rules about what Python or Airflow can load by name rather than about source
 * text (rules/import-path): compiled artefacts, start-up hooks, shadowing modules, links that leave the tree.
 */
export interface PathEntry {
  /** The path shown in reports: `dags/x.pyc`, or `dags/bundle.zip!pkg/m.py` for an archive member. */
  rel: string;
  /** Base name. */
  name: string;
  /** `outside-link`: a symbolic link whose real target is outside the checked tree (never followed, never read). */
  kind: 'file' | 'dir' | 'outside-link';
  /** Directly in a checked directory (what Airflow puts on sys.path as DAGS_FOLDER) or at an archive's root. */
  topLevel: boolean;
  /** A member of a zip archive (DagBag puts the archive first on sys.path while it imports it). */
  inArchive: boolean;
  /** The file's first `n` bytes, or null when it cannot be read. */
  head(n: number): Buffer | null;
  /** Does `name` exist beside this entry (in the same folder)? */
  sibling(name: string): boolean;
  /** For folders: does `name` exist in it? */
  child(name: string): boolean;
  /** For `outside-link`: the link's text. */
  target?: string;
}

export type PathReport = (message: string, opts?: { severity?: Severity }) => void;
