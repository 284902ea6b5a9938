import { defineRule } from '../../src/engine/rule';
import { atLeast, commandParts, provenance, type Provenance, type Trust } from '../../src/engine/airflow';
import type { Severity } from '../../src/report';
import { matchedScripts, OPERATOR_QUERY, originWords, reportOnce, snippet } from './_util';

const SEVERITY: Partial<Record<Trust, Severity>> = { user: 'high', unknown: 'medium', xcom: 'medium', config: 'medium' };

/** Per-finding message template. */
const MSG = '{label} is built by Python string formatting from {origin} (`{value}`)';

export default defineRule({
  meta: {
    id: 'DG204',
    name: 'formatted-shell-command',
    category: 'shell-injection',
    severity: 'high',
    message: 'shell command of an Airflow operator is built by Python formatting from non-constant values',
    aliases: [],
    docs: {
      what:
        'Finds shell scripts of Airflow operators (the same sinks as DG203: `BashOperator`/`BashSensor` `bash_command`, `SSHOperator`/`WinRMOperator` `command`, `@task.bash` return values, `DockerOperator`/`KubernetesPodOperator` `sh -c` scripts) built with f-strings, `%`, `.format`, `+` or `" ".join([...])` from values that are not constants. Names are followed to their assignment, `for` loop or parameter: constants, loops over constant lists, paths derived from `__file__` or module constants, dates (`.strftime`), numbers and `shlex.quote(…)` are fine. Parameters of `@task.bash`/`@task` functions and `dag_run.conf`/`params` lookups are *high*; Variables, environment values, XComs and values of unknown origin (e.g. a DAG-factory argument) are *medium*.',
      why:
        'Whatever the value contains becomes shell syntax: quotes, `;`, `$(…)` and newlines run extra commands on the worker. `@task.bash` parameters are XComs or trigger-time values; `Variable.get` values are editable in the UI; factory arguments often come from YAML files outside review. Python formatting also bypasses Airflow\'s templating, so the value is fixed at parse time or unquoted at run time.',
      example:
        '```python\n@task.bash\ndef sync(bucket: str) -> str:\n    return f"aws s3 sync s3://{bucket}/in /data/in"\n\nBashOperator(task_id="dump", bash_command="pg_dump %s > out.sql" % Variable.get("db_name"))\n```',
      useInstead:
        '```python\n@task.bash(env={"BUCKET": "{{ ti.xcom_pull(task_ids=\'pick\') }}"})\ndef sync() -> str:\n    return \'aws s3 sync "s3://$BUCKET/in" /data/in\'\n\nBashOperator(task_id="dump", bash_command=\'pg_dump "$DB" > out.sql\', env={"DB": "{{ var.value.db_name }}"})\n# or quote: f"aws s3 sync s3://{shlex.quote(bucket)}/in /data/in"\n```',
    },
  },
  query: OPERATOR_QUERY,
  onMatch(c, ctx) {
    const m = matchedScripts(c, ctx);
    if (!m) return;
    for (const s of m.scripts) {
      const parts = commandParts(s.node);
      if (!parts.formatted && !parts.values.length) continue;
      let best: Provenance | null = null;
      for (const v of parts.values) {
        const p = provenance(v, ctx);
        if (atLeast(p.trust, 'config') && (!best || (atLeast(p.trust, best.trust) && p.trust !== best.trust))) best = p;
      }
      if (!best) continue;
      if (!parts.formatted && best.trust !== 'user') continue; // a whole command passed through, not built here
      const b = best;
      reportOnce(ctx, s.node, () =>
        ctx.report(
          s.node,
          (parts.formatted ? MSG : '{label} is {origin} (`{value}`), run as a whole shell command')
            .replace('{label}', s.label)
            .replace('{origin}', originWords(b.trust))
            .replace('{value}', snippet(b.node)),
          { severity: SEVERITY[b.trust] ?? 'high' },
        ),
      );
    }
  },
});
