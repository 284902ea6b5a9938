import type { Rule } from './engine/rule';

/**
 * A selector names rules by id (`DG101`), id prefix (`DG1`, `DG10`), kebab-case name or category
 * (`secret`). Unknown selectors are errors so that a typo cannot silently disable nothing.
 */
export function matchesSelector(rule: Rule, selector: string): boolean {
  const s = selector.trim();
  const up = s.toUpperCase();
  return (
    rule.meta.id.toUpperCase().startsWith(up) ||
    rule.meta.name === s ||
    rule.meta.category === s
  );
}

export function unknownSelectors(rules: Rule[], selectors: string[]): string[] {
  return selectors.filter((s) => !rules.some((r) => matchesSelector(r, s)));
}

export function selectRules(rules: Rule[], select: string[], ignore: string[]): Rule[] {
  return rules.filter(
    (r) => (select.length === 0 || select.some((s) => matchesSelector(r, s))) && !ignore.some((s) => matchesSelector(r, s)),
  );
}
