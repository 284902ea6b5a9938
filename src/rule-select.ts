import type { RuleMeta } from './engine/rule';
import { didYouMean } from './suggest';

type HasMeta = { meta: Pick<RuleMeta, 'id' | 'name' | 'category' | 'aliases'> };

/**
 * A selector names rules by id (`DG101`), id prefix (`DG1`, `DG10`), kebab-case name (`hardcoded-password`),
 * category (`secret`) or a bandit/ruff alias the rule covers (`B105`, `S105`, `AIR003`), all case-insensitive.
 * The same selectors work in `--select`/`--ignore`, the config, `per-file-ignores`, `dag-guard explain` and inline
 * `# dag-guard: ignore[...]` comments. Unknown selectors are errors so that a typo cannot silently disable nothing.
 */
export function matchesSelector(rule: HasMeta, selector: string): boolean {
  const up = selector.trim().toUpperCase();
  if (!up) return false;
  const m = rule.meta;
  return (
    m.id.toUpperCase().startsWith(up) ||
    m.name.toUpperCase() === up ||
    m.category.toUpperCase() === up ||
    (m.aliases ?? []).some((a) => a.toUpperCase() === up)
  );
}

export function unknownSelectors(rules: readonly HasMeta[], selectors: string[]): string[] {
  return selectors.filter((s) => !rules.some((r) => matchesSelector(r, s)));
}

/** Every spelling a selector can take, for did-you-mean (prefixes are not listed: any id is a candidate). */
export function selectorVocabulary(rules: readonly HasMeta[]): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    out.add(r.meta.id);
    out.add(r.meta.name);
    out.add(r.meta.category);
    for (const a of r.meta.aliases ?? []) out.add(a);
  }
  return [...out];
}

/** `unknown rule selector(s): DG9999 (did you mean …?), secrt (did you mean `secret`?)`. */
export function describeUnknown(rules: readonly HasMeta[], unknown: string[]): string {
  const vocab = selectorVocabulary(rules);
  return unknown.map((u) => `${u}${didYouMean(u, vocab)}`).join(', ');
}

export function selectRules<R extends HasMeta>(rules: readonly R[], select: string[], ignore: string[]): R[] {
  return rules.filter(
    (r) => (select.length === 0 || select.some((s) => matchesSelector(r, s))) && !ignore.some((s) => matchesSelector(r, s)),
  );
}
