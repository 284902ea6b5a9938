import type { Rule } from '../../src/engine/rule';
import DG101 from './DG101-hardcoded-password';
import DG102 from './DG102-credentials-in-uri';
import DG103 from './DG103-known-token-format';
import DG104 from './DG104-high-entropy-secret';
import DG105 from './DG105-credential-by-context';

export const rules: Rule[] = [DG101, DG102, DG103, DG104, DG105];
