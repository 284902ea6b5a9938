import { defineRule } from '../../src/engine/rule';
import type { SyntaxNode } from 'tree-sitter';
import { argument, callArgs, unwrap } from '../../src/engine/python';
import { provenance, resolveName } from '../../src/airflow/provenance';
import { originWords, snippet } from '../shell-injection/_util';

/** A name that says "data frame" (`df`, `orders_df`, `frame`, `sales_frame`). */
const FRAME_NAME = /(?:^|_)(?:df|frame|dataframe)(?:_|$|\d)|^(?:df|frame)s?$/i;
/** Calls that make a data frame: pandas' constructors and readers, hooks' `get_pandas_df`, `to_pandas`/`toPandas`. */
const FRAME_MAKER = /\b(?:pd|pandas)\.\w+\s*\(|\bDataFrame\s*\(|\bread_(?:csv|parquet|json|sql\w*|excel|feather|orc|table|pickle)\s*\(|\bget_pandas_df\w*\s*\(|\bto_?[pP]andas\s*\(|\bget_df\s*\(|\.(?:merge|join|groupby|assign|query|copy|dropna|fillna|reset_index|set_index|sort_values|drop_duplicates|rename|astype)\s*\(/;

/** Is `obj` (the receiver of `.query`/`.eval`) a pandas data frame, as far as the file shows? */
function isFrame(obj: SyntaxNode, depth = 0): boolean {
  const u = unwrap(obj);
  if (depth > 4) return false;
  if (u.type === 'call') {
    if (FRAME_MAKER.test(u.text)) return true;
    const f = u.childForFieldName('function');
    return f?.type === 'attribute' && isFrame(f.childForFieldName('object')!, depth + 1);
  }
  // `profiles[profiles["opt_in"]]`, `df.loc[…]`: a frame selected from a frame
  if (u.type === 'subscript') return isFrame(u.childForFieldName('value')!, depth + 1);
  if (u.type === 'attribute') return FRAME_NAME.test(u.childForFieldName('attribute')?.text ?? '') || (/^(?:loc|iloc|T)$/.test(u.childForFieldName('attribute')?.text ?? '') && isFrame(u.childForFieldName('object')!, depth + 1));
  if (u.type !== 'identifier') return false;
  if (FRAME_NAME.test(u.text)) return true;
  return resolveName(u).some((d) => unwrap(d).id !== u.id && isFrame(d, depth + 1));
}

export default defineRule({
  meta: {
    id: 'DG309',
    name: 'dataframe-expression-from-input',
    category: 'code-injection',
    severity: 'high',
    message: '`{fn}` evaluates an expression from {origin} (`{value}`)',
    docs: {
      what:
        'Finds pandas expression strings taken from outside the code: `pandas.eval(expr)`, `DataFrame.query(expr)` and `DataFrame.eval(expr)` (a receiver that a data frame name — `df`, `orders_df`, `frame` — or a pandas constructor, reader, `get_pandas_df` or frame method shows to be one), where the expression comes from whoever triggers the DAG (`dag_run.conf`, params, a templated task argument: *high*) or from data fetched in the file (an HTTP response, a bucket object: *medium*). Expressions built by the code from constants, Variables or its own values are not reported.',
      why:
        'pandas parses the expression with Python\'s own parser and evaluates it against the frame and the caller\'s local and global names (`@name`); with the `python` engine, and through attribute access on the objects it can reach, an expression is code, not a filter. A "filter" field in the trigger form that reaches `df.query` gives whoever triggers the DAG a way to run code on the worker with its connections, and to read every frame and variable in scope.',
      example: '```python\n@task\ndef select_rows(expr: str):\n    df = pd.read_parquet("s3://bucket/orders.parquet")\n    return df.query(expr).to_dict()\n\nselect_rows("{{ dag_run.conf[\'filter\'] }}")\n```',
      useInstead:
        '```python\n@task\ndef select_rows(region: str):\n    df = pd.read_parquet("s3://bucket/orders.parquet")\n    return df[df["region"] == region].to_dict()   # the value is data, never code\n```',
    },
  },
  calls: ['pandas.eval', '**.query', '**.eval'],
  onCall(call, fn, ctx) {
    const f = call.childForFieldName('function');
    if (fn !== 'pandas.eval') {
      if (f?.type !== 'attribute' || !isFrame(f.childForFieldName('object')!)) return;
    }
    const expr = argument(callArgs(call), 'expr', 0);
    if (!expr) return;
    const p = provenance(expr, ctx);
    if (p.trust !== 'user' && p.trust !== 'external') return;
    const name = fn === 'pandas.eval' ? 'pandas.eval' : `DataFrame.${f!.childForFieldName('attribute')!.text}`;
    ctx.report(call, { fn: name, origin: originWords(p.trust), value: snippet(p.node) }, { severity: p.trust === 'user' ? 'high' : 'medium' });
  },
});
