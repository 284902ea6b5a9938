import type { Rule } from '../../src/engine/rule';
import DG701 from './DG701-compiled-bytecode';
import DG702 from './DG702-native-extension';
import DG703 from './DG703-path-configuration-file';
import DG704 from './DG704-startup-hook-module';
import DG705 from './DG705-stdlib-module-shadow';
import DG706 from './DG706-symlink-leaves-tree';

/** Path rules: they look at the checked tree's paths (src/path-scan.ts), never at source text. */
export const rules: Rule[] = [DG701, DG702, DG703, DG704, DG705, DG706];
