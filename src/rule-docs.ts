import type { RuleMeta } from './engine/rule';
import { ALL_RULES } from '../rules';

export const DOCS_BASE_URL = 'https://github.com/dag-guard/dag-guard/blob/main/docs/rules.md';

export function ruleDocUrl(meta: { id: string; name: string }): string {
  return `${DOCS_BASE_URL}#${meta.id.toLowerCase()}-${meta.name}`;
}

/** Static rules, plus the sandbox's when that module is present. */
export function allRuleMetas(): RuleMeta[] {
  const metas: RuleMeta[] = ALL_RULES.map((r) => r.meta);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sb = require('./sandbox/rules') as { SANDBOX_RULES?: RuleMeta[] };
    metas.push(...(sb.SANDBOX_RULES ?? []));
  } catch {
    /* sandbox rules not built */
  }
  return metas;
}

export function findRule(idOrName: string): RuleMeta | undefined {
  const q = idOrName.trim();
  return allRuleMetas().find((m) => m.id.toUpperCase() === q.toUpperCase() || m.name === q);
}

/** The doc as Markdown: `dag-guard explain` prints it, docs/rules.md concatenates it. */
export function renderRuleDoc(m: RuleMeta, headingLevel = 1): string {
  const h = '#'.repeat(headingLevel);
  const hh = '#'.repeat(headingLevel + 1);
  const parts = [
    `${h} ${m.id} ${m.name}`,
    '',
    `Category: \`${m.category}\` · default severity: \`${m.severity}\`` +
      (m.aliases?.length ? ` · also suppressed by: ${m.aliases.map((a) => `\`${a}\``).join(', ')}` : ''),
    '',
    `${hh} What it does`,
    m.docs.what,
    '',
    `${hh} Why is this bad?`,
    m.docs.why,
    '',
    `${hh} Example`,
    m.docs.example,
    '',
    `${hh} Use instead`,
    m.docs.useInstead,
    '',
  ];
  return parts.join('\n');
}
