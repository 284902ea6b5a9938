import type { Rule } from '../../src/engine/rule';
import DG801 from './DG801-privileged-container';
import DG802 from './DG802-host-access';
import DG803 from './DG803-unpinned-image';
import DG804 from './DG804-no-resource-limits';
import DG805 from './DG805-privileged-service-account';
import DG806 from './DG806-pod-may-run-as-root';

export const rules: Rule[] = [DG801, DG802, DG803, DG804, DG805, DG806];
