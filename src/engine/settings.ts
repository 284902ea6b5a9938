/** The part of the configuration that rules and the analyzer see. Plain data: it crosses to worker threads. */
export interface Settings {
  /** Module globs (micromatch, `.`-separated names) allowed to be imported; empty = no allow list. */
  importAllow: string[];
  /** Extra module globs to deny on top of the built-in deny list. */
  importDeny: string[];
  /** Suppression comments must carry `-- reason` to take effect. */
  requireSuppressionReason: boolean;
  /** Honour bandit `# nosec` and ruff `# noqa: Sxxx` comments for rules that map to those codes. */
  honourNosec: boolean;
  /** Per-rule options, by rule id. */
  ruleOptions: Record<string, Record<string, unknown>>;
  /**
   * Parse every file, so that each syntax error is reported (DG000). Off by default: a file in which no rule finds
   * anything to look at in the text is not parsed, and an error in it cannot hide a finding. Files named on the
   * command line are always parsed (src/scan.ts).
   */
  checkSyntax?: boolean;
  /**
   * Enforce mode: the ids of the rules whose inline suppressions are honoured; any other suppression leaves the
   * finding in place and is reported (DG006). Undefined outside enforce mode: every suppression is honoured.
   */
  suppressible?: string[];
}

export const DEFAULT_SETTINGS: Settings = {
  importAllow: [],
  importDeny: [],
  requireSuppressionReason: false,
  honourNosec: true,
  ruleOptions: {},
};
