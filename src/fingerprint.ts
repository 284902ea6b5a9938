/**
 * The one fingerprint of a finding, for baselines and SARIF `partialFingerprints`: rule id, the path relative to a
 * stable root (the config folder or repository top — never the working directory, so the same repository checked
 * from elsewhere keeps its baselines) and a normalised key that does not move with line numbers (the code, redacted
 * when it holds a secret; a path rule's or the sandbox's message). `occurrence` tells apart identical findings of
 * one file (the second `eval(x)`).
 */
import { createHash } from 'node:crypto';

export function fingerprint(ruleId: string, identityPath: string, key: string, occurrence?: number): string {
  const h = createHash('sha256').update(`${ruleId}\0${identityPath}\0${key}`);
  if (occurrence !== undefined) h.update(`\0${occurrence}`);
  return h.digest('hex').slice(0, 32);
}
