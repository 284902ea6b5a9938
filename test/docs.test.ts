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

describe('rules/manifest.json', () => {
  it('holds what the rule modules declare (run `npm run docs` after changing a rule)', async () => {
    const { FAMILIES } = await import('../rules');
    const { manifestOf } = await import('../src/registry');
    const fresh = manifestOf(FAMILIES);
    // plain data: nothing a JSON file cannot carry (a function, undefined in a list) is lost on the way
    expect(JSON.parse(JSON.stringify(fresh))).toEqual(fresh);
    const stored = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'rules', 'manifest.json'), 'utf8'));
    expect(stored).toEqual(JSON.parse(JSON.stringify(fresh)));
  });

  it('loads each rule from its family', async () => {
    const { loadRules, STATIC_RULES } = await import('../src/registry');
    const ids = STATIC_RULES.map((r) => r.meta.id);
    expect((await loadRules(ids)).map((r) => r.meta.id)).toEqual(ids);
    expect((await loadRules(['DG705', 'DG101'])).map((r) => r.meta.id)).toEqual(['DG101', 'DG705']);
  });
});

/**
 * Every TOML config example in README and docs/ parses and validates against the config schema (src/config-schema.ts),
 * as `dag-guard check` would load it, so no page can teach a key the tool rejects (`import-allow` was one).
 */
describe('config examples in the docs', () => {
  const repo = path.join(__dirname, '..');
  const pages = ['README.md', ...fs.readdirSync(path.join(repo, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const blocks: Array<{ page: string; line: number; text: string }> = [];
  for (const page of pages) {
    const text = fs.readFileSync(path.join(repo, page), 'utf8');
    const re = /^```toml\n([\s\S]*?)^```/gm;
    for (let m = re.exec(text); m; m = re.exec(text)) blocks.push({ page, line: text.slice(0, m.index).split('\n').length, text: m[1] });
  }

  it('there are examples to check', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it.each(blocks.map((b) => [`${b.page}:${b.line}`, b] as const))('%s validates against the schema', (_where, b) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadConfig } = require('../dist/src/config');
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'dg-docs-toml-'));
    try {
      // A block that spells [tool.dag-guard] is a pyproject.toml excerpt; the others are a dedicated file.
      const file = path.join(dir, /^\s*\[tool\.dag-guard/m.test(b.text) ? 'pyproject.toml' : '.dag-guard.toml');
      fs.writeFileSync(file, b.text);
      expect(() => loadConfig(file)).not.toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the init template validates too, in both forms, and teaches `airflow.**`', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { starterConfig } = require('../dist/src/integrations');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadConfig } = require('../dist/src/config');
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'dg-docs-init-'));
    try {
      for (const [name, kind] of [['.dag-guard.toml', 'dedicated'], ['pyproject.toml', 'pyproject']] as const) {
        const text: string = starterConfig(kind);
        // Uncomment every example setting: they must all be valid keys with valid values.
        const uncommented = text.replace(/^# ((?:[a-z-]+|"[^"]+") = .*?)(?:\s+#.*)?$/gm, '$1');
        fs.writeFileSync(path.join(dir, name), uncommented);
        expect(() => loadConfig(path.join(dir, name)), kind).not.toThrow();
        expect(text).toContain('allow = ["airflow.**"');
        expect(text).not.toContain('"airflow.*"');
        fs.rmSync(path.join(dir, name));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
