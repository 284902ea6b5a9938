/**
 * Every rule dag-guard knows — the static rules (rules/) and the sandbox's (DG9xx, src/sandbox/rules.ts, which have
 * metadata but no matcher) — in one selector space: `--select`/`--ignore`, the config's `select`, `ignore`,
 * `severity`, `per-file-ignores`, `suppressible` and `rules` tables, suppression comments, baselines, `explain`,
 * `rules` and the generated docs all look rules up here.
 */
import { ALL_RULES } from '../rules';
import type { RuleMeta } from './engine/rule';
import { SANDBOX_RULES } from './sandbox/rules';

export const RULE_METAS: readonly RuleMeta[] = [...ALL_RULES.map((r) => r.meta), ...SANDBOX_RULES];

/** The registry in the shape rule selection takes (`{ meta }`). */
export const REGISTRY: readonly { meta: RuleMeta }[] = RULE_METAS.map((meta) => ({ meta }));

const BY_ID = new Map(RULE_METAS.map((m) => [m.id, m]));

export function ruleMeta(id: string): RuleMeta | undefined {
  return BY_ID.get(id);
}
