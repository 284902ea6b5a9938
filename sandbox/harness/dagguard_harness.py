"""dag-guard sandbox harness: runs INSIDE the locked-down container (entrypoint), never on the host.

Protocol
  stdin  : ``<hex nonce> <length>\\n<config JSON>`` from the runner. The header is read byte by byte into a bytearray,
           then fd 0 is replaced by /dev/null, so DAG code can never read it.
  stdout : JSON lines, each ``<json>\\t<hex HMAC-SHA256(nonce, json)>``. Only the parent writes them; the parent never
           runs DAG code. Anything unsigned or badly signed is treated by the runner as forged.
  children: one forked child per DAG file (several in parallel). A child gets a per-file key derived from the nonce,
           zeroes its copy of the nonce, points fds 1/2 at an output pipe (counted + capped by the parent, never sent
           to the host), installs the PEP 578 audit hook, and only then imports the DAG file. It reports events and the
           result as HMAC(key)-signed lines on a private pipe. A child that exits without a valid result, writes garbage
           on the pipe, is killed, or is reported by the hook as tampering is FLAGGED (fail closed).

The audit trail is evidence, not the boundary: the container (no network, read-only rootfs, seccomp, caps dropped,
limits) is the boundary. See SECURITY.md.
"""

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


def make_hook(send, repo_prefix, protected_fds, canary_tokens, stdlib_dirs):
    """Build the audit hook as a closure (no module-level state for DAG code to reach)."""
    busy = [False]
    state = {"spawns": 0}
    t0 = time.monotonic()
    getframe = sys._getframe
    harness = HARNESS_FILE
    tokens = tuple(canary_tokens)
    tokens_hex = tuple(t.encode().hex() for t in tokens)
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

    def text(args):
        try:
            s = repr(args)
        except Exception:
            s = "<unrepresentable>"
        return s[:400]

    def has_canary(s):
        low = s.lower()
        for t, h in zip(tokens, tokens_hex):
            if t in low or h in low:
                return True
        return False

    def record(kind, detail, nearest, deny=False):
        ev = {"kind": kind, "detail": detail[:400], "t": int((time.monotonic() - t0) * 1000)}
        if nearest:
            ev["file"] = nearest[0]
            ev["line"] = nearest[1]
        send({"t": "event", "event": ev})
        if kind in ("connect", "dns", "spawn", "write", "delete") and has_canary(detail):
            send({"t": "event", "event": dict(ev, kind="exfiltration", detail="canary value in %s: %s" % (kind, detail[:300]))})
        if deny:
            raise HarnessDenied("dag-guard sandbox: %s denied" % kind)

    def norm_path(p):
        if isinstance(p, bytes):
            p = p.decode("utf-8", "replace")
        if hasattr(p, "__fspath__"):
            p = os.fspath(p)
            if isinstance(p, bytes):
                p = p.decode("utf-8", "replace")
        if not isinstance(p, str):
            return None
        return os.path.normpath(os.path.join(os.getcwd() if not p.startswith("/") else "/", p))

    def outside_tmp(p):
        return p not in ALLOWED_WRITE_EXACT and not p.startswith(ALLOWED_WRITE_PREFIXES)

    def hook(event, args):
        if busy[0]:
            return
        busy[0] = True
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
                state["spawns"] += 1
                record("spawn", "%s %s" % (event, text(args)), dag_frame()[0])
                if state["spawns"] > 32:
                    send({"t": "fork-bomb"})
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
                    if p is not None and outside_tmp(p):
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
                mod = getattr(obj, "__module__", None) if not isinstance(obj, type(sys)) else getattr(obj, "__name__", None)
                if mod in ("__main__", "dagguard_harness") or name == "__code__" and getattr(getattr(obj, "__code__", None), "co_filename", "") == harness:
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
            busy[0] = False

    return hook


# --------------------------------------------------------------------------------------------- child


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


def discover_plain(path, mod_name):
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader(mod_name, path)
    spec = importlib.util.spec_from_loader(mod_name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    loader.exec_module(module)
    ids = []
    for v in list(vars(module).values()):
        t = type(v)
        if t.__name__ == "DAG" or (isinstance(getattr(v, "dag_id", None), str) and hasattr(v, "tasks")):
            if v.dag_id not in ids:
                ids.append(v.dag_id)
    return ids


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
            if len(data) > 3800:
                data = _d({"t": "event", "event": {"kind": obj.get("event", {}).get("kind", "note"), "detail": "(truncated)"}}).encode()
            line = data + b"\t" + _h(_k, data, _s).hexdigest().encode() + b"\n"
            _w(_fd, line)

        del keyb
        repo = cfg["repoMount"].rstrip("/") + "/"
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
        stdlib_dirs = tuple(sorted({os.path.dirname(os.__file__) + "/"}))
        hook = make_hook(send, repo, {ev_w}, cfg["canary"]["tokens"], stdlib_dirs)
        sys.addaudithook(hook)
        del hook

        started = time.monotonic()
        result = {"t": "result", "dags": [], "importError": None}
        if loader[0] == "dagbag":
            bag = loader[4]
            if bag is None:
                bag = loader[2](dag_folder=path, include_examples=False, safe_mode=False)
            else:
                bag.process_file(path, only_if_updated=False, safe_mode=False)
            errs = dict(getattr(bag, "import_errors", {}) or {})
            result["dags"] = sorted(getattr(bag, "dags", {}).keys())
            if errs:
                result["importError"] = "\n".join(str(v) for v in errs.values())
        else:
            mod_name = "unusual_prefix_%s_%s" % (
                hashlib.sha1(path.encode()).hexdigest(),
                os.path.splitext(os.path.basename(path))[0].replace(".", "_").replace("-", "_"),
            )
            try:
                result["dags"] = discover_plain(path, mod_name)
            except BaseException as e:  # noqa: B902 - sys.exit() in DAG code is an import error too
                import traceback

                result["importError"] = "".join(traceback.format_exception(type(e), e, e.__traceback__, limit=-3))
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


class Child:
    __slots__ = ("idx", "path", "pid", "ev_r", "out_r", "key", "buf", "out_bytes", "deadline", "started",
                 "result", "garbled", "killed_by_us", "reason", "events", "kinds", "dropped", "exit")

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
        except BlockingIOError:  # pids limit still exhausted by a previous file's leftovers
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
        except (ProcessLookupError, PermissionError, OSError):
            pass


MAX_EVENTS_PER_FILE = 200
MAX_SPAWNS_PER_FILE = 32
MAX_EVENTS_PER_KIND = 40


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
    t = msg.get("t")
    if t == "event":
        ev = msg.get("event") or {}
        kind = str(ev.get("kind"))
        n = c.kinds.get(kind, 0)
        c.kinds[kind] = n + 1
        if kind == "spawn" and n + 1 > MAX_SPAWNS_PER_FILE:
            kill_group(c, "pids")  # counted here, in the parent: a fork bomb's copies each count only their own
        if kind == "exfiltration" or kind == "tamper" or (n < MAX_EVENTS_PER_KIND and c.events < MAX_EVENTS_PER_FILE):
            c.events += 1
            emit({"type": "event", "file": c.idx, "event": ev})
        else:
            c.dropped += 1
    elif t == "result":
        if c.result is not None:
            c.garbled += 1
        c.result = msg
    elif t == "fork-bomb":
        kill_group(c, "pids")
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
            if c.out_bytes > cfg["outputCapBytes"]:
                kill_group(c, "output-cap")
        else:
            c.buf += chunk
            while b"\n" in c.buf:
                line, c.buf = c.buf.split(b"\n", 1)
                handle_line(c, line)
            if len(c.buf) > 16384:  # no newline in 16 KiB: not our protocol
                c.garbled += 1
                c.buf = b""


def finish(c, cfg):
    """Decide the file's status from kernel-level facts first, then from the authenticated result."""
    dur = int((time.monotonic() - c.started) * 1000)
    ws = c.exit
    sig = os.WTERMSIG(ws) if ws is not None and os.WIFSIGNALED(ws) else None
    code = os.WEXITSTATUS(ws) if ws is not None and os.WIFEXITED(ws) else None
    res = c.result or {}
    out = {"type": "done", "file": c.idx, "durationMs": dur, "dags": [], "outputBytes": c.out_bytes,
           "droppedEvents": c.dropped, "exit": code, "signal": sig, "garbled": c.garbled}
    if c.killed_by_us == "timeout":
        out["status"] = "timeout"
    elif c.killed_by_us == "output-cap":
        out["status"] = "output-cap"
    elif c.killed_by_us == "pids":
        out["status"] = "pids"
    elif sig == signal.SIGKILL:
        out["status"] = "oom"  # killed by the kernel (the OOM killer picks the child: oom_score_adj=1000)
    elif sig is not None:
        out["status"] = "crashed"
        out["reason"] = "killed by signal %d" % sig
    elif c.garbled:
        out["status"] = "tampered"
        out["reason"] = "%d unauthenticated message(s) on the harness channel" % c.garbled
    elif code != 0 or c.result is None:
        out["status"] = "tampered"
        out["reason"] = "the import ended without a harness result (exit %s)" % code
    else:
        out["dags"] = list(res.get("dags") or [])
        if res.get("importError"):
            out["status"] = "import-error"
            out["importError"] = str(res["importError"])[-4000:]
        else:
            out["status"] = "ok"
    emit(out)


def main():
    global _OUT_FD, _NONCE
    # keep a private copy of stdout for signed lines; everything else printed by anyone goes to stderr
    _OUT_FD = os.dup(1)
    os.dup2(2, 1)
    _NONCE, cfg = read_config_line()
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    if sys.path and sys.path[0] == os.path.dirname(HARNESS_FILE):
        sys.path.pop(0)
    repo = cfg["repoMount"]
    if repo not in sys.path:
        sys.path.insert(0, repo)  # DAG files import helpers from the repo, as from DAGS_FOLDER
    os.chdir("/tmp")
    os.makedirs(os.environ.get("AIRFLOW_HOME", "/tmp/airflow"), exist_ok=True)
    t = time.monotonic()
    loader = load_airflow()
    cfg["airflow"] = loader[0] == "dagbag"
    if loader[1] is not None:
        install_canaries(cfg["canary"])
    else:
        for k, v in cfg["canary"].get("env", {}).items():
            os.environ[k] = v
    emit({"type": "hello", "protocol": PROTOCOL, "python": sys.version.split()[0], "airflow": loader[1],
          "mode": loader[0], "loaderError": loader[3], "setupMs": int((time.monotonic() - t) * 1000),
          "uid": os.getuid(), "files": len(cfg["files"])})

    import gc

    gc.collect()
    gc.freeze()  # keep the parent's objects out of the children's GC passes (less copy-on-write, faster forks)
    files = cfg["files"]
    parallel = max(1, int(cfg.get("parallel", 1)))
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
            ready, _, _ = select.select(list(fds), [], [], max(0.0, min(wait, 0.5)))
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
            if c.exit is None:
                try:
                    pid, ws = os.waitpid(c.pid, os.WNOHANG)
                except ChildProcessError:
                    pid, ws = c.pid, 0
                if pid:
                    c.exit = ws
                    # take grandchildren (same process group) down with it; their pipe ends close
                    try:
                        os.killpg(c.pid, signal.SIGKILL)
                    except OSError:
                        pass
                    c.deadline = now + 2.0  # grace to drain the pipes
            if c.exit is not None and ((c.ev_r is None and c.out_r is None) or now > c.deadline):
                for fd in (c.ev_r, c.out_r):
                    if fd is not None:
                        if fd == c.ev_r:
                            read_fd(c, fd, cfg)
                        os.close(fd)
                c.ev_r = c.out_r = None
                finish(c, cfg)
                del running[c.pid]
    emit({"type": "end"})


if __name__ == "__main__":
    main()
