/**
 * Every rule dag-guard knows — the static rules (rules/) and the sandbox's (DG9xx, src/sandbox/rules.ts, which have
 * metadata but no matcher) — in one selector space: `--select`/`--ignore`, the config's `select`, `ignore`,
 * `severity`, `per-file-ignores`, `suppressible` and `rules` tables, suppression comments, baselines, `explain`,
 * `rules` and the generated docs all look rules up here.
 *
 * The static rules' metadata comes from rules/manifest.json, generated from the rules by `npm run docs` (a test
 * keeps it equal to what the rule modules declare), so that knowing the rules does not mean loading them: their
 * matchers are loaded by family, when a file has to be scanned (`loadRules`).
 */
import type { Rule, RuleMeta } from './engine/rule';
import { FAMILY_LOADERS, type Family } from '../rules/families';
import MANIFEST from '../rules/manifest.json';
import { SANDBOX_RULES } from './sandbox/rules';

/** A static rule as the manifest describes it: its metadata, its family, and which kinds of input it reads. */
export interface StaticRuleEntry {
  meta: RuleMeta;
  family: Family;
  /** Looks at paths (rules with `onPath`): run by the path scanner on what discovery visits, not on file contents. */
  onPath: boolean;
  /** Also reads data files (`onDataFile`). */
  onDataFile: boolean;
}

export const STATIC_RULES: readonly StaticRuleEntry[] = (MANIFEST as unknown as { rules: StaticRuleEntry[] }).rules;

export const RULE_METAS: readonly RuleMeta[] = [...STATIC_RULES.map((r) => r.meta), ...SANDBOX_RULES];

/** The registry in the shape rule selection takes (`{ meta }`). */
export const REGISTRY: readonly { meta: RuleMeta }[] = RULE_METAS.map((meta) => ({ meta }));

const BY_ID = new Map(RULE_METAS.map((m) => [m.id, m]));

export function ruleMeta(id: string): RuleMeta | undefined {
  return BY_ID.get(id);
}

/** The manifest's entry of each rule module (what `npm run docs` writes to rules/manifest.json). */
export function manifestOf(families: Record<Family, Rule[]>): { rules: StaticRuleEntry[] } {
  const rules: StaticRuleEntry[] = [];
  for (const [family, list] of Object.entries(families) as [Family, Rule[]][]) {
    for (const r of list) rules.push({ meta: r.meta, family, onPath: Boolean(r.onPath), onDataFile: Boolean(r.onDataFile) });
  }
  return { rules };
}

/** The rule modules of these ids, in registry order, loading only their families. */
export async function loadRules(ids: Iterable<string>): Promise<Rule[]> {
  const wanted = new Set(ids);
  const families = [...new Set(STATIC_RULES.filter((r) => wanted.has(r.meta.id)).map((r) => r.family))];
  const loaded = await Promise.all(families.map((f) => FAMILY_LOADERS[f]()));
  const byId = new Map(loaded.flatMap((m) => m.rules).map((r) => [r.meta.id, r]));
  return STATIC_RULES.filter((r) => wanted.has(r.meta.id)).map((r) => {
    const rule = byId.get(r.meta.id);
    // A rule in the manifest but not in its family's module: rules/manifest.json is stale (`npm run docs`).
    if (!rule) throw new Error(`rule ${r.meta.id} is not in rules/${r.family} (rules/manifest.json is out of date: run \`npm run docs\`)`);
    return rule;
  });
}
