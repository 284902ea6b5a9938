/** Writes docs/rules.md from the rules' own metadata (`npm run docs`); a test keeps it in sync. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderRuleDocsPage } from '../src/rule-docs';

const out = path.resolve(__dirname, '..', '..', 'docs', 'rules.md');
fs.writeFileSync(out, renderRuleDocsPage());
process.stdout.write(`wrote ${out}\n`);
