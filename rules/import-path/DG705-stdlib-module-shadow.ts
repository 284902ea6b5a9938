import { defineRule } from '../../src/engine/rule';
import { moduleNameOf } from './_util';
import { STDLIB_MODULE_NAMES } from './stdlib-names';

export default defineRule({
  meta: {
    id: 'DG705',
    name: 'stdlib-module-shadow',
    category: 'import-path',
    severity: 'low',
    message: 'top-level module `{module}` has the name of a standard-library module{where}',
    docs: {
      what:
        "Reports a module at the top of a checked directory (the folder Airflow puts on `sys.path`) or at the root of a zip archive whose name is a standard-library module of Python 3.11 (`sys.stdlib_module_names`, generated into `rules/import-path/stdlib-names.ts` by `scripts/gen-stdlib-names.py`): a `.py` file or a package folder with an `__init__.py`. *Low*; *high* at the root of a zip archive. Only the top is checked: check the DAG folder itself (what your deployment mounts), not the repository above it, for this rule to see the right level.",
      why:
        "Airflow *appends* the DAG folder to `sys.path`, so a repository module only wins for names not found earlier: a standard-library module present in the image always wins. It still hijacks a name when the image lacks it — modules removed in later Pythons (`imp`, `distutils`, `asyncore`, `telnetlib`, … are in the 3.11 list and gone from 3.12/3.13 images) or not built (`tkinter`) — and whenever a script runs with the folder first on `sys.path` (`python dags/x.py`, tests). DagBag *prepends* a zip archive to `sys.path` while it imports it, so a zip's `json.py` replaces `json` for every module imported after it: high. Which names can be hijacked depends on the image; the sandbox, which runs it, can tell.",
      example: '```text\ndags/imp.py        # in a Python 3.12 image, `import imp` by an old library loads this\ndags/bundle.zip!json.py\n```',
      useInstead: 'Give helper modules distinctive names, or put them in a package (`dags/common/json_utils.py`).',
    },
  },
  onPath(e, report) {
    if (!e.topLevel || e.kind === 'outside-link') return;
    if (e.kind === 'file' && !e.name.endsWith('.py')) return;
    if (e.kind === 'dir' && !e.child('__init__.py')) return;
    const mod = moduleNameOf(e.name, e.kind);
    if (!mod || !STDLIB_MODULE_NAMES.has(mod)) return;
    if (e.inArchive) report({ module: mod, where: ': DagBag puts the archive first on sys.path while it imports it, so this replaces the real one' }, { severity: 'high' });
    else report({ module: mod, where: ': it is used wherever the image lacks that module (the DAG folder is appended to sys.path)' });
  },
});
