import type { Rule } from '../../src/engine/rule';
import DG301 from './DG301-exec-of-dynamic-code';
import DG302 from './DG302-dynamic-import';
import DG303 from './DG303-dynamic-getattr';
import DG304 from './DG304-decoded-payload-exec';
import DG305 from './DG305-run-code-from-path';
import DG306 from './DG306-code-object-execution';
import DG307 from './DG307-jinja-template-from-input';
import DG308 from './DG308-code-runner-as-value';
import DG309 from './DG309-dataframe-expression-from-input';
import DG310 from './DG310-obfuscated-name-lookup';

export const rules: Rule[] = [DG301, DG302, DG303, DG304, DG305, DG306, DG307, DG308, DG309, DG310];
