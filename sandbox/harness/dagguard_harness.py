"""dag-guard sandbox harness: runs INSIDE the locked-down container (entrypoint), never on the host.

Trust boundary (SECURITY.md): the PARENT decides every verdict and never executes repository code; each DAG file is
imported by its own forked CHILD under its own uid, behind its own seccomp filter.

Protocol
  stdin  : ``<hex nonce> <length>\\n<config JSON>`` from the runner. The header is read byte by byte into a bytearray,
           then fd 0 is replaced by /dev/null.
  stdout : JSON lines ``<json>\\t<hex HMAC-SHA256(nonce, json)>``, written only by the parent.
Parent (uid 0 with only CAP_SETUID, CAP_SETGID, CAP_KILL): imports Airflow with the repository off sys.path and
  DAGS_FOLDER pointed at an empty folder (Airflow 2.x would otherwise put the repo on sys.path and import its
  airflow_local_settings), warms up, then forks one child per file (`parallel` at a time) and decides each file
  from its own observations: its timers and output cap, the child's wait status (SIGSYS = the seccomp filter ended
  it), the sweep after the child, and the child's one result record on a pipe only that child holds.
Child (file i): own process group; uid/gid CHILD_UID_BASE+i (no capabilities, cannot ptrace, read /proc/<pid>/mem,
  environ or fd of, or signal, the parent or another file's child); fresh private tmpdir; bytecode from source only;
  the repo appended to sys.path; seccomp filter (dagguard_seccomp); audit hook (explains what and where); then
  airflow_local_settings and the DAG file are imported. Afterwards the parent kills the process group and sweeps
  the uid (processes, files in /tmp and /dev/shm).
"""

import dagguard_seccomp  # noqa: E402 - from the harness dir, before the parent scrubs sys.path
import hashlib
import ipaddress
import hmac
import json
import os
import select
import signal
import sys
import time

HARNESS_FILE = os.path.abspath(__file__)
PROTOCOL = 1

# --------------------------------------------------------------------------------------------- parent output channel

_OUT_FD = None  # dup of the container stdout; only the parent writes it
_NONCE = bytearray()
_SECCOMP = None  # the child filter, built once in the parent
_CANARY = ()  # canary tokens (lowercase bytes, plain and hex)


def _sign(key, payload):
    return hmac.new(bytes(key), payload, hashlib.sha256).hexdigest()


def emit(obj):
    data = json.dumps(obj, separators=(",", ":"), default=str).encode()
    line = data + b"\t" + _sign(_NONCE, data).encode() + b"\n"
    view = memoryview(line)
    while view:
        n = os.write(_OUT_FD, view)
        view = view[n:]


def read_config_line():
    """Read '<hex nonce> <config length>\n<config JSON>' from fd 0; the nonce never becomes an immutable object."""
    head = bytearray()
    while True:
        b = os.read(0, 1)
        if not b or b == b"\n":
            break
        head += b
        if len(head) > 200:
            raise SystemExit("dag-guard harness: bad config header")
    sp = head.index(b" ")
    nonce = bytearray(bytes.fromhex(head[:sp].decode()))
    size = int(head[sp + 1 :])
    for i in range(len(head)):
        head[i] = 0
    if size > 256 * 1024 * 1024:
        raise SystemExit("dag-guard harness: config too large")
    body = bytearray()
    while len(body) < size:
        chunk = os.read(0, min(1 << 20, size - len(body)))
        if not chunk:
            raise SystemExit("dag-guard harness: truncated config")
        body += chunk
    return nonce, json.loads(bytes(body))


# --------------------------------------------------------------------------------------------- airflow loading


def load_airflow():
    """Import Airflow once in the parent. Returns (kind, version, DagBag class or None)."""
    try:
        import airflow  # noqa: F401
    except Exception as e:  # no Airflow in the image: plain import + discovery
        return "plain", None, None, "%s: %s" % (type(e).__name__, e), None
    DagBag = None
    err = None
    try:
        from airflow.dag_processing.dagbag import DagBag  # 3.2+
    except Exception:
        try:
            from airflow.models.dagbag import DagBag  # 2.x, 3.0, 3.1
        except Exception as e:
            err = "%s: %s" % (type(e).__name__, e)
    # Warm up what DAG files commonly import, so the children (forked) do not pay for it.
    for mod in (
        "airflow.sdk",
        "airflow.models.dag",
        "airflow.decorators",
        "airflow.providers.standard.operators.python",
        "airflow.providers.standard.operators.bash",
        "airflow.providers.standard.operators.empty",
        "airflow.operators.python",
        "airflow.operators.bash",
        "airflow.operators.empty",
        "airflow.models.variable",
        "airflow.hooks.base",
        "pendulum",
    ):
        try:
            __import__(mod)
        except Exception:
            pass
    ver = getattr(sys.modules.get("airflow"), "__version__", None)
    if DagBag is None:
        return "plain", ver, None, err, None
    warm_up(DagBag)
    bag = None
    try:  # one empty bag, built once; each forked child only calls process_file() on its copy
        bag = DagBag(dag_folder=os.devnull, include_examples=False, safe_mode=False, collect_dags=False)
    except Exception:
        bag = None
    return "dagbag", ver, DagBag, None, bag


WARMUP_DAG = """
from datetime import datetime, timedelta
from airflow import DAG
try:
    from airflow.sdk import dag, task
except ImportError:
    from airflow.decorators import dag, task
try:
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:
    from airflow.operators.bash import BashOperator
    from airflow.operators.empty import EmptyOperator
    from airflow.operators.python import PythonOperator

with DAG(dag_id="dagguard_warmup_classic", start_date=datetime(2024, 1, 1), schedule="0 1 * * *", catchup=False,
         default_args={"retries": 1, "retry_delay": timedelta(minutes=1)}, tags=["x"]) as d:
    EmptyOperator(task_id="a") >> BashOperator(task_id="b", bash_command="echo {{ ds }}") >> [
        PythonOperator(task_id="c", python_callable=print)]

@dag(dag_id="dagguard_warmup_taskflow", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False)
def p():
    @task
    def e():
        return 1

    @task
    def l(x):
        return x

    l(e())

p()
"""


def warm_up(DagBag):
    """Parse a harness-owned DAG once in the parent, so the lazy imports/initialisation Airflow does on the first DAG
    (timetables, serializers, decorators, ...) are inherited by every forked child instead of redone per file."""
    path = os.path.join(os.environ.get("AIRFLOW_HOME", "/tmp/airflow"), "dagguard_warmup_dag.py")
    try:
        with open(path, "w") as f:
            f.write(WARMUP_DAG)
        wb = DagBag(dag_folder=os.devnull, include_examples=False, safe_mode=False, collect_dags=False)
        wb.process_file(path, only_if_updated=False, safe_mode=False)
    except Exception:
        pass
    finally:
        for name in [m for m in sys.modules if m.startswith("unusual_prefix_") and m.endswith("dagguard_warmup_dag")]:
            sys.modules.pop(name, None)
        try:
            os.remove(path)
        except OSError:
            pass


def install_canaries(canary):
    """Secret sources answer with recognisable canary values (no DB, no real secret in the sandbox)."""
    var_value = canary["variable"]
    conn = canary["connection"]

    def fake_variable_get(*args, **kwargs):
        key = args[1] if len(args) > 1 and not isinstance(args[0], str) else (args[0] if args else kwargs.get("key"))
        if kwargs.get("deserialize_json") or (len(args) > 3 and args[3]):
            return {"dag_guard_canary": var_value, "key": str(key)}
        return var_value

    def make_conn(conn_id):
        for modname, clsname in (
            ("airflow.sdk.definitions.connection", "Connection"),
            ("airflow.sdk", "Connection"),
            ("airflow.models.connection", "Connection"),
        ):
            try:
                mod = __import__(modname, fromlist=[clsname])
                cls = getattr(mod, clsname)
                return cls(
                    conn_id=str(conn_id),
                    conn_type="generic",
                    host=conn["host"],
                    login=conn["login"],
                    password=conn["password"],
                    schema="canary",
                    port=5432,
                )
            except Exception:
                continue
        return None

    def fake_get_connection(*args, **kwargs):
        conn_id = args[-1] if args else kwargs.get("conn_id")
        return make_conn(conn_id)

    targets = [
        ("airflow.models.variable", "Variable", "get", fake_variable_get),
        ("airflow.sdk", "Variable", "get", fake_variable_get),
        ("airflow.sdk.definitions.variable", "Variable", "get", fake_variable_get),
        ("airflow.hooks.base", "BaseHook", "get_connection", fake_get_connection),
        ("airflow.sdk", "BaseHook", "get_connection", fake_get_connection),
        ("airflow.sdk.bases.hook", "BaseHook", "get_connection", fake_get_connection),
        ("airflow.models.connection", "Connection", "get_connection_from_secrets", fake_get_connection),
        ("airflow.sdk.definitions.connection", "Connection", "get", fake_get_connection),
    ]
    for modname, clsname, attr, fn in targets:
        mod = sys.modules.get(modname)
        if mod is None:
            try:
                mod = __import__(modname, fromlist=[clsname])
            except Exception:
                continue
        cls = getattr(mod, clsname, None)
        if cls is not None:
            try:
                setattr(cls, attr, classmethod(fn))
            except Exception:
                pass
    for k, v in canary.get("env", {}).items():
        os.environ[k] = v


# --------------------------------------------------------------------------------------------- the audit hook

NET_EVENTS = {
    "socket.connect": "connect",
    "socket.sendto": "connect",
    "socket.sendmsg": "connect",
    "socket.bind": "connect",
    "http.client.connect": "connect",
    "urllib.Request": "connect",
    "ftplib.connect": "connect",
    "smtplib.connect": "connect",
    "poplib.connect": "connect",
    "imaplib.open": "connect",
    "nntplib.connect": "connect",
    "telnetlib.Telnet.open": "connect",
    "webbrowser.open": "connect",
}
DNS_EVENTS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo", "socket.gethostbyname_ex"}
SPAWN_EVENTS = {
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "pty.spawn",
    "_posixsubprocess.fork_exec",
    "os.startfile",
}
KILL_EVENTS = {"os.kill", "os.killpg", "signal.pthread_kill"}
WRITE_PATH_EVENTS = {
    "os.remove": ("delete", 0),
    "os.rmdir": ("delete", 0),
    "shutil.rmtree": ("delete", 0),
    "os.rename": ("write", (0, 1)),
    "os.mkdir": ("write", 0),
    "os.chmod": ("write", 0),
    "os.chown": ("write", 0),
    "os.symlink": ("write", 1),
    "os.link": ("write", 1),
    "os.truncate": ("write", 0),
    "os.utime": ("write", 0),
    "shutil.copyfile": ("write", 1),
    "shutil.move": ("write", (0, 1)),
    "shutil.copytree": ("write", 1),
    "shutil.chown": ("write", 0),
    "os.mknod": ("write", 0),
}
CTYPES_EVENTS = {"ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.call_function", "ctypes.cdata", "ctypes.string_at", "ctypes.wstring_at", "ctypes.addressof", "ctypes.set_errno"}
DENY_TAMPER = {"sys.addaudithook", "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames", "sys.setprofile", "sys.settrace", "cpython._PySys_ClearAuditHooks", "sys.remote_exec"}
CODE_EVENTS = {"compile", "exec", "marshal.loads", "marshal.load", "code.__new__", "function.__new__"}

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
ALLOWED_WRITE_PREFIXES = ("/tmp/",)
ALLOWED_WRITE_EXACT = {"/dev/null", "/tmp"}


class HarnessDenied(RuntimeError):
    pass


def make_hook(send, repo_prefix, protected_fds, stdlib_dirs):
    """Build the audit hook as a closure (no module-level state for DAG code to reach).

    The hook never calls code the DAG controls (no repr() of arbitrary objects, no __fspath__, no __str__): an
    argument's method run from inside the hook was how code used to act while the hook ignored nested events. Nested
    events are still handled (depth-limited); only the harness's own frame walks (sys._getframe, frame attributes)
    are skipped while the hook runs. The verdict does not depend on the hook: it only explains what and where.
    """
    depth = [0]
    t0 = time.monotonic()
    getframe = sys._getframe
    harness = HARNESS_FILE
    ctypes_dirs = tuple(d + "ctypes/" for d in stdlib_dirs)

    def dag_frame(skip=()):
        """(nearest frame in the DAG repo as (file, line) for the report, whether the DAG code itself made the call).

        "Itself" = the first frame above the hook that is not in one of the `skip` library prefixes (e.g. the ctypes
        package) belongs to the repo; frames of the importing machinery or of Airflow do not count.
        """
        f = getframe(2)
        direct = None
        nearest = None
        while f is not None:
            fn = f.f_code.co_filename
            if direct is None and not (skip and fn.startswith(skip)):
                direct = fn
            if fn.startswith(repo_prefix):
                nearest = (fn, f.f_lineno)
                break
            f = f.f_back
        return nearest, (direct is not None and direct.startswith(repo_prefix))

    plain = (str, bytes, int, float, bool, type(None))

    def text(args, _depth=0):
        """repr() of builtin values only; anything else by its type name (its __repr__ is DAG code)."""
        t = type(args)
        if t in plain:
            s = repr(args)
        elif t in (tuple, list) and _depth < 3:
            s = "(" + ", ".join(text(a, _depth + 1) for a in args[:12]) + ")"
        elif t is dict and _depth < 3:
            s = "{" + ", ".join("%s: %s" % (text(k, 3), text(v, _depth + 1)) for k, v in list(args.items())[:12]) + "}"
        else:
            s = "<%s>" % type.__getattribute__(t, "__name__")
        return s[:400]

    def record(kind, detail, nearest, deny=False):
        ev = {"kind": kind, "detail": detail[:400], "t": int((time.monotonic() - t0) * 1000)}
        if nearest:
            ev["file"] = nearest[0]
            ev["line"] = nearest[1]
        send({"t": "event", "event": ev})
        if deny:
            raise HarnessDenied("dag-guard sandbox: %s denied" % kind)

    def norm_path(p):
        """Absolute path for str/bytes; "?" for anything else (a PathLike's __fspath__ is DAG code: never called)."""
        if type(p) is bytes:
            p = p.decode("utf-8", "replace")
        if type(p) is not str:
            return None if p is None or type(p) is int else "?"
        return os.path.normpath(os.path.join(os.getcwd() if not p.startswith("/") else "/", p))

    def outside_tmp(p):
        return p not in ALLOWED_WRITE_EXACT and not p.startswith(ALLOWED_WRITE_PREFIXES)

    def hook(event, args):
        if depth[0]:
            if event in ("sys._getframe", "object.__getattr__"):
                return  # the hook's own frame walk
            if depth[0] > 3:
                send({"t": "event", "event": {"kind": "tamper", "detail": "audit events nested inside the hook: %s" % event[:80]}})
                raise HarnessDenied("dag-guard sandbox: nested audit events denied")
        depth[0] += 1
        try:
            if event == "open":
                path, mode, flags = (list(args) + [None, None, None])[:3]
                writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and flags & WRITE_FLAGS
                )
                if isinstance(path, int):
                    if path in protected_fds:
                        record("tamper", "open() of the harness channel fd %d" % path, dag_frame()[0], deny=True)
                    return
                p = norm_path(path)
                if p is None:
                    return
                if p == "?":
                    if writing:
                        record("write", "open of a path given as an object (%s)" % text(path), dag_frame()[0])
                    return
                if p.startswith("/proc/") and (p.endswith("/mem") or "/fd/" in p or p.endswith("/environ") and writing):
                    if p.endswith("/mem") or any(p.endswith("/fd/%d" % fd) for fd in protected_fds):
                        record("tamper", "open %s (%s)" % (p, mode or flags), dag_frame()[0], deny=True)
                        return
                if writing and outside_tmp(p):
                    record("write", "open %s mode=%s" % (p, mode if mode is not None else flags), dag_frame()[0])
                return
            if event in NET_EVENTS:
                record("connect", "%s %s" % (event, text(args[1:] if event.startswith("socket.") else args)), dag_frame()[0])
                return
            if event == "socket.__new__":
                fam = args[1] if len(args) > 1 else None
                if fam not in (1, getattr(__import__("socket"), "AF_UNIX", 1)):
                    record("connect", "socket(family=%s, type=%s)" % (fam, args[2] if len(args) > 2 else None), dag_frame()[0])
                return
            if event in DNS_EVENTS:
                host = args[0] if args else None
                if isinstance(host, bytes):
                    host = host.decode("latin-1")
                kind = "dns"
                if isinstance(host, str):
                    try:
                        ipaddress.ip_address(host)
                        kind = "connect"  # a literal address: no lookup, but a network attempt
                    except ValueError:
                        pass
                record(kind, "%s %s" % (event, text(args)), dag_frame()[0])
                return
            if event in SPAWN_EVENTS:
                record("spawn", "%s %s" % (event, text(args)), dag_frame()[0])
                return
            if event in KILL_EVENTS:
                target = args[0] if args else None
                if event != "signal.pthread_kill" and target in (os.getppid(), 1, -1):
                    # the harness parent / init / everything: refused, the other files must still be parsed
                    record("tamper", "%s %s (signal to the harness)" % (event, text(args)), dag_frame()[0], deny=True)
                record("spawn", "%s %s" % (event, text(args)), dag_frame()[0])
                return
            if event in WRITE_PATH_EVENTS:
                kind, idx = WRITE_PATH_EVENTS[event]
                for i in idx if isinstance(idx, tuple) else (idx,):
                    p = norm_path(args[i]) if len(args) > i else None
                    if p is not None and (p == "?" or outside_tmp(p)):
                        record(kind, "%s %s" % (event, text(args)), dag_frame()[0])
                        break
                return
            if event in CODE_EVENTS:
                if not getframe(1).f_code.co_filename.startswith(repo_prefix):
                    return  # importlib, dataclasses, attrs, ...: not the DAG's own dynamic code
                nearest, direct = dag_frame()
                if direct:
                    if event == "exec" and args and hasattr(args[0], "co_filename") and args[0].co_filename.startswith(repo_prefix):
                        return  # importing a module from the repo
                    record("exec", "%s %s" % (event, text(args)), nearest)
                return
            if event in CTYPES_EVENTS or event.startswith("ctypes."):
                nearest, direct = dag_frame(ctypes_dirs)
                if direct:
                    record("ctypes", "%s %s" % (event, text(args)), nearest)
                return
            if event in DENY_TAMPER:
                record("tamper", "%s %s" % (event, text(args)), dag_frame()[0], deny=True)
                return
            if event == "sys._getframe":
                fr = args[0] if args else None
                if fr is not None and getattr(getattr(fr, "f_code", None), "co_filename", None) == harness and dag_frame()[1]:
                    record("tamper", "sys._getframe reached a harness frame", dag_frame()[0], deny=True)
                return
            if event in ("object.__setattr__", "object.__delattr__"):
                obj = args[0] if args else None
                name = args[1] if len(args) > 1 else ""
                t = type(obj)
                if t is type(sys):
                    mod = obj.__dict__.get("__name__")
                elif t is type or t is type(make_hook):
                    mod = type.__getattribute__(t, "__getattribute__")(obj, "__module__")
                else:
                    mod = None
                code = obj.__code__ if t is type(make_hook) else None
                if mod in ("__main__", "dagguard_harness") or name == "__code__" and getattr(code, "co_filename", "") == harness:
                    record("tamper", "%s %r.%s" % (event, type(obj).__name__, name), dag_frame()[0], deny=True)
                return
            if event == "object.__getattr__":
                obj = args[0] if args else None
                code = getattr(obj, "f_code", None) if args and args[1] in ("f_locals", "f_globals", "f_back", "f_code") else None
                if code is not None and code.co_filename == harness and dag_frame()[1]:
                    record("tamper", "frame attribute %s of a harness frame" % args[1], dag_frame()[0], deny=True)
                return
        except HarnessDenied:
            raise
        except Exception:
            pass
        finally:
            depth[0] -= 1

    return hook


# --------------------------------------------------------------------------------------------- child

CHILD_UID_BASE = 200000  # file i runs as uid/gid CHILD_UID_BASE + i: no two files, and never the parent, share one
EVENT_KINDS = ("connect", "dns", "spawn", "write", "delete", "exec", "ctypes", "tamper", "exfiltration")
META_FIELD_CAP = 2000


def close_fds_except(keep):
    try:
        fds = [int(x) for x in os.listdir("/proc/self/fd")]
    except Exception:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def source_only_imports(repo_prefix):
    """Repository code is imported from source only: its __pycache__ (and any bytecode beside it) is never read, for
    the DAG files DagBag loads directly and for every module they import; sourceless .pyc files are not importable;
    zip members are imported from their .py. Installed Airflow and libraries keep their bytecode caches (compiling
    them per file would cost a second per file)."""
    import importlib.machinery as m
    import zipimport

    sys.dont_write_bytecode = True
    loader = m.SourceFileLoader
    orig_get_code = loader.get_code

    def get_code(self, fullname, _orig=orig_get_code, _prefix=repo_prefix):
        path = self.get_filename(fullname)
        if isinstance(path, str) and os.path.abspath(path).startswith(_prefix):
            return self.source_to_code(self.get_data(path), path)
        return _orig(self, fullname)

    loader.get_code = get_code
    hooks = []
    for h in sys.path_hooks:
        if getattr(h, "__name__", "") == "path_hook_for_FileFinder":
            h = m.FileFinder.path_hook((m.ExtensionFileLoader, m.EXTENSION_SUFFIXES), (loader, m.SOURCE_SUFFIXES))
        hooks.append(h)
    sys.path_hooks[:] = hooks
    sys.path_importer_cache.clear()
    order = getattr(zipimport, "_zip_searchorder", None)
    if order is not None:
        zipimport._zip_searchorder = tuple(e for e in order if not e[0].endswith(".pyc"))


def discover_plain(path, mod_name):
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader(mod_name, path)
    spec = importlib.util.spec_from_loader(mod_name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    loader.exec_module(module)
    return dag_objects(vars(module).values())


def dag_objects(values):
    out = []
    for v in list(values):
        if type(v).__name__ == "DAG" or (isinstance(getattr(v, "dag_id", None), str) and hasattr(v, "tasks")):
            if all(o is not v for o in out):
                out.append(v)
    return out


def plain_import(path):
    """No Airflow in the image: import the file (or a zip's top-level .py members, as DagBag does) and find DAGs."""
    import importlib

    stem = os.path.splitext(os.path.basename(path))[0].replace(".", "_").replace("-", "_")
    if path.endswith(".zip"):
        import zipfile

        sys.path.insert(0, path)
        found = []
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith(".py") and "/" not in n]
        for n in names:
            found += dag_objects(vars(importlib.import_module(n[:-3])).values())
        return found
    return discover_plain(path, "unusual_prefix_%s_%s" % (hashlib.sha1(path.encode()).hexdigest(), stem))


def dag_meta(dag):
    """What a child returns about one DAG: everything the parent searches for canary values."""

    def s(v):
        try:
            return str(v)[:META_FIELD_CAP]
        except Exception:
            return "<unprintable>"

    meta = {"id": s(getattr(dag, "dag_id", ""))}
    for attr in ("description", "doc_md"):
        v = getattr(dag, attr, None)
        if v is not None:
            meta[attr] = s(v)
    try:
        meta["tags"] = [s(t) for t in list(getattr(dag, "tags", None) or [])[:50]]
    except Exception:
        pass
    try:
        params = getattr(dag, "params", None)
        if params is not None:
            items = params.dump() if hasattr(params, "dump") else dict(params)
            meta["params"] = s(items)
    except Exception:
        pass
    try:
        meta["tasks"] = [s(t) for t in list(getattr(dag, "task_ids", []))[:200]]
    except Exception:
        pass
    return meta


PAGE = os.sysconf("SC_PAGE_SIZE")


def anon_bytes(pid="self"):
    """Resident, not file-backed memory of a process (statm: resident - shared), in bytes; None if unreadable."""
    try:
        with open("/proc/%s/statm" % pid) as f:
            parts = f.read().split()
        return (int(parts[1]) - int(parts[2])) * PAGE
    except (OSError, ValueError, IndexError):
        return None


def limit_address_space(budget):
    """Backstop for the parent's memory watch: the kernel refuses address space beyond what the child has now plus
    three times its budget, so one file can never drive the whole container into the OOM killer (under gVisor that would
    end the sandbox, and with it every later file's verdict)."""
    if not budget:
        return
    import resource

    try:
        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * PAGE
        resource.setrlimit(resource.RLIMIT_AS, (size + 3 * budget, size + 3 * budget))
    except (OSError, ValueError):
        pass


def drop_identity(uid):
    """Become uid/gid `uid` with no supplementary groups: every capability is gone, and the parent (uid 0) and every
    other file's child (another uid) are out of reach of ptrace, /proc/<pid>/{mem,environ,fd}, kill and pidfds."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    try:
        os.setresuid(0, 0, 0)
    except PermissionError:
        return
    os._exit(97)  # could regain root: never run a DAG like that


def child_main(idx, path, key, ev_w, out_w, cfg, loader):
    """Runs in the forked child. Never returns."""
    status = 3
    try:
        os.setpgid(0, 0)
        try:
            with open("/proc/self/oom_score_adj", "w") as f:  # the OOM killer takes the bomb, not the parent
                f.write("1000")
        except OSError:
            pass
        sys.stdout.flush()
        sys.stderr.flush()
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        close_fds_except({0, 1, 2, ev_w})
        # forget the run nonce: this process only ever holds its own per-file key
        for i in range(len(_NONCE)):
            _NONCE[i] = 0
        keyb = bytes(key)
        for i in range(len(key)):
            key[i] = 0

        def send(obj, _fd=ev_w, _k=keyb, _w=os.write, _d=json.dumps, _h=hmac.new, _s=hashlib.sha256):
            data = _d(obj, separators=(",", ":"), default=str).encode()
            if len(data) > 3800 and obj.get("t") != "result":
                data = _d({"t": "event", "event": {"kind": str(obj.get("event", {}).get("kind", "note"))[:40], "detail": "(truncated)"}}).encode()
            line = data + b"\t" + _h(_k, data, _s).hexdigest().encode() + b"\n"
            view = memoryview(line)
            while view:
                view = view[_w(_fd, view):]

        del keyb
        uid = CHILD_UID_BASE + idx
        drop_identity(uid)
        import tempfile

        tmpdir = tempfile.mkdtemp(prefix="dg-%d-" % idx, dir="/tmp")
        os.chmod(tmpdir, 0o755)  # lets the parent see that it is empty and remove it without a sweep (a DAG may undo it)
        for k in ("TMPDIR", "HOME"):
            os.environ[k] = tmpdir
        tempfile.tempdir = tmpdir
        os.chdir(tmpdir)
        repo = cfg["repoMount"].rstrip("/")
        source_only_imports(repo + "/")
        # the repository goes on sys.path only here, appended as Airflow does for DAGS_FOLDER
        if repo not in sys.path:
            sys.path.append(repo)
        os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = repo
        if loader[0] == "dagbag":
            try:
                from airflow.configuration import conf

                conf.set("core", "dags_folder", repo)
                import airflow.settings as settings

                settings.DAGS_FOLDER = repo
            except Exception:
                pass
        # Airflow's DagBag installs a Python-level SIGSEGV handler per file; after a real segfault in C code that
        # handler returns into the faulting instruction and the import spins until the timeout. Keep the kernel's
        # default action for it, so a crash is reported as a crash (DG962) right away.
        _orig_signal = signal.signal

        def _signal(sig, handler, _orig=_orig_signal):
            if sig == signal.SIGSEGV and sys._getframe(1).f_code.co_filename.endswith("dagbag.py"):
                return signal.SIG_DFL
            return _orig(sig, handler)

        signal.signal = _signal
        _orig_signal(signal.SIGSEGV, signal.SIG_DFL)  # the parent's warm-up parse installed Airflow's handler
        limit_address_space(cfg.get("childBudget"))
        dagguard_seccomp.install(_SECCOMP)  # from here on the kernel ends this process for the decisive behaviours
        stdlib_dirs = tuple(sorted({os.path.dirname(os.__file__) + "/"}))
        hook = make_hook(send, repo + "/", {ev_w}, stdlib_dirs)
        sys.addaudithook(hook)
        del hook

        started = time.monotonic()
        result = {"t": "result", "dags": [], "importError": None}
        if loader[0] == "dagbag":
            try:  # airflow_local_settings from the repository runs here, in the child, as in production
                import airflow.settings as settings

                settings.import_local_settings()
            except Exception:
                pass
            bag = loader[4]
            if bag is None:
                bag = loader[2](dag_folder=path, include_examples=False, safe_mode=False)
            else:
                bag.process_file(path, only_if_updated=False, safe_mode=False)
            errs = dict(getattr(bag, "import_errors", {}) or {})
            dags = list(getattr(bag, "dags", {}).values())
            if errs:
                result["importError"] = "\n".join(str(v) for v in errs.values())
        else:
            dags = []
            try:
                dags = plain_import(path)
            except BaseException as e:  # noqa: B902 - sys.exit() in DAG code is an import error too
                import traceback

                result["importError"] = "".join(traceback.format_exception(type(e), e, e.__traceback__, limit=-3))
        metas = [dag_meta(d) for d in dags]
        result["dags"] = sorted({m["id"] for m in metas})
        result["meta"] = metas
        result["durationMs"] = int((time.monotonic() - started) * 1000)
        send(result)
        status = 0
    except BaseException as e:  # noqa: B902
        try:
            sys.__stderr__.write("harness child error: %r\n" % (e,))
        except Exception:
            pass
    finally:
        try:
            sys.stdout.flush()
        except Exception:
            pass
        os._exit(status)


# --------------------------------------------------------------------------------------------- parent

MAX_EVENTS_PER_KIND = 40  # forwarded per kind and file; the rest is only counted
MAX_LINE = 1 << 20  # one message from a child (a result with many DAGs); longer = not our protocol


class Child:
    __slots__ = ("idx", "path", "pid", "ev_r", "out_r", "key", "buf", "out_bytes", "deadline", "started", "result",
                 "garbled", "killed_by_us", "events", "kinds", "dropped", "exit", "last_kinds", "canary", "tail",
                 "survivors", "out_tail")

    def __init__(self, idx, path):
        self.idx = idx
        self.path = path
        self.buf = b""
        self.out_bytes = 0
        self.result = None
        self.garbled = 0
        self.killed_by_us = None
        self.events = 0
        self.kinds = {}
        self.dropped = 0
        self.exit = None
        self.last_kinds = []
        self.canary = None
        self.tail = b""
        self.survivors = 0
        self.out_tail = b""


def derive_key(idx):
    return bytearray(hmac.new(bytes(_NONCE), b"file:%d" % idx, hashlib.sha256).digest())


def spawn(idx, path, cfg, loader):
    c = Child(idx, path)
    ev_r, ev_w = os.pipe()
    out_r, out_w = os.pipe()
    key = derive_key(idx)
    for attempt in range(50):
        try:
            pid = os.fork()
            break
        except BlockingIOError:  # pids limit still exhausted
            time.sleep(0.1)
    else:
        for fd in (ev_r, ev_w, out_r, out_w):
            os.close(fd)
        c.pid = None
        return c
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(ev_r)
        os.close(out_r)
        child_main(idx, path, key, ev_w, out_w, cfg, loader)
    os.close(ev_w)
    os.close(out_w)
    c.pid = pid
    c.key = bytes(key)
    c.ev_r = ev_r
    c.out_r = out_r
    c.started = time.monotonic()
    c.deadline = c.started + cfg["timeoutSec"]
    os.set_blocking(ev_r, False)
    os.set_blocking(out_r, False)
    return c


def kill_group(c, reason):
    if c.killed_by_us is None:
        c.killed_by_us = reason
    for sig_target in (lambda: os.killpg(c.pid, signal.SIGKILL), lambda: os.kill(c.pid, signal.SIGKILL)):
        try:
            sig_target()
        except OSError:
            pass


def quick_clean(c):
    """The usual case without a fork: no process of the file's uid is alive, and the only thing it owns in /tmp and
    /dev/shm is its own tmpdir, still empty and listable: the parent (owner of the sticky /tmp) removes it. Anything
    else (or anything it cannot see) needs the sweep. Returns True when done."""
    uid = CHILD_UID_BASE + c.idx
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/status" % d) as f:
                    for ln in f:
                        if ln.startswith("Uid:"):
                            if int(ln.split()[1]) == uid:
                                return False
                            break
            except (OSError, ValueError):
                pass
    own = None
    for top in ("/tmp", "/dev/shm"):
        try:
            entries = list(os.scandir(top))
        except OSError:
            return False
        for e in entries:
            try:
                if e.stat(follow_symlinks=False).st_uid != uid:
                    continue
            except OSError:
                return False
            if top == "/tmp" and own is None and e.name.startswith("dg-%d-" % c.idx) and e.is_dir(follow_symlinks=False):
                own = e.path
                continue
            return False
    if own is not None:
        try:
            if os.listdir(own):
                return False
            os.rmdir(own)
        except OSError:
            return False
    return True


def sweep(c):
    """After a file: end every process of its uid and delete every file it owns in /tmp and /dev/shm, so nothing
    reaches the next child. Runs in a short-lived fork that takes the file's uid (the parent itself holds no
    CAP_DAC_OVERRIDE/CAP_FOWNER). Returns 1 if a process of that uid was still alive (seen in /proc)."""
    uid = CHILD_UID_BASE + c.idx
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            signal.set_wakeup_fd(-1)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            me = os.getpid()
            for d in os.listdir("/proc"):
                if d.isdigit() and int(d) != me:
                    try:
                        with open("/proc/%s/status" % d) as f:
                            for ln in f:
                                if ln.startswith("Uid:"):
                                    if int(ln.split()[1]) == uid:
                                        code = 1
                                    break
                    except (OSError, ValueError):
                        pass
            if code:
                try:
                    os.kill(-1, signal.SIGKILL)  # every process this uid may signal: this file's only
                except OSError:
                    pass
            for top in ("/tmp", "/dev/shm"):
                for root, dirs, files in os.walk(top, topdown=False):
                    for n in files + dirs:
                        p = os.path.join(root, n)
                        try:
                            st = os.lstat(p)
                            if st.st_uid == uid:
                                (os.rmdir if n in dirs and not os.path.islink(p) else os.unlink)(p)
                        except OSError:
                            pass
        except BaseException:  # noqa: B902
            code = 2
        os._exit(code)
    while True:
        try:
            _, ws = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    return 1 if os.WIFEXITED(ws) and os.WEXITSTATUS(ws) == 1 else 0


def has_canary(data):
    low = data.lower()
    for t in _CANARY:
        if t in low:
            return t
    return None


def note(c, kind, detail):
    """A parent-made event (its own observation, not the child's word)."""
    ev = {"kind": kind, "detail": detail[:400]}
    c.events += 1
    emit({"type": "event", "file": c.idx, "event": ev})


def handle_line(c, line):
    sep = line.rfind(b"\t")
    if sep < 0:
        c.garbled += 1
        return
    data, mac = line[:sep], line[sep + 1 :]
    if not hmac.compare_digest(_sign(c.key, data).encode(), mac):
        c.garbled += 1
        return
    try:
        msg = json.loads(data)
    except ValueError:
        c.garbled += 1
        return
    if type(msg) is not dict:
        c.garbled += 1
        return
    t = msg.get("t")
    if t == "event":
        ev = msg.get("event")
        kind = ev.get("kind") if type(ev) is dict else None
        if kind not in EVENT_KINDS or not isinstance(ev.get("detail", ""), str):
            c.garbled += 1
            return
        n = c.kinds.get(kind, 0)
        c.kinds[kind] = n + 1
        if kind not in c.last_kinds:
            c.last_kinds.append(kind)
        hit = has_canary(data)
        if hit and c.kinds.get("exfiltration", 0) < MAX_EVENTS_PER_KIND:
            c.kinds["exfiltration"] = c.kinds.get("exfiltration", 0) + 1
            note(c, "exfiltration", "canary value in a %s event: %s" % (kind, str(ev.get("detail"))[:300]))
        if n < MAX_EVENTS_PER_KIND:
            c.events += 1
            out = {"kind": kind, "detail": str(ev.get("detail", ""))[:400]}
            for k, typ in (("t", int), ("line", int), ("file", str)):
                if type(ev.get(k)) is typ:
                    out[k] = ev[k] if typ is int else ev[k][:400]
            emit({"type": "event", "file": c.idx, "event": out})
        else:
            c.dropped += 1
    elif t == "result":
        if c.result is not None:
            c.garbled += 1
        dags = msg.get("dags")
        if type(dags) is not list or not all(type(d) is str for d in dags) or not isinstance(msg.get("importError"), (str, type(None))):
            c.garbled += 1
            return
        c.result = msg
        hit = has_canary(data)
        if hit:
            note(c, "exfiltration", "canary value in what the file defines (DAG id, tags, description, docs or params)")
    else:
        c.garbled += 1


def read_fd(c, fd, cfg):
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not chunk:
            return False
        if fd == c.out_r:
            c.out_bytes += len(chunk)
            c.out_tail = (c.out_tail + chunk)[-240:]
            if c.canary is None:
                window = c.tail + chunk.lower()
                c.canary = has_canary(window)
                c.tail = window[-64:]
            if c.out_bytes > cfg["outputCapBytes"]:
                kill_group(c, "output-cap")
        else:
            c.buf += chunk
            while b"\n" in c.buf:
                line, c.buf = c.buf.split(b"\n", 1)
                handle_line(c, line)
            if len(c.buf) > MAX_LINE:
                c.garbled += 1
                c.buf = b""


def finish(c, cfg):
    """Decide the file's verdict from what the parent observed itself: its own kills, the child's wait status, the
    sweep after it, and the child's own result record. Clean only if the child exited 0 by itself with a result."""
    dur = int((time.monotonic() - c.started) * 1000)
    ws = c.exit
    sig = os.WTERMSIG(ws) if ws is not None and os.WIFSIGNALED(ws) else None
    code = os.WEXITSTATUS(ws) if ws is not None and os.WIFEXITED(ws) else None
    res = c.result or {}
    if c.canary:
        note(c, "exfiltration", "canary value in the file's stdout/stderr")
    if c.survivors:
        note(c, "tamper", "a process of this file outlived it (killed by the sweep)")
    out = {"type": "done", "file": c.idx, "durationMs": dur, "dags": [], "outputBytes": c.out_bytes,
           "droppedEvents": c.dropped, "exit": code, "signal": sig, "garbled": c.garbled}
    if c.killed_by_us in ("timeout", "output-cap"):
        out["status"] = c.killed_by_us
    elif c.killed_by_us == "memory":
        out["status"] = "oom"
        out["reason"] = "more than %d MiB of memory for one file" % (cfg["childBudget"] >> 20)
    elif sig == signal.SIGSYS:
        out["status"] = "forbidden-syscall"
        seen = [k for k in c.last_kinds if k in ("connect", "dns", "spawn", "ctypes", "tamper", "exec")]
        out["reason"] = "the kernel ended the import for a forbidden system call (network socket, exec, fork, " \
                        "ptrace, process_vm, pidfd, namespace, bpf, keyctl, userfaultfd or io_uring)" + (
                            "; audit events before it: %s" % ", ".join(seen) if seen else "")
    elif sig == signal.SIGKILL:
        out["status"] = "oom"  # killed by the kernel (the OOM killer picks the child: oom_score_adj=1000)
    elif sig is not None:
        out["status"] = "crashed"
        out["reason"] = "killed by signal %d" % sig
    elif c.garbled:
        out["status"] = "tampered"
        out["reason"] = "%d unauthenticated or malformed message(s) on the file's channel" % c.garbled
    elif code == 97:
        out["status"] = "tampered"
        out["reason"] = "the sandbox could not drop the file's process to its own uid"
    elif code != 0 or c.result is None:
        out["status"] = "tampered"
        out["reason"] = "the import ended without a harness result (exit %s)%s" % (
            code, "; output ends: %r" % c.out_tail[-160:].decode("utf-8", "replace") if c.out_tail else "")
    else:
        out["dags"] = list(res.get("dags") or [])
        if res.get("importError"):
            out["status"] = "import-error"
            out["importError"] = str(res["importError"])[-4000:]
        else:
            out["status"] = "ok"
    emit(out)


def scrub_sys_path(repo):
    """The parent imports Airflow with the repository off sys.path ('' and the harness dir too)."""
    here = os.path.dirname(HARNESS_FILE)
    sys.path[:] = [p for p in sys.path if p and p != here and not (os.path.abspath(p) + "/").startswith(repo + "/")]


def main():
    global _OUT_FD, _NONCE, _SECCOMP, _CANARY
    # keep a private copy of stdout for signed lines; everything else printed by anyone goes to stderr
    _OUT_FD = os.dup(1)
    os.dup2(2, 1)
    _NONCE, cfg = read_config_line()
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    if os.getuid() != 0:
        raise SystemExit("dag-guard harness: must start as uid 0 with CAP_SETUID/CAP_SETGID/CAP_KILL only (it gives "
                         "every file its own uid); got uid %d" % os.getuid())
    os.umask(0o022)
    repo = cfg["repoMount"].rstrip("/")
    _CANARY = tuple(t.lower().encode() for t in cfg["canary"]["tokens"]) + tuple(
        t.lower().encode().hex().encode() for t in cfg["canary"]["tokens"])
    _SECCOMP = dagguard_seccomp.prepare()
    scrub_sys_path(repo)
    os.chdir("/tmp")
    home = os.environ.get("AIRFLOW_HOME", "/tmp/airflow")
    empty = os.path.join(home, "empty-dags")
    os.makedirs(empty, mode=0o755, exist_ok=True)
    os.makedirs(os.path.join(home, "config"), mode=0o755, exist_ok=True)
    os.makedirs(os.path.join(home, "plugins"), mode=0o755, exist_ok=True)
    # Airflow 2.x puts DAGS_FOLDER on sys.path and imports airflow_local_settings at `import airflow`: point it at
    # an empty parent-owned folder, so no repository code can run in this process.
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = empty
    os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = os.path.join(home, "plugins")
    t = time.monotonic()
    loader = load_airflow()
    scrub_sys_path(repo)
    leaked = [n for n, m in list(sys.modules.items()) if (getattr(m, "__file__", None) or "").startswith(repo + "/")]
    if leaked:
        raise SystemExit("dag-guard harness: repository modules were imported by the parent: %s" % leaked[:5])
    cfg["airflow"] = loader[0] == "dagbag"
    if loader[1] is not None:
        install_canaries(cfg["canary"])
    else:
        for k, v in cfg["canary"].get("env", {}).items():
            os.environ[k] = v
    emit({"type": "hello", "protocol": PROTOCOL, "python": sys.version.split()[0], "airflow": loader[1],
          "mode": loader[0], "loaderError": loader[3], "setupMs": int((time.monotonic() - t) * 1000),
          "uid": os.getuid(), "files": len(cfg["files"]), "seccomp": _SECCOMP is not None})

    import gc

    gc.collect()
    gc.freeze()  # keep the parent's objects out of the children's GC passes (less copy-on-write, faster forks)
    files = cfg["files"]
    parallel = max(1, int(cfg.get("parallel", 1)))
    # Memory per child, watched by the parent (statm every 20 ms) and backed by RLIMIT_AS in the child: 60 % of what
    # the container has left after the parent, shared by the children that run at the same time. The rest is
    # headroom for a bomb's last allocation between two polls and, under gVisor, for the Sentry itself, which lives
    # in the same memory cgroup: if the container hits its limit there, the host kills the Sentry and the whole run
    # ends ("container exit 2"), not just the offending file.
    base_anon = anon_bytes() or 0
    mem = int(cfg.get("memoryBytes") or (1 << 30))
    budget = max(128 << 20, int((mem - base_anon - (96 << 20)) * 0.6) // parallel)
    cfg["childBudget"] = budget
    pending = list(enumerate(files))
    running = {}
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    while pending or running:
        while pending and len(running) < parallel:
            idx, path = pending.pop(0)
            c = spawn(idx, path, cfg, loader)
            if c.pid is None:
                emit({"type": "done", "file": idx, "status": "pids", "durationMs": 0, "dags": [],
                      "reason": "could not fork the file's process (pids limit exhausted)"})
                continue
            emit({"type": "start", "file": idx})
            running[c.pid] = c
        fds = {wake_r: None}
        for c in running.values():
            if c.ev_r is not None:
                fds[c.ev_r] = c
            if c.out_r is not None:
                fds[c.out_r] = c
        now = time.monotonic()
        wait = min([c.deadline for c in running.values()] + [now + 0.5]) - now
        try:
            ready, _, _ = select.select(list(fds), [], [], max(0.0, min(wait, 0.02)))
        except InterruptedError:
            ready = []
        for fd in ready:
            c = fds[fd]
            if c is None:
                try:
                    os.read(wake_r, 4096)
                except OSError:
                    pass
                continue
            if not read_fd(c, fd, cfg):
                os.close(fd)
                if fd == c.ev_r:
                    c.ev_r = None
                else:
                    c.out_r = None
        now = time.monotonic()
        for c in list(running.values()):
            if c.exit is None and now > c.deadline:
                kill_group(c, "timeout")
            if c.exit is None and c.killed_by_us is None:
                used = anon_bytes(c.pid)
                if used is not None and used - base_anon > budget:
                    kill_group(c, "memory")
            if c.exit is None:
                try:
                    pid, ws = os.waitpid(c.pid, os.WNOHANG)
                except ChildProcessError:
                    pid, ws = c.pid, 0
                if pid:
                    c.exit = ws
                    try:
                        os.killpg(c.pid, signal.SIGKILL)
                    except OSError:
                        pass
                    c.deadline = now + 2.0  # grace to drain the pipes
            if c.exit is not None and ((c.ev_r is None and c.out_r is None) or now > c.deadline):
                for fd in (c.ev_r, c.out_r):
                    if fd is not None:
                        read_fd(c, fd, cfg)
                        os.close(fd)
                c.ev_r = c.out_r = None
                c.survivors = 0 if quick_clean(c) else sweep(c)
                finish(c, cfg)
                del running[c.pid]
    emit({"type": "end"})


if __name__ == "__main__":
    main()
