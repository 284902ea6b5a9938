import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { argument, callArgs, unwrap } from '../../src/engine/python';
import { singleBinding } from '../../src/airflow/provenance';
import { stringsWithShape } from '../malicious/_shell-shapes';

/** A shell `chmod` that lets everyone write: `777`, `666`, `o+w`, `a+w`, `+w` without a who (umask decides: reported too). */
const SHELL_CHMOD = /\bchmod\s+(?:-[A-Za-z]+\s+)*(?:[0-7]?[0-7][0-7][2367]\b|[ugo]*[oa][ugo]*[+=][rwxXst]*w|\+[rwxXst]*w)/;

/** The mode bits of a constant: `0o777`, `511`, `stat.S_IRWXU | stat.S_IWOTH`. */
function modeBits(node: SyntaxNode, depth = 0): number | null {
  const n = unwrap(node);
  if (depth > 3) return null;
  if (n.type === 'integer') {
    const t = n.text.replace(/_/g, '').toLowerCase();
    const v = t.startsWith('0o') ? parseInt(t.slice(2), 8) : t.startsWith('0x') ? parseInt(t.slice(2), 16) : t.startsWith('0b') ? parseInt(t.slice(2), 2) : parseInt(t, 10);
    return Number.isFinite(v) ? v : null;
  }
  if (n.type === 'binary_operator' && n.childForFieldName('operator')?.type === '|') {
    const l = modeBits(n.childForFieldName('left')!, depth + 1);
    const r = modeBits(n.childForFieldName('right')!, depth + 1);
    return l === null || r === null ? null : l | r;
  }
  if (n.type === 'attribute' || n.type === 'identifier') {
    const name = n.type === 'attribute' ? n.childForFieldName('attribute')!.text : n.text;
    const known = STAT_BITS[name];
    if (known !== undefined) return known;
    const v = n.type === 'identifier' ? singleBinding(n) : null;
    return v ? modeBits(v, depth + 1) : null;
  }
  return null;
}
const STAT_BITS: Record<string, number> = {
  S_IRWXU: 0o700, S_IRUSR: 0o400, S_IWUSR: 0o200, S_IXUSR: 0o100,
  S_IRWXG: 0o070, S_IRGRP: 0o040, S_IWGRP: 0o020, S_IXGRP: 0o010,
  S_IRWXO: 0o007, S_IROTH: 0o004, S_IWOTH: 0o002, S_IXOTH: 0o001,
  S_ISUID: 0o4000, S_ISGID: 0o2000, S_ISVTX: 0o1000,
};

export default defineRule({
  meta: {
    id: 'DG861',
    name: 'world-writable-permissions',
    category: 'insecure-config',
    severity: 'medium',
    message: '{how} makes {target} writable by every user of the machine',
    aliases: ['B103', 'S103'],
    docs: {
      what:
        'Finds permissions that let every user write: `os.chmod`/`Path.chmod`/`os.fchmod`/`os.makedirs(mode=…)`/`Path.mkdir(mode=…)`/`os.open(…, mode)` with the "others may write" bit (`0o777`, `0o666`, `0o1777`, `stat.S_IWOTH`, `stat.S_IRWXO`, also through a name bound to the mode), and shell `chmod 777`, `chmod -R 666`, `chmod o+w`, `chmod a+w` in commands (`bash_command`, `subprocess`, pod arguments). `0o755`, `0o644`, `0o700` are fine.',
      why:
        'Workers are shared: every task of every DAG, and every container on a node that mounts the same volume, runs as some user of that machine. A world-writable file or folder lets any of them replace a script another task runs, a file a later task loads, or a dataset a report is built from — tampering that shows up nowhere in the DAG that was changed.',
      example: '```python\npath.mkdir(parents=True, exist_ok=True)\nos.chmod(path, 0o777)\n```',
      useInstead:
        '```python\npath.mkdir(parents=True, exist_ok=True, mode=0o750)   # owner and group only\n# shared between teams: one group per share (chgrp), never "others"\n```',
    },
  },
  calls: ['os.chmod', 'os.fchmod', 'os.lchmod', 'os.makedirs', 'os.mkdir', 'os.open', '**.chmod', '**.mkdir'],
  onCall(call, fn, ctx) {
    const args = callArgs(call);
    const last = fn.slice(fn.lastIndexOf('.') + 1);
    const isOs = fn.startsWith('os.');
    const mode =
      last === 'open' ? argument(args, 'mode', 2)
      : last === 'chmod' || last === 'fchmod' || last === 'lchmod' ? argument(args, 'mode', isOs ? 1 : 0)
      : argument(args, 'mode', isOs ? 1 : 0);
    if (!mode) return;
    // Path.mkdir(mode, parents, exist_ok) takes the mode first; os.mkdir(path, mode)
    const bits = modeBits(mode);
    if (bits === null || !(bits & 0o002)) return;
    const target = isOs ? args.positional[0] : call.childForFieldName('function')?.childForFieldName('object');
    ctx.report(call, { how: `\`${isOs ? fn : '.' + last}(…, ${unwrap(mode).text.slice(0, 40)})\``, target: target ? `\`${target.text.slice(0, 40)}\`` : 'the path' });
  },
  keywords: ['chmod'],
  onFile(ctx) {
    stringsWithShape(ctx, (t) => t.includes('chmod'), SHELL_CHMOD, (s) => {
      if (!ctx.once(s.parent?.type === 'concatenated_string' ? s.parent : s)) return;
      ctx.report(s, { how: `\`${SHELL_CHMOD.exec(s.text)![0]}\``, target: 'the files it names' });
    });
  },
});
