/**
 * Each rule family's module, loaded on first use: a run whose results all come from the cache loads no rule (nor the
 * engine and the grammar they import), and the main thread of a directory walk loads only the path rules.
 */
import type { Rule } from '../src/engine/rule';

type Loader = () => Promise<{ rules: Rule[] }>;

export const FAMILY_LOADERS = {
  secret: () => import('./secret'),
  'shell-injection': () => import('./shell-injection'),
  'sql-injection': () => import('./sql-injection'),
  'code-injection': () => import('./code-injection'),
  deserialization: () => import('./deserialization'),
  imports: () => import('./imports'),
  malicious: () => import('./malicious'),
  'pod-security': () => import('./pod-security'),
  transport: () => import('./transport'),
  'insecure-config': () => import('./insecure-config'),
  'import-path': () => import('./import-path'),
} satisfies Record<string, Loader>;

export type Family = keyof typeof FAMILY_LOADERS;
