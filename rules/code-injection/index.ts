import type { Rule } from '../../src/engine/rule';
import DG301 from './DG301-exec-of-dynamic-code';

export const rules: Rule[] = [DG301];
