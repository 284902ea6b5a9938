/**
 * Every static rule, by family (the folders of rules/), in report order; each family's index.ts lists its rules in id
 * order. Importing this module loads every rule: a run loads only the families it needs through `FAMILY_LOADERS`
 * and reads the rules' metadata from `rules/manifest.json` (generated from here by `npm run docs`; src/registry.ts).
 */
import type { Rule } from '../src/engine/rule';
import { rules as secret } from './secret';
import { rules as shell } from './shell-injection';
import { rules as code } from './code-injection';
import { rules as deser } from './deserialization';
import { rules as imports } from './imports';
import { rules as malicious } from './malicious';
import { rules as importPath } from './import-path';
import { rules as sql } from './sql-injection';
import { rules as pod } from './pod-security';
import { rules as transport } from './transport';
import { rules as insecureConfig } from './insecure-config';
import type { Family } from './families';

export const FAMILIES: Record<Family, Rule[]> = {
  secret,
  'shell-injection': shell,
  'sql-injection': sql,
  'code-injection': code,
  deserialization: deser,
  imports,
  malicious,
  'pod-security': pod,
  transport,
  'insecure-config': insecureConfig,
  'import-path': importPath,
};

export const ALL_RULES: Rule[] = Object.values(FAMILIES).flat();
