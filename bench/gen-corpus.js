#!/usr/bin/env node
'use strict';
/**
 * Writes a synthetic corpus of realistic Airflow DAG files (written by us, no network):
 *
 *   node bench/gen-corpus.js N_MB DIR [--seed S]
 *
 * Mix (by file count): classic operator DAGs, TaskFlow DAGs, dynamic DAG factories, KubernetesPod /
 * SSH / Docker DAGs, helper modules, and ~8% of files carrying a planted problem (hardcoded
 * credentials, credential URIs, token-shaped strings, Jinja `dag_run.conf` injection, shell=True,
 * pickle/yaml loads, eval, top-level network calls). Token-shaped values are generated at run time
 * from a seeded PRNG: they are not real credentials. Output is deterministic for a given seed.
 */
const fs = require('node:fs');
const path = require('node:path');

function usage() {
  process.stderr.write('usage: node bench/gen-corpus.js N_MB DIR [--seed S]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length < 2) usage();
const targetBytes = Math.round(parseFloat(args[0]) * 1e6);
const outDir = path.resolve(args[1]);
const seedIdx = args.indexOf('--seed');
let seed = seedIdx >= 0 ? parseInt(args[seedIdx + 1], 10) : 42;
if (!(targetBytes > 0)) usage();

// mulberry32
function rnd() {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (a, b) => a + Math.floor(rnd() * (b - a + 1));
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const chars = (alphabet, n) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
const UP = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const TEAMS = ['finance', 'marketing', 'growth', 'risk', 'ads', 'search', 'payments', 'logistics', 'crm', 'ml', 'bi', 'hr'];
const NOUNS = ['orders', 'customers', 'events', 'sessions', 'invoices', 'clicks', 'inventory', 'shipments', 'users', 'campaigns', 'refunds', 'metrics'];
const VERBS = ['extract', 'load', 'transform', 'aggregate', 'validate', 'export', 'sync', 'dedupe', 'enrich', 'publish'];
const SCHED = ['@daily', '@hourly', '0 3 * * *', '*/15 * * * *', '30 6 * * 1-5', None()];
function None() {
  return 'None';
}
const ident = () => `${pick(VERBS)}_${pick(NOUNS)}`;
const dagId = () => `${pick(TEAMS)}_${pick(NOUNS)}_${pick(VERBS)}_v${int(1, 4)}`;

function header(imports) {
  return `"""
${pick(['Daily', 'Hourly', 'Incremental', 'Backfill-safe'])} pipeline for ${pick(TEAMS)} ${pick(NOUNS)}.

Owner: data-${pick(TEAMS)}@example.com. Generated for the dag-guard benchmark.
"""
from __future__ import annotations

${imports.join('\n')}
`;
}

function defaultArgs() {
  return `default_args = {
    "owner": "${pick(TEAMS)}",
    "depends_on_past": ${pick(['False', 'True'])},
    "email": ["data-${pick(TEAMS)}@example.com"],
    "email_on_failure": True,
    "retries": ${int(0, 5)},
    "retry_delay": timedelta(minutes=${int(1, 30)}),
}
`;
}

function sqlBlock() {
  const t = pick(NOUNS);
  return `"""
        INSERT INTO analytics.${t}_daily (ds, ${pick(TEAMS)}_id, total, cnt)
        SELECT '{{ ds }}' AS ds, ${pick(TEAMS)}_id, SUM(amount) AS total, COUNT(*) AS cnt
        FROM raw.${t}
        WHERE created_at >= '{{ data_interval_start }}' AND created_at < '{{ data_interval_end }}'
          AND status IN ('active', 'settled', 'pending')
        GROUP BY 1, 2
        ON CONFLICT (ds, ${pick(TEAMS)}_id) DO UPDATE SET total = EXCLUDED.total, cnt = EXCLUDED.cnt
    """`;
}

function classicDag() {
  const id = dagId();
  const n = int(4, 14);
  let s = header([
    'from datetime import datetime, timedelta',
    '',
    'from airflow import DAG',
    'from airflow.models import Variable',
    'from airflow.operators.bash import BashOperator',
    'from airflow.operators.empty import EmptyOperator',
    'from airflow.operators.python import PythonOperator, BranchPythonOperator',
    'from airflow.providers.postgres.operators.postgres import PostgresOperator',
    'from airflow.providers.amazon.aws.transfers.s3_to_redshift import S3ToRedshiftOperator',
  ]);
  s += '\n' + defaultArgs() + '\n';
  s += `BUCKET = Variable.get("${pick(TEAMS)}_bucket", default_var="example-${pick(NOUNS)}-bucket")\n`;
  s += `SCHEMA = "${pick(TEAMS)}"\n\n`;
  for (let i = 0; i < int(1, 3); i++) {
    s += `
def _${ident()}_${i}(ds, **context):
    """Pull ${pick(NOUNS)} for the logical date and push a row count."""
    ti = context["ti"]
    rows = []
    for page in range(${int(1, 20)}):
        batch = [{"id": page * 100 + k, "ds": ds, "value": k * ${int(2, 9)}} for k in range(100)]
        rows.extend(r for r in batch if r["value"] % ${int(2, 5)} == 0)
    ti.xcom_push(key="row_count", value=len(rows))
    return len(rows)
`;
  }
  s += `
def _choose_branch(**context):
    if context["logical_date"].weekday() < 5:
        return "weekday_path"
    return "weekend_path"


with DAG(
    dag_id="${id}",
    default_args=default_args,
    description="${pick(VERBS)} ${pick(NOUNS)} into the warehouse",
    schedule=${JSON.stringify(pick(SCHED)).replace('"None"', 'None')},
    start_date=datetime(${int(2019, 2024)}, ${int(1, 12)}, ${int(1, 28)}),
    catchup=${pick(['False', 'True'])},
    max_active_runs=${int(1, 3)},
    tags=["${pick(TEAMS)}", "${pick(NOUNS)}"],
) as dag:
    start = EmptyOperator(task_id="start")
    end = EmptyOperator(task_id="end", trigger_rule="none_failed_min_one_success")
    branch = BranchPythonOperator(task_id="branch", python_callable=_choose_branch)
    weekday_path = EmptyOperator(task_id="weekday_path")
    weekend_path = EmptyOperator(task_id="weekend_path")
`;
  const tasks = [];
  for (let i = 0; i < n; i++) {
    const t = `${ident()}_${i}`;
    tasks.push(t);
    const k = int(0, 3);
    if (k === 0) {
      s += `
    ${t} = BashOperator(
        task_id="${t}",
        bash_command="python -m jobs.${pick(NOUNS)} --date {{ ds }} --run-id {{ run_id }} --bucket ${'$'}BUCKET",
        env={"BUCKET": BUCKET, "STAGE": "${pick(['prod', 'staging'])}"},
        append_env=True,
    )
`;
    } else if (k === 1) {
      s += `
    ${t} = PostgresOperator(
        task_id="${t}",
        postgres_conn_id="${pick(TEAMS)}_warehouse",
        sql=${sqlBlock()},
    )
`;
    } else if (k === 2) {
      s += `
    ${t} = S3ToRedshiftOperator(
        task_id="${t}",
        s3_bucket=BUCKET,
        s3_key="${pick(NOUNS)}/{{ ds_nodash }}/part-",
        schema=SCHEMA,
        table="${pick(NOUNS)}",
        copy_options=["FORMAT AS PARQUET"],
        redshift_conn_id="redshift_default",
        aws_conn_id="aws_default",
    )
`;
    } else {
      s += `
    ${t} = PythonOperator(
        task_id="${t}",
        python_callable=_${ident()}_0 if False else (lambda **kw: kw["ds"]),
        op_kwargs={"table": "${pick(NOUNS)}", "limit": ${int(100, 10000)}},
    )
`;
    }
  }
  s += `\n    start >> branch >> [weekday_path, weekend_path]\n`;
  s += `    [weekday_path, weekend_path] >> ${tasks[0]}\n`;
  for (let i = 1; i < tasks.length; i++) s += `    ${tasks[i - 1]} >> ${tasks[i]}\n`;
  s += `    ${tasks[tasks.length - 1]} >> end\n`;
  return s;
}

function taskflowDag() {
  const id = dagId();
  let s = header([
    'import json',
    'import logging',
    'from datetime import datetime',
    '',
    'import pendulum',
    'from airflow.decorators import dag, task',
    'from airflow.providers.http.hooks.http import HttpHook',
    'from airflow.providers.postgres.hooks.postgres import PostgresHook',
  ]);
  s += `\nlog = logging.getLogger(__name__)\n\n`;
  s += `
@dag(
    dag_id="${id}",
    schedule=${JSON.stringify(pick(SCHED)).replace('"None"', 'None')},
    start_date=pendulum.datetime(${int(2020, 2024)}, 1, 1, tz="UTC"),
    catchup=False,
    params={"limit": ${int(10, 1000)}, "region": "${pick(['eu', 'us', 'apac'])}"},
    tags=["taskflow", "${pick(TEAMS)}"],
)
def ${id}():
    @task(retries=${int(0, 3)})
    def extract(limit: int = 100) -> list[dict]:
        hook = HttpHook(method="GET", http_conn_id="${pick(TEAMS)}_api")
        resp = hook.run("/v2/${pick(NOUNS)}", data={"limit": limit})
        payload = json.loads(resp.text)
        log.info("fetched %d records", len(payload["items"]))
        return payload["items"]
`;
  const steps = int(2, 7);
  for (let i = 0; i < steps; i++) {
    s += `
    @task
    def ${pick(VERBS)}_${i}(records: list[dict]) -> list[dict]:
        out = []
        for rec in records:
            if rec.get("${pick(['status', 'state', 'kind'])}") in {"${pick(['ok', 'done', 'active'])}", "${pick(['new', 'open'])}"}:
                rec = {**rec, "${pick(NOUNS)}_score": round(float(rec.get("value", 0)) * ${(rnd() * 3).toFixed(2)}, 4)}
                out.append(rec)
        log.info("${pick(VERBS)} step ${i}: %d -> %d", len(records), len(out))
        return out
`;
  }
  s += `
    @task
    def load(records: list[dict]) -> None:
        hook = PostgresHook(postgres_conn_id="${pick(TEAMS)}_dwh")
        rows = [(r["id"], json.dumps(r)) for r in records]
        hook.insert_rows(table="staging.${pick(NOUNS)}", rows=rows, target_fields=["id", "doc"], commit_every=1000)

    data = extract()
`;
  for (let i = 0; i < steps; i++) s += `    data = ${s.match(new RegExp(`def (\\w+_${i})\\(`))[1]}(data)\n`;
  s += `    load(data)\n\n\n${id}()\n`;
  return s;
}

function factoryDag() {
  const n = int(3, 12);
  let s = header([
    'from datetime import datetime, timedelta',
    '',
    'from airflow import DAG',
    'from airflow.operators.python import PythonOperator',
    'from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator',
    'from airflow.utils.task_group import TaskGroup',
  ]);
  s += `\nSOURCES = {\n`;
  for (let i = 0; i < n; i++) {
    s += `    "${pick(NOUNS)}_${i}": {"schedule": ${JSON.stringify(pick(SCHED)).replace('"None"', 'None')}, "tables": [${Array.from({ length: int(1, 5) }, () => `"${pick(NOUNS)}"`).join(', ')}], "owner": "${pick(TEAMS)}"},\n`;
  }
  s += `}


def make_dag(name: str, cfg: dict) -> DAG:
    dag = DAG(
        dag_id=f"ingest_{name}",
        schedule=cfg["schedule"],
        start_date=datetime(2023, 1, 1),
        catchup=False,
        default_args={"owner": cfg["owner"], "retries": 2, "retry_delay": timedelta(minutes=5)},
        tags=["factory", cfg["owner"]],
    )
    with dag:
        for table in cfg["tables"]:
            with TaskGroup(group_id=f"tg_{table}") as tg:
                load = BigQueryInsertJobOperator(
                    task_id=f"load_{table}",
                    configuration={
                        "query": {
                            "query": f"SELECT * FROM \`raw.{table}\` WHERE _PARTITIONDATE = '{{{{ ds }}}}'",
                            "useLegacySql": False,
                            "destinationTable": {"projectId": "example-project", "datasetId": name, "tableId": table},
                            "writeDisposition": "WRITE_TRUNCATE",
                        }
                    },
                    location="${pick(['EU', 'US'])}",
                )
                check = PythonOperator(
                    task_id=f"check_{table}",
                    python_callable=lambda t=table, **ctx: ctx["ti"].log.info("checked %s", t),
                )
                load >> check
    return dag


for _name, _cfg in SOURCES.items():
    globals()[f"ingest_{_name}"] = make_dag(_name, _cfg)
`;
  return s;
}

function k8sDag() {
  const id = dagId();
  let s = header([
    'from datetime import datetime',
    '',
    'from airflow import DAG',
    'from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator',
    'from airflow.providers.cncf.kubernetes.secret import Secret',
    'from airflow.providers.ssh.operators.ssh import SSHOperator',
    'from airflow.providers.docker.operators.docker import DockerOperator',
    'from kubernetes.client import models as k8s',
  ]);
  s += `
db_secret = Secret(deploy_type="env", deploy_target="DB_PASSWORD", secret="${pick(TEAMS)}-db-credentials", key="password")
api_secret = Secret(deploy_type="volume", deploy_target="/etc/api", secret="${pick(TEAMS)}-api-token")

resources = k8s.V1ResourceRequirements(requests={"cpu": "${int(1, 4)}", "memory": "${int(1, 16)}Gi"}, limits={"memory": "${int(16, 32)}Gi"})

with DAG("${id}", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
`;
  for (let i = 0; i < int(2, 8); i++) {
    const k = int(0, 2);
    if (k === 0) {
      s += `    pod_${i} = KubernetesPodOperator(
        task_id="pod_${i}",
        name="${pick(VERBS)}-${pick(NOUNS)}",
        namespace="${pick(TEAMS)}",
        image="registry.example.com/${pick(TEAMS)}/${pick(NOUNS)}:${int(1, 9)}.${int(0, 20)}.${int(0, 9)}",
        cmds=["python", "-m", "jobs.${pick(NOUNS)}"],
        arguments=["--date", "{{ ds }}", "--env", "prod"],
        secrets=[db_secret, api_secret],
        env_vars={"LOG_LEVEL": "INFO", "RUN_ID": "{{ run_id }}"},
        container_resources=resources,
        get_logs=True,
        is_delete_operator_pod=True,
    )
`;
    } else if (k === 1) {
      s += `    ssh_${i} = SSHOperator(
        task_id="ssh_${i}",
        ssh_conn_id="${pick(TEAMS)}_edge",
        command="/opt/jobs/${pick(VERBS)}.sh {{ ds_nodash }} >> /var/log/jobs/${pick(NOUNS)}.log 2>&1",
        cmd_timeout=${int(60, 3600)},
    )
`;
    } else {
      s += `    docker_${i} = DockerOperator(
        task_id="docker_${i}",
        image="python:3.${int(9, 12)}-slim",
        command=["python", "-c", "import sys; print(sys.version)"],
        auto_remove="success",
        docker_url="unix://var/run/docker.sock",
        network_mode="bridge",
    )
`;
    }
  }
  return s;
}

function helperModule() {
  let s = header(['import csv', 'import io', 'import logging', 'from dataclasses import dataclass, field', 'from typing import Iterable, Iterator']);
  s += `\nlog = logging.getLogger(__name__)\n`;
  for (let i = 0; i < int(2, 6); i++) {
    const cls = `${pick(NOUNS)[0].toUpperCase()}${pick(NOUNS).slice(1)}Record${i}`;
    s += `

@dataclass
class ${cls}:
    id: int
    name: str
    amount: float = 0.0
    tags: list[str] = field(default_factory=list)

    def normalized(self) -> "${cls}":
        return ${cls}(self.id, self.name.strip().lower(), round(self.amount, 2), sorted(set(self.tags)))

    def to_row(self) -> tuple:
        return (self.id, self.name, self.amount, ",".join(self.tags))


def parse_${pick(NOUNS)}_${i}(text: str) -> Iterator[${cls}]:
    reader = csv.DictReader(io.StringIO(text))
    for n, row in enumerate(reader):
        try:
            yield ${cls}(int(row["id"]), row["name"], float(row.get("amount") or 0), row.get("tags", "").split("|"))
        except (KeyError, ValueError) as exc:
            log.warning("skipping row %d: %s", n, exc)


def chunked_${i}(items: Iterable, size: int = ${int(100, 5000)}) -> Iterator[list]:
    buf = []
    for it in items:
        buf.append(it)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf
`;
  }
  return s;
}

/** Planted problems: appended to some files so the rules have real work to report. */
function planted() {
  const k = int(0, 11);
  switch (k) {
    case 0:
      return `\nDB_PASSWORD = "${chars(ALNUM, 14)}!"\n`;
    case 1:
      return `\nWAREHOUSE_URI = "postgresql://etl_user:${chars(ALNUM, 12)}@db.internal.example.com:5432/dwh"\n`;
    case 2:
      return `\nAWS_ACCESS_KEY_ID = "AKIA${chars(UP.slice(0, 26) + '234567', 16)}"\naws_secret_access_key = "${chars(ALNUM + '/+', 40)}"\n`;
    case 3:
      return `\nwith DAG("adhoc_${chars('abcdef', 6)}", schedule=None, start_date=datetime(2024, 1, 1)) as adhoc:\n    run = BashOperator(task_id="run", bash_command="echo {{ dag_run.conf['cmd'] }} | sh")\n`;
    case 4:
      return `\nimport subprocess\n\n\ndef _run(path):\n    return subprocess.run(f"gzip -d {path}", shell=True, check=True)\n`;
    case 5:
      return `\nimport pickle\n\n\ndef _load_state(blob):\n    return pickle.loads(blob)\n`;
    case 6:
      return `\nimport yaml\n\nCONFIG = yaml.load(open("/opt/airflow/dags/config.yaml"))\n`;
    case 7:
      return `\n\ndef _apply(expr, row):\n    return eval(expr, {}, row)\n`;
    case 8:
      return `\nimport requests\n\nSETTINGS = requests.get("https://config.example.com/${pick(TEAMS)}.json", timeout=5).json()\n`;
    case 9:
      return `\nSLACK_WEBHOOK = "https://hooks.slack.com/services/T${chars(UP, 8)}/B${chars(UP, 8)}/${chars(ALNUM, 24)}"\n`;
    case 10:
      return `\nimport os\n\nos.system("curl -s https://example.com/bootstrap.sh | sh")\n`;
    default:
      return `\nconn = Connection(conn_id="legacy", conn_type="postgres", host="10.0.0.5", login="admin", password="${chars(ALNUM, 10)}")\n`;
  }
}

const KINDS = [
  [classicDag, 0.32],
  [taskflowDag, 0.22],
  [factoryDag, 0.14],
  [k8sDag, 0.14],
  [helperModule, 0.18],
];
function pickKind() {
  let r = rnd();
  for (const [fn, w] of KINDS) {
    if ((r -= w) < 0) return fn;
  }
  return KINDS[0][0];
}

fs.mkdirSync(outDir, { recursive: true });
let bytes = 0;
let files = 0;
while (bytes < targetBytes) {
  const kind = pickKind();
  let text = kind();
  if (rnd() < 0.08) text += planted();
  const team = pick(TEAMS);
  const dir = path.join(outDir, 'dags', team, kind === helperModule ? 'common' : '');
  fs.mkdirSync(dir, { recursive: true });
  const name = `${kind.name.replace(/Dag$|Module$/, '').toLowerCase()}_${String(files).padStart(5, '0')}.py`;
  fs.writeFileSync(path.join(dir, name), text);
  bytes += Buffer.byteLength(text);
  files++;
}
process.stdout.write(`${files} files, ${(bytes / 1e6).toFixed(2)} MB in ${outDir}\n`);
