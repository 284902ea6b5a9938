import { defineRule } from '../../src/engine/rule';
import { factsOf } from './_facts';
import { CLIENT_CONSTRUCTORS, networkCallsOn } from './_clients';

export default defineRule({
  meta: {
    id: 'DG601',
    name: 'network-call-at-parse-time',
    category: 'malicious',
    severity: 'high',
    message: '`{fn}` talks to the network while the DAG file is parsed',
    aliases: ['B310', 'S310', 'B312', 'S312', 'B321', 'S321'],
    docs: {
      what:
        'Finds network calls that run when Airflow imports the file — module level, class bodies, decorator arguments, default values: `requests.*`/`httpx.*` requests (also through a `Session`/`Client` bound at module level), `urllib.request.urlopen`/`urlretrieve`, `http.client.*Connection`, `socket.create_connection`, `socket.socket().connect`, DNS lookups, calls on Airflow hooks and cloud SDK clients (`S3Hook(...).read_key(...)`, `PostgresHook(...).get_records(...)`, `boto3.client("s3").get_object(...)`, Google Cloud `download_as_text()`/`query()`…; constructing one is fine, calling it is not — and a hook looks its connection up first), `smtplib`, `ftplib`, `telnetlib`, `paramiko` connections, and log handlers that send records to a remote host (`logging.handlers.HTTPHandler`, `SocketHandler`, `DatagramHandler`, `SMTPHandler`: set up at parse time, typically on Airflow\'s own loggers, they ship every log line out). The same calls inside task functions are not reported.',
      why:
        'The dag-processor imports every DAG file every few seconds, with the metadata-DB connection string, the Fernet key and the cloud credentials of the scheduler in its environment. Code that reaches the network from there can exfiltrate those secrets, fetch a second stage, or simply hang parsing for every DAG (the parse timeout is the only limit). Legitimate "configuration from an API" at parse time is also a reliability problem: each parse hits the API.',
      example: '```python\nimport requests\nTABLES = requests.get("https://config.internal/tables").json()\n\nwith DAG("sync") as dag:\n    for t in TABLES: ...\n```',
      useInstead:
        '```python\n# fetch inside a task, or generate the config at deploy time and commit it\n@task\ndef list_tables():\n    return HttpHook(method="GET", http_conn_id="config_api").run("tables").json()\n\nsync.expand(table=list_tables())\n```',
    },
  },
  onFile(ctx) {
    for (const fact of factsOf(ctx).calls) {
      // calls on hooks and clients are reported by onCall below, from their constructor
      if (!fact.kinds.has('network') || !fact.parseTime || fact.client) continue;
      ctx.report(fact.call, { fn: fact.fn ?? fact.call.childForFieldName('function')!.text });
    }
  },
  // hooks and cloud SDK clients: what is called on them at parse time (see _clients.ts)
  calls: CLIENT_CONSTRUCTORS,
  onCall(call, fn, ctx) {
    for (const c of networkCallsOn(call, fn, ctx)) if (ctx.isParseTime(c.call)) ctx.report(c.call, { fn: c.fn });
  },
});
