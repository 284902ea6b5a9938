import type { Rule } from '../../src/engine/rule';
import DG501 from './DG501-denied-module';
import DG502 from './DG502-import-not-allowed';
import DG503 from './DG503-typosquatted-module';

export const rules: Rule[] = [DG501, DG502, DG503];
