/**
 * Per-rule options (`[tool.dag-guard.rules.DG501]`, `[rules.denied-module]` in dag-guard.toml), checked against
 * the JSON schema each rule declares in `meta.options`: an unknown rule, a rule that takes no options, an unknown
 * option or a wrong type is a configuration error (exit 2) with a did-you-mean — a typo (`alow = [...]`) must not
 * silently leave a rule unconfigured.
 */
import type AjvType from 'ajv';
import { UserError } from './exit-codes';
import { RULE_METAS } from './registry';
import { didYouMean } from './suggest';

/** The options by rule id (keys given by rule name are mapped to ids), or a UserError. */
export function validateRuleOptions(options: Record<string, Record<string, unknown>>, source: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const entries = Object.entries(options);
  if (!entries.length) return out;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Ajv = require('ajv').default as typeof AjvType;
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const [key, value] of entries) {
    const meta = RULE_METAS.find((m) => m.id === key.toUpperCase() || m.name === key);
    if (!meta) {
      throw new UserError(`${source}: [rules.${key}]: unknown rule${didYouMean(key, RULE_METAS.flatMap((m) => [m.id, m.name]))} (see \`dag-guard rules\`)`);
    }
    const schema = meta.options;
    if (!schema) {
      const takes = RULE_METAS.filter((m) => m.options).map((m) => m.id);
      throw new UserError(`${source}: [rules.${key}]: ${meta.id} takes no options (rules with options: ${takes.join(', ') || 'none'})`);
    }
    const validate = ajv.compile(schema);
    if (!validate(value)) {
      const e = validate.errors?.[0];
      const extra = e?.keyword === 'additionalProperties' ? String((e.params as { additionalProperty?: string }).additionalProperty) : null;
      const known = Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {});
      const what = extra
        ? `unknown option \`${extra}\`${didYouMean(extra, known)}`
        : `${e?.instancePath || 'value'} ${e?.message ?? 'is invalid'}`;
      throw new UserError(`${source}: [rules.${key}]: ${what} (options of ${meta.id}: ${known.join(', ')})`);
    }
    out[meta.id] = value;
  }
  return out;
}
