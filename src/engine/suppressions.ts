/**
 * Inline suppressions.
 *
 *   x = call()  # dag-guard: ignore[DG101] -- fixture credentials for the local stack
 *   x = call()  # dag-guard: ignore[DG1, shell-injection, B602] -- reason
 *   x = call()  # dag-guard: ignore -- reason   (every rule on this statement)
 *   x = call()  # nosec B602          (bandit; honoured for rules that map to B602)
 *   x = call()  # noqa: S602          (ruff S codes, and DG codes)
 *
 * `ignore[...]` takes the selectors `--select` takes (ids, id prefixes, names, categories, bandit/ruff aliases;
 * case-insensitive). A bare `# dag-guard: ignore` silences every rule on the statement, like a bare `# nosec`; without
 * a `-- reason` it is also reported (warning DG004), so a blanket silence never goes unnoticed in review.
 * A selector that names no rule at all is reported as unknown (DG003), not as unused.
 * A comment applies to findings whose statement spans its line, so it works on any line of a multi-line call.
 */
import type { Rule, RuleMeta } from './rule';
import { describeUnknown, matchesSelector } from '../rule-select';
import { allRuleMetas } from '../rule-docs';

export interface Suppression {
  line: number;
  column: number;
  kind: 'dag-guard' | 'nosec' | 'noqa';
  /** Selectors (dag-guard) or codes (nosec/noqa) listed; empty for a bare `# nosec` / `# dag-guard: ignore`. */
  codes: string[];
  reason: string | null;
  used: boolean;
}

const DG_RE = /#\s*dag-guard:\s*ignore(?![\w-])(?:\[([^\]]*)\])?(?:\s*--\s*(.*))?/i;
const NOSEC_RE = /#\s*nosec\b:?\s*([^#]*?)(?:\s*--\s*([^#]*))?\s*(?:#|$)/i;
const NOQA_RE = /#\s*noqa:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)(?:\s*--\s*([^#]*))?/i;

export function parseSuppression(comment: string, line: number, column: number): Suppression | null {
  let m = DG_RE.exec(comment);
  if (m) {
    return { line, column, kind: 'dag-guard', codes: splitCodes(m[1]), reason: clean(m[2]), used: false };
  }
  m = NOSEC_RE.exec(comment);
  if (m) {
    return { line, column, kind: 'nosec', codes: splitCodes(m[1]), reason: clean(m[2]), used: false };
  }
  m = NOQA_RE.exec(comment);
  if (m) {
    return { line, column, kind: 'noqa', codes: splitCodes(m[1]), reason: clean(m[2]), used: false };
  }
  return null;
}

function splitCodes(s: string | undefined): string[] {
  return (s ?? '')
    .split(/[\s,]+/)
    .map((c) => c.trim())
    .filter(Boolean);
}

function clean(s: string | undefined): string | null {
  const t = (s ?? '').trim();
  return t.length ? t : null;
}

/** A bare `# nosec` or `# dag-guard: ignore`: every rule on the statement. */
export function isBlanket(s: Suppression): boolean {
  return s.codes.length === 0 && (s.kind === 'nosec' || s.kind === 'dag-guard');
}

/**
 * Does this suppression name the rule? dag-guard comments: any `--select` selector. nosec/noqa comments name codes
 * exactly (id, name or bandit/ruff alias), as bandit and ruff read them.
 */
export function suppressionCovers(s: Suppression, rule: Rule): boolean {
  if (isBlanket(s)) return true;
  if (s.kind === 'dag-guard') return s.codes.some((c) => matchesSelector(rule, c));
  const names = new Set([rule.meta.id.toUpperCase(), rule.meta.name.toUpperCase()]);
  for (const a of rule.meta.aliases ?? []) names.add(a.toUpperCase());
  return s.codes.some((c) => names.has(c.toUpperCase()));
}

/**
 * What an unused suppression is reported under (DG001): the selectors of a dag-guard comment (`ignore` for a bare
 * one), `nosec` for a bare `# nosec`, else the codes in it that this tool owns; empty when it only concerns other
 * tools (`# noqa: E501`).
 */
export function unusedCodes(s: Suppression, known: Set<string>): string[] {
  if (s.kind === 'dag-guard') return s.codes.length ? s.codes : ['ignore'];
  if (s.kind === 'nosec' && s.codes.length === 0) return ['nosec'];
  return s.codes.filter((c) => known.has(c.toUpperCase()));
}

let universe: Array<{ meta: RuleMeta }> | null = null;
/** Every rule dag-guard knows (static and sandbox), selected or not: what an `ignore[...]` selector may name. */
function allRules(): Array<{ meta: RuleMeta }> {
  if (!universe) universe = allRuleMetas().map((meta) => ({ meta }));
  return universe;
}

/** Selectors of a dag-guard comment that name no rule at all (typos, retired codes): reported as DG003. */
export function unknownSuppressionCodes(s: Suppression): string[] {
  if (s.kind !== 'dag-guard') return [];
  const rules = allRules();
  return s.codes.filter((c) => !rules.some((r) => matchesSelector(r, c)));
}

/** `DG999 (did you mean …?)` for a DG003 message. */
export function describeUnknownCodes(codes: string[]): string {
  return describeUnknown(allRules(), codes);
}
