import type { Rule } from '../../src/engine/rule';
import DG801 from './DG801-privileged-container';
import DG802 from './DG802-host-access';
import DG803 from './DG803-unpinned-image';

export const rules: Rule[] = [DG801, DG802, DG803];
