import { describe, expect, it } from 'vitest';
import { analyzeSource, compileRules } from '../src/engine/analyze';
import { RuleContext } from '../src/engine/context';
import { defineRule } from '../src/engine/rule';
import { DEFAULT_SETTINGS } from '../src/engine/settings';
import { isConstant, stringValue } from '../src/engine/python';
import { parse } from '../src/parse';
import { patternRootTypes } from '../src/engine/query-roots';

const META = {
  id: 'DG399',
  name: 'probe',
  category: 'code-injection' as const,
  severity: 'info' as const,
  message: 'probe',
  docs: { what: '', why: '', example: '', useInstead: '' },
};

/** Runs a probe rule that records, for every call of the given names, its resolved callee and whether it runs at parse time. */
function probe(src: string, names: string[]): { callee: string | null; parseTime: boolean; line: number }[] {
  const seen: { callee: string | null; parseTime: boolean; line: number }[] = [];
  const rule = defineRule({
    meta: META,
    calls: names,
    onCall(call, fn, ctx: RuleContext) {
      seen.push({ callee: fn, parseTime: ctx.isParseTime(call), line: call.startPosition.row + 1 });
    },
  });
  const res = analyzeSource('probe.py', src, compileRules([rule]), DEFAULT_SETTINGS);
  expect(res.ruleErrors).toEqual([]);
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
      ['run', 'system', 'popen', 'loads', 'Popen', 'join', 'eval', 'import_module', '__import__'],
    ).map((s) => s.callee);
    expect(got).toEqual([
      'subprocess.run',
      'os.system', // `run` here is `os.system`, found under its alias
      'os.popen', // an enclosing call comes before the calls inside it (document order of their starts)
      '__import__',
      'pickle.loads',
      'importlib.import_module',
      'subprocess.Popen', // getattr(sp, "Popen")(…)
      'os.path.join',
      'eval',
    ]);
  });

  it('sees only real calls: not names in strings or comments, nor names that are not called', () => {
    const got = probe(
      [
        'import subprocess',
        'x = "subprocess.run(cmd)"  # subprocess.run(cmd)',
        'f = subprocess.run',
        'y = run_later(1)',
        'subprocess.run(',
        '    "a",',
        ')',
        'subprocess . run ("b")',
        'obj.method().run("c")',
      ].join('\n'),
      ['run'],
    );
    expect(got.map((s) => [s.line, s.callee])).toEqual([
      [5, 'subprocess.run'],
      [8, 'subprocess.run'],
      [9, 'obj.method().run'],
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
    const byLine = Object.fromEntries(probe(src, 'abcdefghijkl'.split('')).map((s) => [s.line, s.parseTime]));
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

describe('text-first location', () => {
  it('finds imports after `;` and `:` and inside functions, not in strings', () => {
    const got = probe(
      [
        'x = 1; import subprocess as a',
        'try: from subprocess import run as b',
        'except ImportError: pass',
        'def f():',
        '    from os import system as c',
        '    c("1")',
        'doc = """',
        'import pickle as a',
        '"""',
        'a.run("2")',
        'b("3")',
      ].join('\n'),
      ['run', 'system'],
    );
    expect(got.map((s) => s.callee)).toEqual(['os.system', 'subprocess.run', 'subprocess.run']);
  });

  it('applies suppressions in real comments only, also after a `#` inside a string', () => {
    const rule = defineRule({
      meta: META,
      calls: ['eval'],
      onCall(call, _fn, ctx) {
        ctx.report(call);
      },
    });
    const src = ['eval(a)  # dag-guard: ignore[DG399] -- test', 'eval("#x")  # dag-guard: ignore[DG399] -- test', 'eval(b, "# dag-guard: ignore[DG399]")'].join('\n');
    const res = analyzeSource('s.py', src, compileRules([rule]), DEFAULT_SETTINGS);
    expect(res.findings.map((f) => f.line)).toEqual([3]);
    expect(res.suppressed).toBe(2);
  });

  it('runs a query only around its keywords, anchored at the pattern root', () => {
    const seen: string[] = [];
    const rule = defineRule({
      meta: META,
      query: '(subscript value: (_) @obj subscript: (string) @key) @sub',
      keywords: ['magic'],
      onMatch(c) {
        seen.push(c.key[0].text);
      },
    });
    // far apart: occurrences closer than a window gap are searched together (the engine's WINDOW_GAP)
    const pad = `# ${'-'.repeat(700)}`;
    const src = ['a = d["MAGIC_1"]', pad, 'b = d["other"]', pad, 'def f():', '    return e[d["MAGIC_2"]]', 'c = "MAGIC"'].join('\n');
    analyzeSource('q.py', src, compileRules([rule]), DEFAULT_SETTINGS);
    expect(seen).toEqual(['"MAGIC_1"', '"MAGIC_2"']);
  });

  it('reads the root types of query patterns', () => {
    expect([...patternRootTypes('(call function: (identifier) @f) @c')]).toEqual(['call']);
    expect([...patternRootTypes('((string) @s (#match? @s "x(y)"))\n; (comment)\n[(pair) (assignment left: (_))] @b')]).toEqual([
      'string',
      'pair',
      'assignment',
    ]);
  });

  it('refuses a query without onMatch, an empty keyword list and an invalid callee pattern', () => {
    expect(() => compileRules([defineRule({ meta: META, query: '(call) @c' })])).toThrow(/onMatch/);
    expect(() => compileRules([defineRule({ meta: META, query: '(call) @c', keywords: [], onMatch() {} })])).toThrow(/keyword/);
    expect(() => compileRules([defineRule({ meta: META, calls: ['os..system'], onCall() {} })])).toThrow(/pattern/);
  });

  it('matches qualified callee patterns and globs', () => {
    const seen: string[] = [];
    const rule = defineRule({
      meta: META,
      calls: ['pickle.load*', 'builtins.eval', '**.exec_command'],
      onCall(_c, fn) {
        seen.push(fn);
      },
    });
    const src = [
      'import pickle as p',
      'from pickle import loads as l',
      'p.load(f); l(b); p.dump(x); p.Unpickler(f)',
      'eval("1"); x.eval("1")',
      'ssh.get_conn().exec_command("ls"); exec_command("ls")',
    ].join('\n');
    analyzeSource('p.py', src, compileRules([rule]), DEFAULT_SETTINGS);
    expect(seen).toEqual(['pickle.load', 'pickle.loads', 'eval', 'ssh.get_conn().exec_command', 'exec_command']);
  });

  it('fills message templates and escalates parse-time findings from the metadata', () => {
    const rule = defineRule({
      meta: { ...META, message: '`{fn}` called', parseTime: 'high' as const },
      calls: ['builtins.eval'],
      onCall(call, fn, ctx) {
        ctx.report(call, { fn });
      },
    });
    const res = analyzeSource('t.py', 'eval(a)\ndef f():\n    eval(b)\n', compileRules([rule]), DEFAULT_SETTINGS);
    expect(res.findings.map((f) => `${f.line}:${f.severity}:${f.message}`)).toEqual([
      '1:high:`eval` called — at parse time, in the dag-processor',
      '3:info:`eval` called',
    ]);
    const broken = defineRule({ meta: { ...META, message: '{missing}' }, calls: ['builtins.eval'], onCall: (c, _f, ctx) => ctx.report(c, {}) });
    expect(analyzeSource('t.py', 'eval(a)\n', compileRules([broken]), DEFAULT_SETTINGS).ruleErrors.join()).toMatch(/\{missing\}/);
  });
});

describe('parse-time ranges', () => {
  it('agree with the tree-climbing definition on every call of every rule fixture', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { isParseTime } = await import('../src/engine/scope');
    const dir = path.join(__dirname, 'rules', 'fixtures');
    let compared = 0;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.py'))) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const root = parse(text).rootNode;
      const ctx = new RuleContext({ path: f, text }, DEFAULT_SETTINGS, [], () => root);
      for (const n of root.descendantsOfType(['call', 'identifier'])) {
        expect(ctx.isParseTime(n), `${f}:${n.startPosition.row + 1} ${n.text.slice(0, 40)}`).toBe(isParseTime(n));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });
});

describe('call location', () => {
  it('finds call names exactly where the equivalent regex does', async () => {
    const { findCallNames } = await import('../src/engine/locate');
    const names = new Set(['get', 'run', 'system', 'éx']);
    const text = 'a.get(1); xget(2); get (3); run\n(4); _run(5); 9run(6); é.get(7); system\t(8); get\n';
    const re = /\b(?:get|run|system)\s*\(/g;
    const want = [...text.matchAll(re)].map((m) => m.index);
    expect(findCallNames(text, names).map((c) => c.index)).toEqual(want);
  });
});

describe('syntax errors', () => {
  it('are reported for a file some rule could match (by its words alone) and for every file with checkSyntax', () => {
    const rule = defineRule({ meta: META, query: '(call) @c', keywords: ['magic'], onMatch() {} });
    const c = compileRules([rule]);
    const codes = (src: string, checkSyntax: boolean) =>
      analyzeSource('f.py', src, c, { ...DEFAULT_SETTINGS, checkSyntax }).warnings.map((w) => `${w.code}:${w.line}`);
    const quiet = 'def f(:\n    return 1\n';
    // parsed because the word is there, even though no call holds it: the answer does not depend on candidates
    const busy = '# MAGIC\ndef f(:\n    return 1\n';
    expect(codes(quiet, false)).toEqual([]);
    expect(codes(quiet, true)).toEqual(['DG000:1']);
    expect(codes(busy, false)).toEqual(['DG000:2']);
  });
});
