import { defineRule } from '../../src/engine/rule';
import { STDLIB_MODULE_NAMES } from '../import-path/stdlib-names';
import { importedModules } from './_util';
import { NOT_TYPOSQUATS, POPULAR_PACKAGES } from './_popular-packages';

const KNOWN = new Set<string>([...POPULAR_PACKAGES, ...STDLIB_MODULE_NAMES, ...NOT_TYPOSQUATS]);

/**
 * The popular name `name` imitates: one edit away (a letter added, dropped, changed, or two neighbours swapped —
 * `reqeusts`, `requets`, `pandsa`, `boto4`), for names of five letters or more (shorter ones are one edit from too
 * many real packages); null when it is a known name itself.
 */
export function imitated(name: string): string | null {
  const n = name.toLowerCase();
  if (n.length < 5 || KNOWN.has(n) || KNOWN.has(name)) return null;
  for (const p of POPULAR_PACKAGES) if (Math.abs(p.length - n.length) <= 1 && oneEdit(n, p.toLowerCase())) return p;
  return null;
}

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

export default defineRule({
  meta: {
    id: 'DG503',
    name: 'typosquatted-module',
    category: 'unapproved-import',
    severity: 'high',
    message: 'import of `{module}`, one letter away from the popular package `{popular}`{alias}: a typosquatted package runs its own code when installed and imported',
    docs: {
      what:
        'Reports an import whose top-level module is one edit (a letter added, dropped or changed, or two neighbours swapped) away from the import name of a package DAG code commonly uses — `reqeusts`, `requets`, `pandsa`, `boto4`, `pyymal`… — and is not itself a standard-library module or a known package (`boto` and `boto3`, `psycopg` and `psycopg2` are both real). Names of fewer than five letters are not judged (too many real packages are one letter apart). `import reqeusts as requests`, an alias that hides the misspelling from the rest of the file, is named in the message.',
      why:
        'Typosquatting is the usual way malicious packages reach a Python environment: a package published under a misspelling of a popular one runs its `setup.py` when installed and its module code when imported — in a DAG, that is the scheduler and dag-processor, at every parse, with their credentials. Whoever adds the import may not have noticed the misspelling, and a reviewer reading `requests.get(…)` below will not either.',
      example: '```python\nimport reqeusts as requests\n```',
      useInstead: '```python\nimport requests\n```\n(and check what is installed in the Airflow image: `pip show reqeusts`)',
    },
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
