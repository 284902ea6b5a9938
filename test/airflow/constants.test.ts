/**
 * The constant values an expression may take (src/airflow/constants.ts): what settings tables and DAG factories hide
 * behind a key. Rules report when *some* value is the dangerous one, so an answer that leaves a path out would hide
 * it, and one that claims a constant where the file shows none would invent it. The walk is bounded: a crafted file
 * stays cheap.
 */
import { describe, expect, it } from 'vitest';
import type { SyntaxNode } from 'tree-sitter';
import { RuleContext } from '../../src/engine/context';
import { DEFAULT_SETTINGS } from '../../src/engine/settings';
import { parse } from '../../src/parse';
import { possibleValues } from '../../src/airflow/constants';

/** The possible values (as source text) of the last expression statement of `src`. */
function valuesOfLast(src: string): string[] | null {
  const root = parse(src).rootNode;
  const ctx = new RuleContext({ path: 'x.py', text: src }, DEFAULT_SETTINGS, [], () => root, false);
  const stmts = root.namedChildren;
  const last = stmts[stmts.length - 1];
  const expr = (last.type === 'expression_statement' ? last.namedChildren[0] : last) as SyntaxNode;
  const target = expr.type === 'assignment' ? expr.childForFieldName('right')! : expr;
  return possibleValues(target, ctx)?.map((n) => n.text) ?? null;
}

describe('possible constant values', () => {
  it('follows lookups in constant dicts, by keys that are constants themselves', () => {
    expect(valuesOfLast('import yaml\nL = {"safe": yaml.SafeLoader, "full": yaml.UnsafeLoader}\nS = {"loader": "full"}\nx = L[S["loader"]]\n')).toEqual(['yaml.UnsafeLoader']);
    expect(valuesOfLast('C = {"a": 1}\nx = C.get("b", False)\n')).toEqual(['False']);
  });

  it('takes every value a loop over a constant dict gives, and every argument a function of the file is called with', () => {
    const src = 'T = {"a": {"tag": "1.0"}, "b": {"tag": "latest"}}\ndef f(name, cfg):\n    return cfg["tag"]\nfor k, v in T.items():\n    f(k, v)\n';
    const root = parse(src).rootNode;
    const ctx = new RuleContext({ path: 'x.py', text: src }, DEFAULT_SETTINGS, [], () => root, false);
    const ret = root.descendantsOfType('return_statement')[0].namedChildren[0];
    expect(possibleValues(ret, ctx)?.map((n) => n.text)).toEqual(['"1.0"', '"latest"']);
  });

  it('answers null when one path is not a constant the file shows', () => {
    expect(valuesOfLast('import os\nC = {"a": os.environ["X"]}\nx = C["a"]\n')).toBeNull();
    expect(valuesOfLast('def f(cfg):\n    return cfg\nx = f\n')).toBeNull();
    expect(valuesOfLast('C = {**OTHER}\nx = C["a"]\n')).toBeNull();
  });

  it('stays bounded on a crafted chain of names and tables', () => {
    const lines = ['v0 = {"k": "x"}'];
    for (let i = 1; i < 400; i++) lines.push(`v${i} = {"k": v${i - 1}["k"], "j": v${i - 1}["k"]}`);
    lines.push('x = v399["k"]');
    // deeper than the bound (MAX_DEPTH hops): not claimed constant — and answered without walking the 400 levels
    expect(valuesOfLast(lines.join('\n') + '\n')).toBeNull();
  });
});
