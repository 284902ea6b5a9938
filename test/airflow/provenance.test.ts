/**
 * Severity follows the worst origin a value carries (src/airflow/provenance.ts, Provenance.also): a task's output
 * joined with something of unknown origin must not fall to the unknown part's *info* in formatted SQL and commands.
 * Fixture annotations cannot say this (they check that a finding exists, not its severity).
 */
import { describe, expect, it } from 'vitest';
import { ALL_RULES } from '../../rules';
import { analyzeSource, compileRules } from '../../src/engine/analyze';
import { DEFAULT_SETTINGS } from '../../src/engine/settings';

const compiled = compileRules(ALL_RULES.filter((r) => r.meta.id === 'DG250' || r.meta.id === 'DG204'));

function severities(src: string): string[] {
  return analyzeSource('dags/x.py', src, compiled, DEFAULT_SETTINGS).findings.map((f) => `${f.ruleId} ${f.severity}`);
}

const HEAD = 'import helpers\nfrom airflow.decorators import task\nfrom airflow.operators.bash import BashOperator\n\n@task\ndef t(hook, ti=None):\n';

describe('the severity of a value made of parts', () => {
  it('keeps a task output hidden behind a value of unknown origin (formatted SQL)', () => {
    expect(severities(`${HEAD}    part = ti.xcom_pull(task_ids="a") + helpers.suffix()\n    hook.run(f"DELETE FROM {part}")\n`)).toEqual(['DG250 medium']);
    expect(severities(`${HEAD}    part = "{}_{}".format(helpers.prefix(), ti.xcom_pull(task_ids="a"))\n    hook.run(f"DELETE FROM {part}")\n`)).toEqual(['DG250 medium']);
  });

  it('keeps it in a formatted shell command too', () => {
    expect(severities(`${HEAD}    part = ti.xcom_pull(task_ids="a") + helpers.suffix()\n    BashOperator(task_id="b", bash_command=f"ls {part}")\n`)).toEqual(['DG204 medium']);
  });

  it('leaves a value of unknown origin alone at info', () => {
    expect(severities(`${HEAD}    part = helpers.prefix() + helpers.suffix()\n    hook.run(f"DELETE FROM {part}")\n`)).toEqual(['DG250 info']);
  });
});

describe('values a template takes from locals() / vars() / globals()', () => {
  const fn = 'import helpers\nfrom airflow.decorators import task\nfrom airflow.operators.bash import BashOperator\n\n@task\ndef t(hook, **context):\n    cust = context["dag_run"].conf["cust"]\n    table = "orders"\n';
  it('are the names its fields ask for, followed as any name (they read as unknown before: info in SQL)', () => {
    expect(severities(`${fn}    hook.run("DELETE FROM {table} WHERE c = '{cust}'".format(**locals()))\n`)).toEqual(['DG250 high']);
    expect(severities(`${fn}    BashOperator(task_id="b", bash_command="grep %(cust)s /data/%(table)s" % vars())\n`)).toEqual(['DG204 high']);
  });
  it('a template asking only for constants is fine; a name the function does not show is of unknown origin', () => {
    expect(severities(`${fn}    hook.run("DELETE FROM {table}".format(**locals()))\n`)).toEqual([]);
    expect(severities(`${fn}    hook.run("DELETE FROM {other}".format(**locals()))\n`)).toEqual(['DG250 info']);
  });
});

describe('values stored in a container or an object before use', () => {
  const head = 'from airflow.decorators import task\nfrom airflow.operators.bash import BashOperator\n\n';
  it('a dict filled by subscript, update() or setdefault() carries what was put in (it was the empty literal: no finding)', () => {
    const body = (fill: string) => `${head}@task\ndef t(hook, **context):\n    cfg = {}\n    ${fill}\n    hook.run("TRUNCATE " + cfg["table"])\n`;
    expect(severities(body('cfg["table"] = context["dag_run"].conf["table"]'))).toEqual(['DG250 high']);
    expect(severities(body('cfg.update(table=context["params"]["table"])'))).toEqual(['DG250 high']);
    expect(severities(body('cfg.setdefault("table", context["params"]["table"])'))).toEqual(['DG250 high']);
    expect(severities(body('cfg["table"] = "orders"'))).toEqual([]);
  });

  it('self.<attr> is what the class stores there, and __init__ parameters are judged where the class is called', () => {
    const cls = (arg: string) =>
      `${head}class Purger:\n    def __init__(self, hook, conf):\n        self.hook = hook\n        self.table = conf["table"]\n\n    def run(self):\n        self.hook.run(f"DELETE FROM {self.table}")\n\n\n@task\ndef t(hook, **context):\n    Purger(hook, ${arg}).run()\n`;
    expect(severities(cls('context["dag_run"].conf'))).toEqual(['DG250 high']);
    expect(severities(cls('{"table": "orders"}'))).toEqual([]);
    const classAttr = `${head}class Purger:\n    table = "orders"\n\n    def run(self, hook):\n        hook.run(f"DELETE FROM {self.table}")\n`;
    expect(severities(classAttr)).toEqual([]);
  });

  it("an operator subclass's constructor argument is a template: Jinja in it is judged", () => {
    const op = `${head}class Cmd:\n    def __init__(self, command):\n        self.command = command\n\n    def execute(self, context):\n        return BashOperator(task_id="x", bash_command=f"set -e; {self.command}")\n\n\nCmd(command="echo {{ dag_run.conf['x'] }}")\n`;
    expect(severities(op)).toEqual(['DG204 high']);
  });
});

describe('data handed on by wrappers and decoders keeps its origin', () => {
  it('rows of a CSV read from a bucket are fetched data (they were of unknown origin: info in SQL)', () => {
    const src = `import csv, io\nfrom airflow.decorators import task\nfrom airflow.providers.amazon.aws.hooks.s3 import S3Hook\n\ndef lookup(hook, sku):\n    return hook.get_pandas_df("SELECT 1 FROM t WHERE sku = '" + sku + "'")\n\n@task\ndef enrich(hook, key):\n    rows = list(csv.DictReader(io.StringIO(S3Hook().read_key(key, bucket_name="b"))))\n    for row in rows:\n        lookup(hook, row["sku"].strip())\n`;
    expect(severities(src)).toEqual(['DG250 medium']);
    const decoded = `import base64\nfrom airflow.decorators import task\nfrom airflow.providers.amazon.aws.hooks.s3 import S3Hook\n\n@task\ndef t(hook):\n    name = base64.b64decode(S3Hook().read_key("k", bucket_name="b")).decode().splitlines()[0]\n    hook.run(f"DROP TABLE {name}")\n`;
    expect(severities(decoded)).toEqual(['DG250 medium']);
  });
});

describe("another task's output, when that task is in the file", () => {
  it('is what it returns: trigger input handed on through an XCom stays trigger input (it was a task output: medium)', () => {
    const src = `from airflow.decorators import task\n\n@task\ndef pick(**context):\n    return context["dag_run"].conf["table"]\n\n@task\ndef purge(table, hook=None):\n    hook.run(f"DELETE FROM {table}")\n\npurge(pick())\n`;
    expect(severities(src)).toEqual(['DG250 high']);
    expect(severities(src.replace('context["dag_run"].conf["table"]', '"orders"'))).toEqual(['DG250 medium']);
  });
});

describe("what a task's output holds that the file does not show", () => {
  it('is still that task\'s output (rows of a CSV the task downloaded: medium, it was of unknown origin: info in SQL)', () => {
    const src = `import csv, tempfile\nfrom airflow.decorators import dag, task\nfrom airflow.providers.sftp.hooks.sftp import SFTPHook\nfrom airflow.providers.microsoft.mssql.hooks.mssql import MsSqlHook\n\nMERGE = "MERGE dbo.V AS t USING (SELECT '{vendor_id}' AS VendorId) AS s ON t.VendorId = s.VendorId"\n\n@dag(schedule=None)\ndef sync():\n    @task\n    def fetch(ds_nodash=None):\n        hook = SFTPHook(ssh_conn_id="erp")\n        with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:\n            hook.retrieve_file("/out/v.csv", tmp.name)\n            with open(tmp.name, newline="") as fh:\n                rows = list(csv.DictReader(fh, delimiter=";"))\n        return rows\n\n    @task\n    def upsert(rows):\n        hook = MsSqlHook(mssql_conn_id="ap")\n        for row in rows:\n            stmt = MERGE.format(vendor_id=row["vendor_id"].strip())\n            hook.run(stmt, autocommit=True)\n\n    upsert(fetch())\nsync()\n`;
    expect(severities(src)).toEqual(['DG250 medium']);
  });
});

describe('following names costs at most MAX_DEPTH + 1 answers per node (a crafted file cannot make it exponential)', () => {
  // Each level's four names are built from all four of the level below: followed naively, a value at level L
  // reaches 4^L paths. Sinks at every level, asked deepest first, make each node be asked again from closer.
  function crafted(levels: number): string {
    const names = ['a', 'b', 'c', 'd'];
    const lines = ['import os', 'from airflow.decorators import task', '', '@task', 'def t(**context):'];
    for (const n of names) lines.push(`    ${n}0 = context["dag_run"].conf["${n}"]`);
    for (let i = 1; i <= levels; i++) for (const n of names) lines.push(`    ${n}${i} = f"${names.map((m) => `{${m}${i - 1}}`).join('-')}"`);
    for (let i = levels; i >= 1; i--) lines.push(`    os.system(a${i})`);
    return lines.join('\n') + '\n';
  }

  async function answersFor(levels: number): Promise<{ answers: number; nodes: number; worst: string[] }> {
    const { parse } = await import('../../src/parse');
    const { RuleContext } = await import('../../src/engine/context');
    const { provenance, provenanceAnswers } = await import('../../src/airflow/provenance');
    const text = crafted(levels);
    const root = parse(text).rootNode;
    const ctx = new RuleContext({ path: 'dags/x.py', text }, DEFAULT_SETTINGS, [], () => root);
    const worst: string[] = [];
    for (const call of root.descendantsOfType('call')) {
      if (call.childForFieldName('function')?.text !== 'os.system') continue;
      worst.push(provenance(call.childForFieldName('arguments')!.namedChildren[0], ctx).trust);
    }
    return { answers: provenanceAnswers(ctx), nodes: root.descendantCount, worst };
  }

  it('bounds the answers by the nodes, grows linearly with the file, and still finds the input close to it', async () => {
    const { MAX_DEPTH } = await import('../../src/airflow/provenance');
    const small = await answersFor(40);
    const big = await answersFor(80);
    expect(big.answers).toBeLessThanOrEqual((MAX_DEPTH + 1) * big.nodes);
    // doubling the levels at most doubles the work (plus slack for the sinks), never squares it
    expect(big.answers / small.answers).toBeLessThan(2.5);
    // the value one level above the input is still seen as trigger input; one beyond the depth limit is not claimed
    expect(big.worst.at(-1)).toBe('user');
    expect(big.worst[0]).toBe('unknown');
    // and the answers do not depend on the order the sinks are asked in (a cut answer reused was memoised as final)
    expect(small.worst.slice(-6)).toEqual(Array(6).fill('user'));
  });

  it('follows trigger input laundered through ten formatted assignments (an f-string step used to cost the walk twice)', () => {
    const chain = Array.from({ length: 10 }, (_, i) => `    a${i + 1} = f"x {a${i}}"\n`).join('');
    const src = `${HEAD}    a0 = context["dag_run"].conf["a"]\n${chain}    hook.run(a10)\n    BashOperator(task_id="b", bash_command=a10)\n`;
    expect(severities(src.replace('ti=None', '**context'))).toEqual(['DG250 high', 'DG204 high']);
  });

  it('judges a parameter the same whether its function was asked about before or after a deeper one', async () => {
    // s40 gets trigger input and passes it down to s0; each sᵢ also runs it. Sinks are asked in document order,
    // deepest chain first: parameters answered by a depth-cut question were memoised as final, so sinks well within
    // the limit of the input read as unknown (16 of 41 as trigger input before, 24 now).
    const { parse } = await import('../../src/parse');
    const { RuleContext } = await import('../../src/engine/context');
    const { provenance } = await import('../../src/airflow/provenance');
    const fns = ['def s0(v):\n    os.system(f"run {v}")\n'];
    for (let i = 1; i <= 40; i++) fns.push(`def s${i}(v):\n    os.system(f"run {v}")\n    s${i - 1}(v)\n`);
    const text = `import os\nfrom airflow.decorators import task\n\n${fns.join('\n')}\n@task\ndef t(**context):\n    s40(context["dag_run"].conf["x"])\n`;
    const root = parse(text).rootNode;
    const ctx = new RuleContext({ path: 'dags/x.py', text }, DEFAULT_SETTINGS, [], () => root);
    const trusts = root
      .descendantsOfType('call')
      .filter((c) => c.childForFieldName('function')?.text === 'os.system')
      .map((c) => provenance(c.childForFieldName('arguments')!.namedChildren[0], ctx).trust);
    expect(trusts).toHaveLength(41);
    expect(trusts.filter((t) => t === 'user').length).toBeGreaterThanOrEqual(20);
    expect(trusts.slice(-20)).toEqual(Array(20).fill('user'));
  });
});
