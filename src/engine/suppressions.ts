/**
 * Inline suppressions.
 *
 *   x = call()  # dag-guard: ignore[DG101] -- fixture credentials for the local stack
 *   x = call()  # dag-guard: ignore[DG101, shell-true-with-input] -- reason
 *   x = call()  # nosec B602          (bandit; honoured for rules that map to B602)
 *   x = call()  # noqa: S602          (ruff S codes, and DG codes)
 *
 * A comment applies to findings whose statement spans its line, so it works on any line of a multi-line call.
 * A bare `# nosec` silences every rule on that statement, as in bandit.
 */
import type { Rule } from './rule';

export interface Suppression {
  line: number;
  column: number;
  kind: 'dag-guard' | 'nosec' | 'noqa';
  /** Rule ids/names/aliases listed; empty for a bare `# nosec`. */
  codes: string[];
  reason: string | null;
  used: boolean;
}

const DG_RE = /#\s*dag-guard:\s*ignore\[([^\]]*)\](?:\s*--\s*(.*))?/i;
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

/** Does this suppression name the rule (by id, name, or a bandit/ruff alias)? */
export function suppressionCovers(s: Suppression, rule: Rule): boolean {
  if (s.kind === 'nosec' && s.codes.length === 0) return true;
  const names = new Set([rule.meta.id.toUpperCase(), rule.meta.name.toUpperCase()]);
  for (const a of rule.meta.aliases ?? []) names.add(a.toUpperCase());
  return s.codes.some((c) => names.has(c.toUpperCase()));
}

/**
 * What an unused suppression is reported under (DG001): the codes in it that this tool owns, or `nosec` for a bare
 * `# nosec`; empty when it only concerns other tools (`# noqa: E501`).
 */
export function unusedCodes(s: Suppression, known: Set<string>): string[] {
  if (s.kind === 'dag-guard') return s.codes;
  if (s.kind === 'nosec' && s.codes.length === 0) return ['nosec'];
  return s.codes.filter((c) => known.has(c.toUpperCase()));
}
