/** Every static rule, grouped by family. Each family's index.ts lists its rules in id order. */
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

export const ALL_RULES: Rule[] = [...secret, ...shell, ...sql, ...code, ...deser, ...imports, ...malicious, ...pod, ...transport, ...importPath];
