import type { Rule } from '../../src/engine/rule';
import DG401 from './DG401-pickle-deserialization';
import DG402 from './DG402-marshal-deserialization';
import DG403 from './DG403-yaml-unsafe-load';
import DG404 from './DG404-torch-load-unsafe';
import DG405 from './DG405-archive-extraction-without-filter';
import DG406 from './DG406-xml-external-entities-enabled';
import DG407 from './DG407-xml-parse-untrusted';

export const rules: Rule[] = [DG401, DG402, DG403, DG404, DG405, DG406, DG407];
