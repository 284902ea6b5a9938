import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('docs/rules.md', () => {
  it('is generated from the current rules (run `npm run docs` after changing a rule)', () => {
    // The build, not the sources: it is what `npm run docs` and the CLI use (sandbox rules load at run time).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { renderRuleDocsPage } = require('../dist/src/rule-docs');
    const page = fs.readFileSync(path.join(__dirname, '..', 'docs', 'rules.md'), 'utf8');
    expect(page).toBe(renderRuleDocsPage());
  });
});
