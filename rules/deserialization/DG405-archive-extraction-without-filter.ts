import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { callArgs, stringValue, unwrap } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';

/** Constructors whose object's `extractall` follows member names and links as the archive says. */
const TAR_OPENERS = /^tarfile\.(open|TarFile|TarFile\.open|TarFile\.taropen|TarFile\.gzopen|TarFile\.bz2open|TarFile\.xzopen)$/;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The qualified callee of the call a name is bound to (`tar = tarfile.open(…)`, `with tarfile.open(…) as tar`). */
function boundTo(ctx: RuleContext, name: string): string | null {
  const n = escape(name);
  const text = ctx.file.text;
  const m = new RegExp(`(?:^|[\\s;])${n}\\s*=\\s*([A-Za-z_][\\w.]*)\\s*\\(`, 'm').exec(text) ?? new RegExp(`([A-Za-z_][\\w.]*)\\s*\\([^\\n]*\\)\\s+as\\s+${n}\\b`).exec(text);
  if (!m) return null;
  const dotted = m[1];
  const head = dotted.split('.')[0];
  const mapped = ctx.imports.get(head);
  return mapped ? mapped + dotted.slice(head.length) : dotted;
}

function isTarObject(obj: SyntaxNode, ctx: RuleContext): boolean {
  const o = unwrap(obj);
  if (o.type === 'call') return TAR_OPENERS.test(ctx.callee(o) ?? '');
  if (o.type === 'identifier') return TAR_OPENERS.test(boundTo(ctx, o.text) ?? '');
  return false;
}

/** `filter=` given and not None (`"data"`, `"tar"`, `tarfile.data_filter`, a function of your own). */
function hasFilter(call: SyntaxNode): boolean {
  const f = callArgs(call).keywords.get('filter');
  return Boolean(f && unwrap(f).type !== 'none');
}

export default defineRule({
  meta: {
    id: 'DG405',
    name: 'archive-extraction-without-filter',
    category: 'unsafe-deserialization',
    severity: 'medium',
    parseTime: 'step',
    message: '`{fn}` extracts a tar archive without `filter=`: member names and links such as `../../` or `/etc/…` write outside the target folder',
    aliases: ['B202', 'S202'],
    docs: {
      what:
        'Finds `extractall()` on tar archives opened with `tarfile.open(…)`/`TarFile(…)` (chained, assigned, or bound by `with … as tar`) and `shutil.unpack_archive(…)` of anything but a `.zip` name, without a `filter=` argument (Python 3.12+, backported to 3.8–3.11 security releases). `filter="data"` (or `"tar"`, a filter function) is fine; `zipfile` archives are not reported (zipfile strips `..` and absolute paths).',
      why:
        'A tar member named `../../home/airflow/.ssh/authorized_keys` or `/opt/airflow/dags/evil.py`, or a symlink member pointing out of the folder, makes extraction write anywhere the worker can: DAG files (run by the scheduler on its next parse), start-up files, other tasks\' data (CVE-2007-4559 is still the default behaviour before Python 3.14). DAG tasks extract archives downloaded from partners and buckets — data that whoever controls the source controls.',
      example: '```python\nwith tarfile.open(local_path) as tar:\n    tar.extractall(path=workdir)\n```',
      useInstead: '```python\nwith tarfile.open(local_path) as tar:\n    tar.extractall(path=workdir, filter="data")   # refuses absolute paths, .., links out of workdir, devices\n```',
    },
  },
  calls: ['**.extractall', 'shutil.unpack_archive'],
  onCall(call, fn, ctx) {
    if (hasFilter(call)) return;
    if (fn === 'shutil.unpack_archive') {
      const a = callArgs(call);
      const name = stringValue(a.positional[0] ?? a.keywords.get('filename') ?? null);
      const format = stringValue(a.positional[2] ?? a.keywords.get('format') ?? null);
      if (format === 'zip' || (format === null && name !== null && /\.zip$/i.test(name))) return;
      ctx.report(call, { fn: 'shutil.unpack_archive' });
      return;
    }
    const f = call.childForFieldName('function');
    const obj = f?.type === 'attribute' ? f.childForFieldName('object') : null;
    if (!obj || !isTarObject(obj, ctx) || vettedMembers(call)) return;
    ctx.report(call, { fn: 'extractall' });
  },
});

/**
 * `tar.extractall(dest, members=members)` in a function that checks every member first — links and devices refused,
 * each path resolved and kept under the destination (`os.path.realpath`/`commonpath`, `is_relative_to`): the check
 * the Python documentation gives for versions without `filter=`.
 */
function vettedMembers(call: SyntaxNode): boolean {
  if (!callArgs(call).keywords.has('members')) return false;
  let fn: SyntaxNode | null = call.parent;
  while (fn && fn.type !== 'function_definition') fn = fn.parent;
  const body = fn?.text ?? '';
  return /\.(issym|islnk)\s*\(/.test(body) && /realpath|commonpath|is_relative_to|abspath|within|startswith|\.\./.test(body) && /\braise\b/.test(body);
}
