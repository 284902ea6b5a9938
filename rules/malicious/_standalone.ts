/** Stand-alone scripts kept in DAG repositories: parse-time findings there are worded conditionally (DG605, DG607). */
import { defineService, type RuleContext } from '../../src/engine/context';

/** `if __name__ == "__main__":` at column 0 (either operand order). */
const MAIN_GUARD = /^if[ \t(]+(?:__name__[ \t]*==[ \t]*["']__main__["']|["']__main__["'][ \t]*==[ \t]*__name__)/m;
/** DAG definitions that need no `airflow` import in the same file (`from dags_common import *`). */
const DAG_USE = /\bDAG[ \t]*\(|@dag\b/;

/** Signs of a command-line script: a `#!` first line, command-line arguments (`sys.argv`, argparse). */
const SCRIPT_SIGNS = /^#!|\bsys\.argv\b|^[ \t]*(?:import[ \t]+argparse\b|from[ \t]+argparse[ \t]+import\b)/m;

/**
 * A stand-alone script that sits in a DAG repository but is not a DAG file: an `if __name__ == "__main__":` block,
 * a `#!` line or command-line arguments (`sys.argv`, argparse), and no Airflow usage (no `airflow` import, no `DAG(`,
 * no `@dag`). Airflow would still import it if it were in the DAG folder, so parse-time findings stay, at low
 * severity, worded conditionally. Text and import list only.
 */
const STANDALONE = defineService('malicious: stand-alone script', (ctx) => {
  const t = ctx.file.text;
  const script = (t.includes('__main__') && MAIN_GUARD.test(t)) || SCRIPT_SIGNS.test(t);
  return script && !ctx.imported('airflow') && !DAG_USE.test(t);
});

export function isStandaloneScript(ctx: RuleContext): boolean {
  return ctx.use(STANDALONE);
}

export const STANDALONE_NOTE =
  ' — if this file is in the DAG folder (it looks like a stand-alone script: a `__main__` block, a `#!` line or command-line arguments, and no Airflow)';
