import type { Rule } from '../../src/engine/rule';
import DG250 from './DG250-formatted-sql';
import DG251 from './DG251-templated-input-in-sql';

export const rules: Rule[] = [DG250, DG251];
