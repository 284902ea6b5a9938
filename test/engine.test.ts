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
      '__import__',
      'os.popen',
      'importlib.import_module',
      'pickle.loads',
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

  it('runs a query only around its trigger, anchored at the pattern root', () => {
    const seen: string[] = [];
    const rule = defineRule({
      meta: META,
      query: '(subscript value: (_) @obj subscript: (string) @key) @sub',
      trigger: /MAGIC/,
      onMatch(c) {
        seen.push(c.key[0].text);
      },
    });
    const src = ['a = d["MAGIC_1"]', 'b = d["other"]', 'def f():', '    return e[d["MAGIC_2"]]', 'c = "MAGIC"'].join('\n');
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

  it('refuses a query without a trigger', () => {
    expect(() => compileRules([defineRule({ meta: META, query: '(call) @c', onMatch() {} })])).toThrow(/trigger/);
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

describe('files are parsed only when a rule needs the tree', () => {
  const all = async () => {
    const { ALL_RULES } = await import('../rules');
    return ALL_RULES;
  };
  const run = async (src: string) => analyzeSource('f.py', src, compileRules(await all()), DEFAULT_SETTINGS);
  // Every rule, and the same rules without their `mayCall` prefilter (any file with a candidate call is parsed).
  const withAndWithoutPrefilter = async () => {
    const rules = await all();
    return { lazy: compileRules(rules), eager: compileRules(rules.map((r) => ({ ...r, mayCall: undefined }))) };
  };
  const ids = (r: { findings: { ruleId: string; line: number }[] }) => r.findings.map((f) => `${f.ruleId}:${f.line}`);

  it('skips a file whose only candidates cannot interest any rule', async () => {
    const r = await run(
      ['import os', 'config = {}', 'x = config.get("a")', 'name = "s"', 'y = name.replace("a", "b")', 'z = os.environ.get("HOME")', '# noqa: E501', ''].join('\n'),
    );
    expect(r.parsed).toBe(false);
    expect(r.findings).toEqual([]);
    // the same file with one interesting call is parsed and reported
    const r2 = await run(['import requests', 'config = {}', 'x = config.get("a")', 'requests.get("https://example.net")', ''].join('\n'));
    expect(r2.parsed).toBe(true);
    expect(ids(r2)).toContain('DG601:4');
  });

  it('still reports unused suppressions of ours in a file no rule needed to parse, and ignores other tools\' codes', async () => {
    const warn = async (src: string) => (await run(src)).warnings.map((w) => `${w.code}:${w.line}`);
    expect(await warn('x = 1  # dag-guard: ignore[DG101] -- fixture\n')).toEqual(['DG001:1']);
    expect(await warn('x = 1  # nosec\n')).toEqual(['DG001:1']);
    expect(await warn('x = 1  # noqa: E501\ny = "# nosec"\n')).toEqual([]);
    expect((await run('x = 1  # noqa: E501\n')).parsed).toBe(false);
  });

  it('does not mistake a receiver it cannot read for a harmless one', async () => {
    const cases: [string, string][] = [
      ['import requests\nr = (requests.\n    get("https://example.net"))\n', 'DG601:2'], // dot before the line break
      ['import requests\nr = (requests  # why\n    .get("https://example.net"))\n', 'DG601:2'], // comment inside the chain
      ['import requests\nr = (requests\n    .get("https://example.net"))\n', 'DG601:2'],
      ['from requests import get\nget("https://example.net")\n', 'DG601:2'], // bare name bound by an import
      ['from requests import get as fetch\nfetch("https://example.net")\n', 'DG601:2'], // alias
      ['import requests as rq\nrq.get("https://example.net")\n', 'DG601:2'],
      ['from requests \\\n    import get\nget("https://example.net")\n', 'DG601:3'], // continued import line
      ['import os, \\\n    ctypes\n', 'DG501:2'], // denied module on a continuation line
      ['import pathlib\np = pathlib.Path("/opt/airflow/dags/x.py")\np.write_text("x")\n', 'DG605:3'],
      ['import os\nv = os.environ.get("AIRFLOW__CORE__FERNET_KEY")\n', 'DG603:2'],
      ['from settings import cfg\ncfg.resolve().write_text("x")\n', 'DG605:2'], // a path method's result, written to
      ['import requests\nrequests.Session().get("https://example.net")\n', 'DG601:2'],
    ];
    for (const [src, want] of cases) {
      const r = await run(src);
      expect(ids(r), src).toContain(want);
    }
  });

  it('gives every fixture and sample the same findings as with every call candidate parsed', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { eager, lazy } = await withAndWithoutPrefilter();
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.py')) files.push(p);
      }
    };
    walk(path.join(__dirname, 'rules', 'fixtures'));
    walk(path.join(__dirname, '..', 'samples'));
    let compared = 0;
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const key = (r: ReturnType<typeof analyzeSource>) => r.findings.map((x) => `${x.ruleId}:${x.line}:${x.column}:${x.severity}:${x.message}`);
      expect(key(analyzeSource(f, text, lazy, DEFAULT_SETTINGS)), f).toEqual(key(analyzeSource(f, text, eager, DEFAULT_SETTINGS)));
      compared++;
    }
    expect(compared).toBeGreaterThan(40);
  });

  it('gives every top-level statement of every fixture, alone with the imports, the same findings as when parsed', async () => {
    // A file-level comparison hides a wrong `mayCall` "no" whenever another call of the same file says yes; one
    // statement at a time, each rule's prefilter answers for its own calls.
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { eager, lazy } = await withAndWithoutPrefilter();
    const dir = path.join(__dirname, 'rules', 'fixtures');
    let statements = 0;
    let withFindings = 0;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.py'))) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const top = parse(text).rootNode.namedChildren;
      const imports = top.filter((n) => /^(import_statement|import_from_statement|future_import_statement)$/.test(n.type)).map((n) => n.text);
      for (const stmt of top) {
        if (/import|comment/.test(stmt.type)) continue;
        const src = [...imports, stmt.text, ''].join('\n');
        const key = (r: ReturnType<typeof analyzeSource>) => r.findings.map((x) => `${x.ruleId}:${x.line}:${x.severity}`);
        const want = key(analyzeSource(f, src, eager, DEFAULT_SETTINGS));
        expect(key(analyzeSource(f, src, lazy, DEFAULT_SETTINGS)), `${f}: ${stmt.text.slice(0, 80)}`).toEqual(want);
        statements++;
        if (want.length) withFindings++;
      }
    }
    expect(statements).toBeGreaterThan(500);
    expect(withFindings).toBeGreaterThan(200);
  });

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
  const rules = async () => compileRules((await import('../rules')).ALL_RULES);
  it('are reported for files a rule parsed, and for every file with checkSyntax', async () => {
    const c = await rules();
    const quiet = 'def f(:\n    return 1\n';
    const busy = 'import os\ndef f(:\n    return 1\nos.system(input())\n';
    const codes = (src: string, checkSyntax: boolean) =>
      analyzeSource('f.py', src, c, { ...DEFAULT_SETTINGS, checkSyntax }).warnings.map((w) => `${w.code}:${w.line}`);
    expect(codes(quiet, false)).toEqual([]);
    expect(codes(quiet, true)).toEqual(['DG000:1']);
    expect(codes(busy, false)).toEqual(['DG000:2']);
    expect(analyzeSource('f.py', busy, c, DEFAULT_SETTINGS).findings.map((f) => f.ruleId)).toContain('DG202');
  });
});
