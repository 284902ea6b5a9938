import type { Rule } from '../../src/engine/rule';
import DG851 from './DG851-tls-verification-disabled';
import DG852 from './DG852-ssh-host-key-not-verified';

export const rules: Rule[] = [DG851, DG852];
