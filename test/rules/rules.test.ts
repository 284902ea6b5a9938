/**
 * One generic test for every static rule: each rule has a fixture `test/rules/fixtures/<ID>.py` with at least one
 * `# ruleid:` and one `# ok:` annotation, and the findings of every annotated rule in every fixture must be
 * exactly the annotated lines — no missed finding, no extra one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_RULES } from '../../rules';
import { analyzeDataFile, analyzeSource, compileRules } from '../../src/engine/analyze';
import { dataKindOf } from '../../src/data/kinds';
import { DEFAULT_SETTINGS, type Settings } from '../../src/engine/settings';
import { parseAnnotations } from './annotations';

const FIXTURES = path.join(__dirname, 'fixtures');
const compiled = compileRules(ALL_RULES);
const fixtureFiles = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.py')).sort();
/** Data files (src/data/kinds.ts), annotated with their own comments (`#`, `--` in SQL; `#` lines in the JSON one, which the YAML parser reads). */
const DATA_FIXTURES = path.join(FIXTURES, 'data');
const dataFixtures = fs.readdirSync(DATA_FIXTURES).sort();

/** A fixture may carry settings in a first-line comment: `# settings: {"importAllow": ["airflow.**"]}`. */
function settingsFor(text: string): Settings {
  const m = /^#\s*settings:\s*(\{.*\})\s*$/m.exec(text.split('\n').slice(0, 3).join('\n'));
  return m ? { ...DEFAULT_SETTINGS, ...JSON.parse(m[1]) } : DEFAULT_SETTINGS;
}

describe('rule catalogue', () => {
  it('has unique ids and names, family-grouped codes and complete docs', () => {
    const ids = new Set<string>();
    const names = new Set<string>();
    const family: Record<string, string> = {
      '1': 'secret',
      '2': 'shell-injection',
      '3': 'code-injection',
      '4': 'unsafe-deserialization',
      '5': 'unapproved-import',
      '6': 'malicious',
      '7': 'import-path',
      '8': 'pod-security',
    };
    for (const r of ALL_RULES) {
      expect(r.meta.id).toMatch(/^DG[1-8]\d\d$/);
      expect(ids.has(r.meta.id), `duplicate id ${r.meta.id}`).toBe(false);
      expect(names.has(r.meta.name), `duplicate name ${r.meta.name}`).toBe(false);
      ids.add(r.meta.id);
      names.add(r.meta.name);
      expect(r.meta.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      // DG2xx is the injection family: shell below DG250, SQL from DG250 (as bandit's B6xx holds both)
      // DG8xx holds the deployment families: pod security below DG850, transport security DG85x, configuration DG86x
      expect(r.meta.category).toBe(r.meta.id.startsWith('DG25') ? 'sql-injection' : r.meta.id >= 'DG860' && r.meta.id < 'DG900' ? 'insecure-config' : r.meta.id >= 'DG850' && r.meta.id < 'DG900' ? 'insecure-transport' : family[r.meta.id[2]]);
      for (const part of ['what', 'why', 'example', 'useInstead'] as const) {
        expect(r.meta.docs[part].length, `${r.meta.id} docs.${part}`).toBeGreaterThan(20);
      }
      expect(r.calls || r.query || r.onFile || r.onPath || r.onDataFile, `${r.meta.id} has no matcher`).toBeTruthy();
      if (r.onPath) expect(r.calls || r.query || r.onFile, `${r.meta.id}: a path rule has no other hook`).toBeFalsy();
    }
  });

  // Path rules (rules/import-path) look at file names and bytes, not source: test/rules/path-rules.test.ts builds trees.
  for (const r of ALL_RULES.filter((x) => !x.onPath)) {
    it(`${r.meta.id} has a fixture with positive and negative cases`, () => {
      const file = path.join(FIXTURES, `${r.meta.id}.py`);
      expect(fs.existsSync(file), `missing ${path.relative(process.cwd(), file)}`).toBe(true);
      const ann = parseAnnotations(fs.readFileSync(file, 'utf8')).filter((a) => a.ruleId === r.meta.id);
      expect(ann.some((a) => a.expect === 'finding'), 'needs a `# ruleid:` case').toBe(true);
      expect(ann.some((a) => a.expect === 'none'), 'needs an `# ok:` case').toBe(true);
    });
  }

  for (const r of ALL_RULES.filter((x) => x.onDataFile)) {
    it(`${r.meta.id} has data-file fixtures with positive and negative cases`, () => {
      const ann = dataFixtures.flatMap((f) => parseAnnotations(fs.readFileSync(path.join(DATA_FIXTURES, f), 'utf8'))).filter((a) => a.ruleId === r.meta.id);
      expect(ann.some((a) => a.expect === 'finding'), 'needs a `# ruleid:` case in test/rules/fixtures/data').toBe(true);
      expect(ann.some((a) => a.expect === 'none'), 'needs an `# ok:` case in test/rules/fixtures/data').toBe(true);
    });
  }
});

describe.each([...fixtureFiles, ...dataFixtures.map((f) => `data/${f}`)])('fixture %s', (name) => {
  const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
  const annotations = parseAnnotations(text);
  const kind = name.startsWith('data/') ? dataKindOf(name) : null;
  if (name.startsWith('data/') && !kind) throw new Error(`${name}: not a data file kind`);
  const res = kind ? analyzeDataFile(name, text, kind, compiled, settingsFor(text)) : analyzeSource(name, text, compiled, settingsFor(text));
  const annotatedRules = [...new Set(annotations.map((a) => a.ruleId))];

  it('runs without rule errors', () => {
    expect(res.ruleErrors).toEqual([]);
  });

  for (const id of annotatedRules) {
    it(`${id}: findings are exactly the annotated lines`, () => {
      expect(ALL_RULES.some((r) => r.meta.id === id), `annotation names unknown rule ${id}`).toBe(true);
      const got = [...new Set(res.findings.filter((f) => f.ruleId === id).map((f) => f.line))].sort((a, b) => a - b);
      const want = annotations.filter((a) => a.ruleId === id && a.expect === 'finding').map((a) => a.line).sort((a, b) => a - b);
      const forbidden = annotations.filter((a) => a.ruleId === id && a.expect === 'none').map((a) => a.line);
      expect(got.filter((l) => forbidden.includes(l)), 'findings on `# ok:` lines').toEqual([]);
      expect(got, 'finding lines vs `# ruleid:` lines').toEqual(want);
    });
  }
});
