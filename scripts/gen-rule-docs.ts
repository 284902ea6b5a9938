/**
 * `npm run docs`: writes docs/rules.md and rules/manifest.json (the rules' metadata, read by src/registry.ts so that
 * a run need not load the rule modules) from the rules themselves; tests keep both in sync.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FAMILIES } from '../rules';
import { manifestOf } from '../src/registry';
import { renderRuleDocsPage } from '../src/rule-docs';
import { SANDBOX_RULES } from '../src/sandbox/rules';

const repo = path.resolve(__dirname, '..', '..');
const manifest = path.join(repo, 'rules', 'manifest.json');
const entries = manifestOf(FAMILIES);
const json = `${JSON.stringify(entries, null, 1)}\n`;
fs.writeFileSync(manifest, json);
fs.writeFileSync(path.resolve(__dirname, '..', 'rules', 'manifest.json'), json); // the build's copy (tsc copies it too)
process.stdout.write(`wrote ${manifest}\n`);
const out = path.join(repo, 'docs', 'rules.md');
// from the rules, not from the manifest this process loaded before it was rewritten
fs.writeFileSync(out, renderRuleDocsPage([...entries.rules.map((r) => r.meta), ...SANDBOX_RULES]));
process.stdout.write(`wrote ${out}\n`);
