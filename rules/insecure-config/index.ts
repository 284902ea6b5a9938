import type { Rule } from '../../src/engine/rule';
import DG861 from './DG861-world-writable-permissions';
import DG862 from './DG862-weak-hash-for-security';
import DG863 from './DG863-airflow-insecure-setting';

export const rules: Rule[] = [DG861, DG862, DG863];
