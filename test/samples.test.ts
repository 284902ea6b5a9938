/**
 * The shipped samples are README's main job: clean DAGs must stay clean (no false alarm on good practice) and
 * each dangerous DAG must be stopped by a high or critical finding of the category it demonstrates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonReport, REPO, runCli } from './helpers/cli';

const EXPECTED: Record<string, string[]> = {
  'hardcoded_credentials.py': ['secret'],
  'conf_injection.py': ['shell-injection'],
  'obfuscated_loader.py': ['code-injection'],
  'reverse_shell.py': ['malicious'],
  'metadata_exfiltration.py': ['malicious'],
  'unsafe_deserialization.py': ['unsafe-deserialization'],
  // a data file shipped with the DAGs (README "Data files")
  'local_stack.env': ['secret'],
};

type F = { path: string; category: string; severity: string; ruleId: string; line: number; message: string };

describe('samples', () => {
  const run = runCli(['check', '--no-config', '-f', 'json', 'samples']);
  const rep = jsonReport(run);
  const findings: F[] = rep.findings;

  it('fails the run (there are dangerous samples) and reports no errors', () => {
    expect(run.code).toBe(1);
    expect(rep.errors).toEqual([]);
  });

  for (const file of fs.readdirSync(path.join(REPO, 'samples', 'clean'))) {
    it(`clean/${file} has no finding`, () => {
      expect(findings.filter((f) => f.path === `samples/clean/${file}`)).toEqual([]);
    });
  }

  for (const file of fs.readdirSync(path.join(REPO, 'samples', 'dangerous'))) {
    it(`dangerous/${file} is stopped`, () => {
      const mine = findings.filter((f) => f.path === `samples/dangerous/${file}`);
      const serious = mine.filter((f) => f.severity === 'high' || f.severity === 'critical');
      expect(EXPECTED[file], `add ${file} to EXPECTED`).toBeDefined();
      for (const cat of EXPECTED[file]) {
        expect(serious.some((f) => f.category === cat), `${file}: no high/critical ${cat} finding in ${JSON.stringify(mine)}`).toBe(true);
      }
    });
  }

  it('never prints a sample secret in clear', () => {
    const text = runCli(['check', '--no-config', 'samples']).stdout + run.stdout;
    for (const secret of ['Wh-2024!prod-etl', 'R3port1ng-Pa55', 'AKIA4Q7ZL5RTW2K6Y3MB', 'q8Zr1uX9v2LmN4pQ7sT0wY3k', 'Sn0wfl4ke-Pr0d-2024']) {
      expect(text).not.toContain(secret);
    }
  });
});
