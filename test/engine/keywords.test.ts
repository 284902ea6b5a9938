/**
 * The one-pass keyword scanner must find exactly what the slow, obvious searches find: every occurrence of a
 * keyword with `indexOf` on the lower-cased text, and a token word exactly when `/[A-Za-z_][A-Za-z0-9_]*\/g`
 * splits it out of the text. Name-word keywords must be found wherever `nameWords` (the secret rules' name
 * splitter) sees the word in a name. Checked on every rule fixture, sample and a set of hostile edge cases.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeywordScanner } from '../../src/engine/keywords';
import { compileRules } from '../../src/engine/analyze';
import { ALL_RULES } from '../../rules';
import { nameWords } from '../../rules/secret/_names';

const repo = path.resolve(__dirname, '..', '..');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.(py|ya?ml|json|sh|env|sql)$/.test(e.name)) out.push(p);
  }
  return out;
}

const EDGE_CASES = [
  '',
  'o',
  'os',
  '9os a9os _os os.system x.os os9 \u212Aos \u00e9os os\u00e9',
  'İmport os; PASS pAsS pass_word Secret',
  '"os" \'subprocess\' #os\n`os`',
  'getattr(__import__("os"), "system")',
  'kubernetes.io/serviceaccount ~/.aws/credentials ://x',
  'aaaa keykeykey passpass',
  'api_pin userPin X-PIN2 mapping typing design assign DB_PASSWORD databasepassword passwords_file APIKey apiKEY2 KEYs',
  'xabé ABÉ abe ab\u00ff ab\u0100 \u0161os',
  'routing_key2a secret_b64 "X-Auth-Token" pin9Code PINCode PINCODE sid_ inside token_',
];

/** Every run of name characters (identifiers, dotted and dashed keys, `"api key"`): where names live. */
function nameRuns(text: string): { start: number; run: string }[] {
  return [...text.matchAll(/[A-Za-z0-9_.\- ]+/g)].map((m) => ({ start: m.index!, run: m[0] }));
}

function expectedSubstrings(lower: string, word: string): number[] {
  const out: number[] = [];
  for (let i = lower.indexOf(word); i >= 0; i = lower.indexOf(word, i + 1)) out.push(i);
  return out;
}

describe('KeywordScanner', () => {
  const compiled = compileRules(ALL_RULES);
  const texts = [...files(path.join(repo, 'test', 'rules', 'fixtures')), ...files(path.join(repo, 'samples'))].map((f) => fs.readFileSync(f, 'utf8'));
  texts.push(...EDGE_CASES);

  it('finds every keyword occurrence and every token word of the rules, as indexOf and the token regex do', () => {
    const scanner = compiled.scanner;
    let checked = 0;
    for (const text of texts) {
      const lower = text.toLowerCase();
      const hits = scanner.scan(text);
      const tokens = new Set(text.match(/[A-Za-z_][A-Za-z0-9_]*/g));
      for (const [rule, ids] of compiled.keywordIds) {
        ids.forEach((id) => {
          const word = compiled.scanner.word(id);
          const mode = rule.keywordMatch ?? 'substring';
          // the id stands for one of the rule's own keywords
          expect(rule.keywords!.map((w) => (mode === 'token' ? w : w.toLowerCase()))).toContain(word);
          if (mode === 'token') expect(hits[id].length > 0, `${rule.meta.id} ${word}`).toBe(tokens.has(word));
          else if (mode === 'substring') expect(hits[id], `${rule.meta.id} ${word}`).toEqual(expectedSubstrings(lower, word));
          else {
            // never under: every name whose words hold the keyword (or, for name-word-end, end with it) has a hit
            // offsets in the text itself (its lower-cased copy is longer when it holds an `İ`)
            const all = text.length === lower.length ? expectedSubstrings(lower, word) : [...text.matchAll(new RegExp(`(?=${word})`, 'gi'))].map((m) => m.index!);
            expect(all).toEqual(expect.arrayContaining(hits[id]));
            for (const { start, run } of nameRuns(text)) {
              const words = nameWords(run);
              const needed = mode === 'name-word' ? words.includes(word) : words.some((w) => w.endsWith(word));
              if (needed) expect(hits[id].some((i) => i >= start && i < start + run.length), `${rule.meta.id} ${word} in ${run}`).toBe(true);
            }
          }
          checked++;
        });
      }
      for (const c of compiled.calling) {
        c.patterns.forEach((p, k) => p.words.forEach((w, j) => expect(hits[c.wordIds[k][j]].length > 0, w).toBe(tokens.has(w))));
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('handles one-character, non-ASCII and overlapping words', () => {
    const s = new KeywordScanner();
    const ids = {
      a: s.add('a', 'substring'),
      e: s.add('é', 'substring'),
      kk: s.add('keyk', 'substring'),
      // ASCII start, not ASCII later: the table's byte view reads every non-ASCII character as one byte
      abe: s.add('abé', 'substring'),
      os: s.add('os', 'token'),
      x: s.add('x', 'token'),
      imp: s.add('import', 'token'),
    };
    for (const text of EDGE_CASES) {
      const lower = text.toLowerCase();
      const hits = s.scan(text);
      const tokens = new Set(text.match(/[A-Za-z_][A-Za-z0-9_]*/g));
      expect(hits[ids.a]).toEqual(expectedSubstrings(lower, 'a'));
      expect(hits[ids.e]).toEqual(expectedSubstrings(lower, 'é'));
      expect(hits[ids.kk]).toEqual(expectedSubstrings(lower, 'keyk'));
      expect(hits[ids.abe]).toEqual(expectedSubstrings(lower, 'abé'));
      expect(hits[ids.os].length > 0, text).toBe(tokens.has('os'));
      expect(hits[ids.x].length > 0, text).toBe(tokens.has('x'));
      expect(hits[ids.imp].length > 0, text).toBe(tokens.has('import'));
    }
    expect(() => s.add('late', 'substring')).toThrow(/after scan/);
  });
});
