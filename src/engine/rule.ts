import type { SyntaxNode } from 'tree-sitter';
import type { Category, Severity } from '../report';
import type { RuleContext } from './context';
import type { Fields } from './template';

/** The four parts of every rule's documentation, ruff style. Markdown. */
export interface RuleDocs {
  what: string;
  why: string;
  example: string;
  useInstead: string;
}

/** Data about a rule, kept apart from its matcher (ESLint's `meta`). */
export interface RuleMeta {
  /** Stable code, `DG` + family digit + two digits: DG1xx secret, DG2xx injection (DG20x–DG24x shell, DG25x sql-injection), DG3xx code-injection,
   *  DG4xx unsafe-deserialization, DG5xx unapproved-import, DG6xx malicious, DG7xx import-path, DG8xx pod-security (DG80x), insecure-transport (DG85x) and insecure-config (DG86x), DG9xx sandbox.
   *  Never reuse a retired code. */
  id: string;
  /** kebab-case name, also accepted wherever an id is. */
  name: string;
  category: Category;
  severity: Severity;
  /**
   * The finding's message, a template: `{field}` is filled from the fields given to `ctx.report` (a missing field
   * is an error, caught by the fixture test). Never put a secret in a field: use `redact()`.
   */
  message: string;
  /** Other message templates, chosen per finding with `ctx.report(node, fields, { message: 'key' })`. */
  messages?: Record<string, string>;
  /**
   * Parse-time escalation: a finding on code that runs while Airflow imports the file (module level, decorators,
   * default values, operator arguments) gets at least this severity and the note "at parse time, in the
   * dag-processor". `'step'`: one level above the finding's severity (medium → high, high → critical); `'note'`:
   * the note only, the severity as the rule gave it. The engine
   * does it; a rule that decides severity itself passes `parseTime: false` to `report`.
   */
  parseTime?: Severity | 'step' | 'note';
  docs: RuleDocs;
  /** JSON schema of the rule's options (`[tool.dag-guard.rules.<id>]`): the configuration is validated against it. */
  options?: Record<string, unknown>;
  /** bandit test ids (B602) / ruff codes (S602) this rule covers: `# nosec B602` and `# noqa: S602` suppress it. */
  aliases?: string[];
}

/** See `Rule.keywordMatch`. */
export type KeywordMatch = 'substring' | 'token' | 'name-word' | 'name-word-end';

export interface QueryCaptures {
  /** Captures of one match, by capture name (without `@`). A name captured several times keeps all nodes. */
  [name: string]: SyntaxNode[];
}

/**
 * A rule declares what it looks at; the engine finds it, once for all rules, and derives from the declarations
 * which files a rule can skip (a file is skipped only when a word every match must contain is absent).
 * See docs/writing-rules.md.
 */
export interface Rule {
  meta: RuleMeta;
  /**
   * Callees this rule inspects, by qualified name: `subprocess.run`, `pickle.load*` (`*` within a segment),
   * `**.exec_command` (`**`: any segments), `builtins.eval`. The engine resolves every call through the file's
   * imports (`sp.run`, `from subprocess import run as r; r(…)`, `getattr(subprocess, "run")(…)`,
   * `__import__("subprocess").run(…)`) and calls `onCall` for each call whose callee matches. A callee that cannot
   * be resolved to an import is matched as written (`self.hook.run`).
   */
  calls?: readonly string[];
  /** Each matching call, in document order, with its qualified callee. */
  onCall?(call: SyntaxNode, fn: string, ctx: RuleContext): void;
  /** A tree-sitter query (one or more patterns) for shapes that are not plain calls; `onMatch` gets each match. */
  query?: string;
  /**
   * Literal words (any letter case), one of which every match of `query` contains in its text — or, for a rule
   * without a query, that every file with a finding of `onFile` contains: the engine skips files without any, and
   * runs the query only on the nodes around them. Omitted: the rule runs on every file. A keyword that some match lacks loses findings: the prefilter property test
   * (test/engine/prefilter.test.ts) runs every rule with and without it on every fixture and sample.
   */
  keywords?: readonly string[];
  /**
   * How every match holds one of its keywords. Narrower modes mean fewer files and far fewer places to search; a mode
   * that some match does not satisfy loses findings (the prefilter property test catches it on the fixtures).
   *  - `'substring'` (default): anywhere in the text, any letter case.
   *  - `'token'`: as written, as a name of its own (`exec`, not `execution_date`).
   *  - `'name-word'`: any case, as a whole word of a name — names split at `_`, `-`, `.`, spaces and camelCase,
   *    trailing digits ignored (`pin` in `api_pin`, `userPin`, `X-PIN2`; not in `mapping` or `typing`).
   *  - `'name-word-end'`: any case, ending a word of a name (`password` in `DB_PASSWORD` and `databasepassword`;
   *    not in `passwords_file`).
   */
  keywordMatch?: KeywordMatch;
  /**
   * A second list: every match (or finding of a text-scan `onFile`) also contains one of these, any case, anywhere
   * in its text — a file needs a word of each list. Only `keywords` place the query windows.
   */
  andKeywords?: readonly string[];
  onMatch?(captures: QueryCaptures, ctx: RuleContext): void;
  /** Whole-file checks (raw-text scans), and aggregation of what `onCall`/`onMatch` saw (see `ctx.ruleState`). */
  onFile?(ctx: RuleContext): void;
  /**
   * Data files shipped with the DAGs (`.sql`, `.yaml`, `.json`, `.sh`, `.env`, `.ini`/`.cfg`, `.toml`; src/data/kinds.ts):
   * called once per file with `ctx.file.text` and `ctx.file.dataKind`, no syntax tree (`ctx.root` throws). Key/value
   * pairs come from `ctx.use(DATA_PAIRS)` (src/data/pairs.ts); report with `ctx.reportRange`.
   */
  onDataFile?(ctx: RuleContext): void;
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

/** A path rule's finding: `meta.message` (or `meta.messages[opts.message]`) filled with `fields`. */
export type PathReport = (fields?: Fields, opts?: { severity?: Severity; message?: string }) => void;
