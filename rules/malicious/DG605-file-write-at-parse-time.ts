import { defineRule } from '../../src/engine/rule';
import { factsOf, shownCallee } from './_facts';
import { isStandaloneScript, STANDALONE_NOTE } from './_standalone';
import type { Severity } from '../../src/report';
import type { RuleContext } from '../../src/engine/context';
import type { CallFact } from './_facts';
import { DAG_FOLDER, PERSISTENCE, targetText } from './_write-target';

export default defineRule({
  meta: {
    id: 'DG605',
    name: 'file-write-at-parse-time',
    category: 'malicious',
    severity: 'medium',
    message: '`{fn}` modifies the file system while the DAG file is parsed{where}{script}',
    docs: {
      what:
        'Finds file-system changes that run when Airflow imports the file: `open(..., "w"/"a"/"x"/"+")`, `os.open` with write flags, `Path.write_text`/`write_bytes`/`unlink`/`chmod`…, `shutil.copy*/move/rmtree`, `os.remove/unlink/rename/replace/chmod/chown/symlink`. Medium by default; high when the target is in the DAG folder (`__file__`, `dags_folder`, `/opt/airflow/dags`); critical when it writes a `.py` file there or a file Python/the shell runs by itself (`.pth`, `sitecustomize`, `airflow_local_settings`, `authorized_keys`, cron). To escalate to critical the target is judged with what the names in it are bound to, two steps back (`for p in glob.glob("/opt/airflow/dags/*.py"): open(p, "a")`, `K = expanduser("~/.ssh/authorized_keys")`; a path merely derived from `__file__` through names stays medium). In a stand-alone script that sits in a DAG repository (an `if __name__ == "__main__":` block, a `#!` first line or command-line arguments — `sys.argv`, argparse — and no Airflow usage: no `airflow` import, no `DAG(`, no `@dag`) a plain write is *low* and the message says "if this file is in the DAG folder"; writes into the DAG folder or to self-running files keep their severity.',
      why:
        'Parse-time code runs in the dag-processor on every parse. A DAG that writes into the DAG folder can plant or alter other DAGs (which then run with everyone\'s connections), and one that writes `.pth`/`sitecustomize` files gets code into every Python process of the image. Even benign writes at parse time race between schedulers and fill disks.',
      example: '```python\nimport os\nwith open(os.path.join(os.path.dirname(__file__), "generated_dag.py"), "w") as fh:\n    fh.write(TEMPLATE.format(name="x"))\n```',
      useInstead:
        'Generate DAG files in CI (or use dynamic DAG generation in one file) and write files only inside tasks, to a task-specific location.',
    },
  },
  onFile(ctx) {
    for (const fact of factsOf(ctx).calls) if (fact.kinds.has('write') && fact.parseTime) check(fact, ctx);
  },
});

function check(fact: CallFact, ctx: RuleContext): void {
  {
    const text = fact.call.text;
    // names followed only to escalate to critical: a path built from `__file__` is common in scripts that write a
    // JSON next to themselves, and the call's own text already says "DAG folder" when it is one
    const reached = targetText(fact.call);
    let severity: Severity = 'medium';
    let where = '';
    if (PERSISTENCE.test(reached)) {
      severity = 'critical';
      where = ' (a file that runs code by itself)';
    } else if (DAG_FOLDER.test(text) || (DAG_FOLDER.test(reached) && /\.py\b/.test(reached))) {
      severity = /\.py\b/.test(reached) ? 'critical' : 'high';
      where = ' in the DAG folder';
    }
    const script = severity === 'medium' && isStandaloneScript(ctx);
    ctx.report(fact.call, { fn: shownCallee(fact), where, script: script ? STANDALONE_NOTE : '' }, { severity: script ? 'low' : severity });
  }
}
