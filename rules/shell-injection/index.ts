import type { Rule } from '../../src/engine/rule';

export const rules: Rule[] = [];
