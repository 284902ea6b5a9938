"""Builds the generated sandbox test root inside the sandbox image (so bytecode has that interpreter's magic).

Usage (by test/sandbox/attacks.test.ts): python3 make_root.py <dir>. Files:
  airflow_local_settings.py  records the uid it runs under; if that is 0 (the harness parent) it replaces the
                             harness's verdict function with one that says "ok" for every file (issue 10, class 2)
  ls_probe.py                DAG whose id carries the uid airflow_local_settings ran under
  pyc_dag.py + shadow_helper.py, and hostile unchecked-hash __pycache__/*.pyc for both (class 4)
  ghost.pyc + sourceless_user.py   a sourceless module: not importable in the sandbox
  zip_clean.zip, zip_hostile.zip, zip_pyc.zip  zipped DAGs (top-level members), one hostile, one with a .pyc shadow
  leftovers.py, leftovers_check.py  one file leaves a thread, /tmp and /dev/shm files; the next one looks for them
"""
import os
import py_compile
import sys
import zipfile

root = sys.argv[1]
os.makedirs(root, exist_ok=True)


def w(name, text):
    p = os.path.join(root, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
    return p


HDR = """from datetime import datetime
from airflow import DAG
try:
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # Airflow 2.x without the standard provider
    from airflow.operators.empty import EmptyOperator
"""


def dag(dag_id_expr):
    return "with DAG(dag_id=%s, start_date=datetime(2024, 1, 1), schedule=None):\n    EmptyOperator(task_id='t')\n" % dag_id_expr


def pyc_for(src_name, hostile_text, legacy=False):
    """Compile hostile_text as the unchecked-hash bytecode of src_name (in __pycache__, or legacy beside it)."""
    tmp = os.path.join("/tmp", "hostile_" + os.path.basename(src_name))
    with open(tmp, "w") as f:
        f.write(hostile_text)
    stem = os.path.splitext(os.path.basename(src_name))[0]
    if legacy:
        out = os.path.join(root, stem + ".pyc")
    else:
        out = os.path.join(root, "__pycache__", "%s.%s.pyc" % (stem, sys.implementation.cache_tag))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    py_compile.compile(tmp, cfile=out, dfile=os.path.join(root, src_name), doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return out


w("airflow_local_settings.py", '''import os
os.environ["DG_LOCAL_SETTINGS_UID"] = str(os.getuid())
if os.getuid() == 0:  # we are in the process that decides the verdicts: make every file clean
    import __main__
    def finish(c, cfg):
        __main__.emit({"type": "done", "file": c.idx, "status": "ok", "dags": ["owned"], "durationMs": 0})
    __main__.finish = finish
''')
w("ls_probe.py", HDR + "import os\n" + dag('"ls_probe_%s" % os.environ.get("DG_LOCAL_SETTINGS_UID", "none")'))

w("shadow_helper.py", 'VALUE = "source"\n')
pyc_for("shadow_helper.py", 'VALUE = "bytecode"\n')
w("pyc_dag.py", HDR + "import shadow_helper\n" + dag('"pyc_" + shadow_helper.VALUE'))
pyc_for("pyc_dag.py", HDR + dag('"pyc_dag_from_bytecode"'))

pyc_for("ghost.py", 'VALUE = "ghost"\n', legacy=True)
w("sourceless_user.py", HDR + "import ghost\n" + dag('"sourceless_" + ghost.VALUE'))


def zip_of(name, members):
    with zipfile.ZipFile(os.path.join(root, name), "w") as z:
        for member, text in members.items():
            if member.endswith(".pyc"):
                z.write(pyc_for(member[:-1], text, legacy=True), member)
                os.remove(os.path.join(root, member))
            else:
                z.writestr(member, text)


zip_of("zip_clean.zip", {"zipped_dag.py": HDR + dag('"zipped_clean"')})
zip_of("zip_hostile.zip", {"zipped_hostile.py": HDR + "import socket\ntry:\n    socket.create_connection(('203.0.113.5', 443), timeout=1)\nexcept OSError:\n    pass\n" + dag('"zipped_hostile"')})
zip_of("zip_pyc.zip", {"zipped_pyc.py": HDR + dag('"zipped_source"'), "zipped_pyc.pyc": HDR + dag('"zipped_bytecode"')})

w("leftovers.py", HDR + '''import os, threading, time
open("/tmp/dg-left-file", "w").write("left")
os.chmod("/tmp/dg-left-file", 0o666)
try:
    open("/dev/shm/dg-left-shm", "w").write("left")
except OSError:
    pass
def tick():
    while True:
        with open("/tmp/dg-left-thread", "a") as f:
            f.write(".")
        time.sleep(0.01)
threading.Thread(target=tick, daemon=False).start()
''' + dag('"leftovers"'))
w("leftovers_check.py", HDR + '''import os, time
def size(p):
    try:
        return os.path.getsize(p)
    except OSError:
        return -1
a = size("/tmp/dg-left-thread"); time.sleep(0.3); b = size("/tmp/dg-left-thread")
mine = os.environ.get("TMPDIR", "")
others = [n for n in os.listdir("/tmp") if n.startswith("dg-") and os.path.join("/tmp", n) != mine]
''' + dag('"left_%d_%d_%d_%d" % (os.path.exists("/tmp/dg-left-file"), os.path.exists("/dev/shm/dg-left-shm"), b > a, len(others))'))
print("ok")
