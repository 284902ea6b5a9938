import type { Rule } from '../../src/engine/rule';
import DG501 from './DG501-denied-module';
import DG502 from './DG502-import-not-allowed';
import DG503 from './DG503-typosquatted-module';
import DG504 from './DG504-untrusted-package-source';
import DG505 from './DG505-import-path-outside-repository';

export const rules: Rule[] = [DG501, DG502, DG503, DG504, DG505];
