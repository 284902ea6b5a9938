import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { callArgs, stringValue, unwrap } from '../../src/engine/python';
import { singleBinding } from '../../src/airflow/provenance';
import { STDLIB_MODULE_NAMES } from '../import-path/stdlib-names';
import { importedModules } from './_util';
import { linesWithOffsets } from '../../src/data/lines';
import { NOT_TYPOSQUAT_DISTRIBUTIONS, NOT_TYPOSQUATS, POPULAR_DISTRIBUTIONS, POPULAR_PACKAGES } from './_popular-packages';

/** A space of names: the popular ones typosquats imitate, the real ones that merely look close, how names compare. */
interface NameSpace {
  popular: readonly string[];
  known: ReadonlySet<string>;
  normalize: (name: string) => string;
}

function nameSpace(popular: readonly string[], known: readonly string[], normalize: (name: string) => string): NameSpace {
  return { popular, known: new Set(known.map(normalize)), normalize };
}

/** Import names (`import reqeusts`); case does not tell packages apart. */
const IMPORT_NAMES = nameSpace(POPULAR_PACKAGES, [...POPULAR_PACKAGES, ...STDLIB_MODULE_NAMES, ...NOT_TYPOSQUATS], (n) => n.toLowerCase());
/** Distribution names (requirement files, virtualenv `requirements`): pip treats `_` and `-` alike. */
const DISTRIBUTION_NAMES = nameSpace(POPULAR_DISTRIBUTIONS, [...POPULAR_DISTRIBUTIONS, ...NOT_TYPOSQUAT_DISTRIBUTIONS], (n) => n.toLowerCase().replace(/_/g, '-'));

/**
 * The popular name `name` imitates: one edit away (a letter added, dropped, changed, or two neighbours swapped —
 * `reqeusts`, `requets`, `pandsa`, `boto4`), for names of five letters or more (shorter ones are one edit from too
 * many real packages); null when it is a known name itself.
 */
function imitatedIn(space: NameSpace, name: string): string | null {
  const n = space.normalize(name);
  if (n.length < 5 || space.known.has(n)) return null;
  for (const p of space.popular) if (Math.abs(p.length - n.length) <= 1 && oneEdit(n, space.normalize(p))) return p;
  return null;
}

export const imitated = (name: string): string | null => imitatedIn(IMPORT_NAMES, name);
/** The popular distribution a requirement's name imitates (`panadas`, `python3-dateutil`). */
export const imitatedDistribution = (name: string): string | null => imitatedIn(DISTRIBUTION_NAMES, name);

/** The distribution name a requirement line starts with (`pandas[extra]==2.2 ; python_version…` -> `pandas`). */
const REQUIREMENT_NAME = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/;

/** Are `a` and `b` (different) one insertion, deletion, substitution or adjacent transposition apart? */
function oneEdit(a: string, b: string): boolean {
  if (a === b) return false;
  if (a.length === b.length) {
    const diff: number[] = [];
    for (let i = 0; i < a.length && diff.length <= 2; i++) if (a[i] !== b[i]) diff.push(i);
    if (diff.length === 1) return true;
    return diff.length === 2 && diff[1] === diff[0] + 1 && a[diff[0]] === b[diff[1]] && a[diff[1]] === b[diff[0]];
  }
  const [s, l] = a.length < b.length ? [a, b] : [b, a];
  let i = 0;
  while (i < s.length && s[i] === l[i]) i++;
  return s.slice(i) === l.slice(i + 1);
}

/** String nodes naming requirements: a list written in place or bound to a name, or the keys of the dict a comprehension builds it from. */
function requirementNames(node: SyntaxNode | undefined): SyntaxNode[] {
  let u = node ? unwrap(node) : null;
  if (u?.type === 'identifier') u = singleBinding(u) ?? u;
  if (!u) return [];
  if (u.type === 'list' || u.type === 'tuple') return u.namedChildren.filter((x) => x.type === 'string');
  if (u.type === 'list_comprehension') {
    // `[f"{name}=={version}" for name, version in _PINNED.items()]`
    const clause = u.namedChildren.find((x) => x.type === 'for_in_clause');
    const right = clause?.childForFieldName('right');
    const r = right ? unwrap(right) : null;
    const f = r?.type === 'call' ? r.childForFieldName('function') : null;
    let d = f?.type === 'attribute' ? unwrap(f.childForFieldName('object')!) : r;
    if (d?.type === 'identifier') d = singleBinding(d) ?? d;
    if (d?.type === 'dictionary') return d.namedChildren.filter((p) => p.type === 'pair').map((p) => p.childForFieldName('key')!).filter((k) => k.type === 'string');
  }
  return [];
}

export default defineRule({
  meta: {
    id: 'DG503',
    name: 'typosquatted-module',
    category: 'unapproved-import',
    severity: 'high',
    message: 'import of `{module}`, one letter away from the popular package `{popular}`{alias}: a typosquatted package runs its own code when installed and imported',
    messages: { requirement: 'requirement `{module}`, one letter away from the popular package `{popular}`: a typosquatted package runs its own code when installed and imported' },
    docs: {
      what:
        'Reports an import whose top-level module is one edit (a letter added, dropped or changed, or two neighbours swapped) away from the import name of a package DAG code commonly uses — `reqeusts`, `requets`, `pandsa`, `boto4`, `pyymal`… — and is not itself a standard-library module or a known package (`boto` and `boto3`, `psycopg` and `psycopg2` are both real). Names of fewer than five letters are not judged (too many real packages are one letter apart). `import reqeusts as requests`, an alias that hides the misspelling from the rest of the file, is named in the message. The same for the packages a DAG repository installs: lines of requirement files shipped with the DAGs (`requirements*.txt`, `constraints*.txt`) and the `requirements` of virtualenv tasks (`panadas==2.2.1`, `python3-dateutil`), judged by distribution name.',
      why:
        'Typosquatting is the usual way malicious packages reach a Python environment: a package published under a misspelling of a popular one runs its `setup.py` when installed and its module code when imported — in a DAG, that is the scheduler and dag-processor, at every parse, with their credentials. Whoever adds the import may not have noticed the misspelling, and a reviewer reading `requests.get(…)` below will not either.',
      example: '```python\nimport reqeusts as requests\n```',
      useInstead: '```python\nimport requests\n```\n(and check what is installed in the Airflow image: `pip show reqeusts`)',
    },
  },
  // requirement files shipped with the DAGs: the packages workers and virtualenv tasks install
  onDataFile(ctx) {
    if (ctx.file.dataKind !== 'requirements') return;
    for (const { line, start } of linesWithOffsets(ctx.file.text)) {
      const m = /^\s*[#-]/.test(line) ? null : REQUIREMENT_NAME.exec(line);
      const popular = m ? imitatedDistribution(m[1]) : null;
      if (m && popular) ctx.reportRange(start + m.index + m[0].length - m[1].length, start + m.index + m[0].length, { module: m[1], popular, alias: '' }, { message: 'requirement' });
    }
  },
  // the requirements of a virtualenv task: strings in place, or the keys of a pinned dict they are built from
  calls: ['airflow.**.task.virtualenv', 'airflow.**.PythonVirtualenvOperator'],
  onCall(call, _fn, ctx) {
    const req = callArgs(call).keywords.get('requirements');
    for (const n of requirementNames(req)) {
      const name = stringValue(n) ?? '';
      const m = REQUIREMENT_NAME.exec(name);
      const popular = m ? imitatedDistribution(m[1]) : null;
      if (m && popular && ctx.once(n)) ctx.report(n, { module: m[1], popular, alias: '' }, { message: 'requirement' });
    }
  },
  onFile(ctx) {
    // the names are read from the text first (cheap: no tree), then confirmed on the real import statements
    const suspects = new Set<string>();
    for (const b of ctx.importBindings) {
      const top = b.target.split('.')[0];
      if (top && imitated(top)) suspects.add(top);
    }
    if (!suspects.size) return;
    for (const imp of importedModules(ctx)) {
      if (imp.dynamic) continue;
      const top = imp.module.split('.')[0];
      if (!suspects.has(top)) continue;
      const popular = imitated(top)!;
      const alias = imp.node.type === 'aliased_import' ? imp.node.childForFieldName('alias')?.text : undefined;
      ctx.report(imp.node, { module: imp.module, popular, alias: alias ? ` (imported as \`${alias}\`)` : '' });
    }
  },
});
