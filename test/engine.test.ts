import { describe, expect, it } from 'vitest';
import { analyzeSource, compileRules } from '../src/engine/analyze';
import { RuleContext } from '../src/engine/context';
import { defineRule } from '../src/engine/rule';
import { DEFAULT_SETTINGS } from '../src/engine/settings';
import { isConstant, stringValue } from '../src/engine/python';
import { parse } from '../src/parse';

/** Runs a probe rule that records, for every call, its resolved callee and whether it runs at parse time. */
function probe(src: string): { callee: string | null; parseTime: boolean; line: number }[] {
  const seen: { callee: string | null; parseTime: boolean; line: number }[] = [];
  const rule = defineRule({
    meta: {
      id: 'DG399',
      name: 'probe',
      category: 'code-injection',
      severity: 'info',
      message: 'probe',
      docs: { what: '', why: '', example: '', useInstead: '' },
    },
    query: '(call) @call',
    onMatch(c, ctx: RuleContext) {
      seen.push({ callee: ctx.callee(c.call[0]), parseTime: ctx.isParseTime(c.call[0]), line: c.call[0].startPosition.row + 1 });
    },
  });
  analyzeSource('probe.py', src, compileRules([rule]), DEFAULT_SETTINGS);
  return seen.sort((a, b) => a.line - b.line);
}

describe('name resolution through imports', () => {
  it('resolves aliases, from-imports, __import__, importlib and getattr', () => {
    const got = probe(
      [
        'import subprocess as sp',
        'from os import system as run, path',
        'import importlib, os.path',
        'sp.run("x")',
        'run("x")',
        '__import__("os").popen("x")',
        'importlib.import_module("pickle").loads(b"")',
        'getattr(sp, "Popen")("x")',
        'os.path.join("a")',
        'eval("1")',
      ].join('\n'),
    ).map((s) => s.callee);
    expect(got).toEqual([
      'subprocess.run',
      'os.system',
      'os.popen', // outer call first on a line
      '__import__',
      'pickle.loads',
      'importlib.import_module',
      'subprocess.Popen',
      'getattr',
      'os.path.join',
      'eval',
    ]);
  });
});

describe('parse-time scope', () => {
  it('knows what runs when Airflow imports the file', () => {
    const src = [
      'a()',                                 // 1 module level
      'class C:',
      '    b()',                             // 3 class body: runs at import
      '    def m(self, x=c()):',             // 4 default value: runs at import
      '        d()',                         // 5 method body: later
      '@e()',                                // 6 decorator: runs at import
      'def f():',
      '    g()',                             // 8 function body: later
      'h = lambda: i()',                     // 9 lambda body: later
      'if __name__ == "__main__":',
      '    j()',                             // 11 never under DagBag
      'with k():',                           // 12 module level
      '    l()',                             // 13 module level
    ].join('\n');
    const byLine = Object.fromEntries(probe(src).map((s) => [s.line, s.parseTime]));
    expect(byLine).toEqual({ 1: true, 3: true, 4: true, 5: false, 6: true, 8: false, 9: false, 11: false, 12: true, 13: true });
  });
});

describe('constant folding', () => {
  const expr = (src: string) => parse(src).rootNode.namedChildren[0].namedChildren[0];
  it('folds literal strings, implicit concatenation and +', () => {
    expect(stringValue(expr('"a" "b" + \'c\''))).toBe('abc');
    expect(stringValue(expr('f"a{b}"'))).toBeNull();
    expect(stringValue(expr('f"plain"'))).toBe('plain');
    expect(stringValue(expr('"a" + b'))).toBeNull();
    expect(isConstant(expr('["ls", "-l", 3, None]'))).toBe(true);
    expect(isConstant(expr('["ls", x]'))).toBe(false);
  });
});
