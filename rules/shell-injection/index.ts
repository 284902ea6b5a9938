import type { Rule } from '../../src/engine/rule';
import DG201 from './DG201-subprocess-shell-with-input';
import DG202 from './DG202-os-command-with-input';
import DG203 from './DG203-templated-user-input-in-shell';
import DG204 from './DG204-formatted-shell-command';

export const rules: Rule[] = [DG201, DG202, DG203, DG204];
