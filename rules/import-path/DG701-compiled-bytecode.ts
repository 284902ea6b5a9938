import { defineRule } from '../../src/engine/rule';

/** PEP 552 header: 4 bytes magic, 4 bytes flags (bit 0 hash-based, bit 1 check the source). */
function pycKind(head: Buffer | null): 'timestamp' | 'checked-hash' | 'unchecked-hash' | 'unknown' {
  if (!head || head.length < 8 || head[2] !== 0x0d || head[3] !== 0x0a) return 'unknown';
  const flags = head.readUInt32LE(4);
  if (flags === 0) return 'timestamp';
  if (flags === 1) return 'unchecked-hash';
  if (flags === 3) return 'checked-hash';
  return 'unknown';
}

/** `pkg/__pycache__/m.cpython-311.opt-1.pyc` -> `m.py` (in the parent folder); `pkg/m.pyc` -> `m.py` beside it. */
function sourceName(name: string, inPycache: boolean): string {
  return inPycache ? `${name.split('.')[0]}.py` : name.replace(/\.py[co]$/i, '.py');
}

export default defineRule({
  meta: {
    id: 'DG701',
    name: 'compiled-bytecode',
    category: 'import-path',
    severity: 'high',
    message: 'compiled bytecode ({kind}{nosource}): Python may load it instead of the checked source',
    messages: {
      zip: 'compiled bytecode ({kind}) inside a zip archive: zipimport loads bytecode before source, so this is what runs',
      unchecked: 'unchecked-hash bytecode beside {source}: Python runs this file instead of the source and never compares the two',
      sourceless: 'bytecode without a source: `import` loads it directly, and no source was there to check',
    },
    docs: {
      what:
        'Reports every `.pyc` / `.pyo` file in the checked tree — `__pycache__` folders included — and in its zip archives. *Critical* when Python would run it without ever looking at a source: an unchecked-hash pyc (PEP 552) whose source exists (it is loaded instead of the source and never compared with it), a pyc outside `__pycache__` with no source beside it (imported directly, "sourceless"), and any pyc inside a zip archive (zipimport prefers bytecode). *High* otherwise. Only the 16-byte header is read.',
      why:
        "dag-guard, like every reviewer, reads source. `importlib`'s `SourceFileLoader` (what DagBag uses) loads `__pycache__/<name>.cpython-3XX.pyc` instead of `<name>.py` when the header says it is current, and an unchecked-hash pyc is current by definition: a committer can ship a benign `.py` for review and a hostile pyc that the scheduler runs. A repository has no reason to contain bytecode.",
      example: '```text\ndags/etl.py                              # benign, reviewed\ndags/__pycache__/etl.cpython-311.pyc     # unchecked-hash: this is what Airflow runs\n```',
      useInstead:
        'Never commit bytecode: add `__pycache__/` and `*.py[co]` to `.gitignore`, and remove the files (`git rm -r --cached`). On the Airflow side, `PYTHONPYCACHEPREFIX` (or `sys.pycache_prefix`) moves the cache out of the DAG folder so shipped caches are ignored. Locally, a run after your own tests may report caches Python wrote: `PYTHONDONTWRITEBYTECODE=1`, or check a clean checkout.',
    },
  },
  onPath(e, report) {
    if (e.kind !== 'file' || !/\.py[co]$/i.test(e.name)) return;
    const inPycache = /(^|\/|!)__pycache__\/[^/]+$/.test(e.rel);
    const kind = pycKind(e.head(16));
    const src = sourceName(e.name, inPycache);
    const hasSource = inPycache ? e.sibling(`../${src}`) : e.sibling(src);
    if (e.inArchive) {
      report({ kind }, { message: 'zip', severity: 'critical' });
    } else if (kind === 'unchecked-hash' && hasSource) {
      report({ source: src }, { message: 'unchecked', severity: 'critical' });
    } else if (!inPycache && !hasSource) {
      report({}, { message: 'sourceless', severity: 'critical' });
    } else {
      report({ kind, nosource: hasSource ? '' : ', no source' });
    }
  },
});
