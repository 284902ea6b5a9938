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
   *  DG4xx unsafe-deserialization, DG5xx unapproved-import, DG6xx malicious. Never reuse a retired code. */
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
   * tree-sitter query (one or more patterns). All rules' queries are compiled into one query and run in a
   * single pass over the tree; `onMatch` gets each match of this rule's patterns, in document order.
   */
  query?: string;
  onMatch?(captures: QueryCaptures, ctx: RuleContext): void;
  /** Whole-file checks that need no tree (e.g. raw-text scans), or that aggregate what `onMatch` saw. */
  onFile?(ctx: RuleContext): void;
}

export function defineRule(rule: Rule): Rule {
  return rule;
}
