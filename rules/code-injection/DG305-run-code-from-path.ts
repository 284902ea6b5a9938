import { defineRule } from '../../src/engine/rule';
import { argument, callArgs, stringValue } from '../../src/engine/python';
import { atLeast } from '../../src/airflow/trust';
import { provenance } from '../../src/airflow/provenance';
import { originWords, snippet } from '../shell-injection/_util';

/** Loader -> [keyword, position] of the path or module name it runs. */
const LOADERS = new Map<string, [string, number]>([
  ['runpy.run_path', ['path_name', 0]],
  ['runpy.run_module', ['mod_name', 0]],
  ['imp.load_source', ['pathname', 1]],
  ['imp.load_compiled', ['pathname', 1]],
  ['imp.load_module', ['filename', 2]],
  ['importlib.machinery.SourceFileLoader', ['path', 1]],
  ['importlib.machinery.SourcelessFileLoader', ['path', 1]],
  ['importlib.util.spec_from_file_location', ['location', 1]],
  ['execfile', ['filename', 0]],
]);

/** World-writable and per-user folders: a constant path there names code that is not in the repository. */
const SCRATCH = /^(?:\/tmp|\/var\/tmp|\/dev\/shm|\/run\/user|~|\/root|\/home)(?:\/|$)/;

export default defineRule({
  meta: {
    id: 'DG305',
    name: 'run-code-from-path',
    category: 'code-injection',
    severity: 'high',
    parseTime: 'high',
    message: '`{fn}` loads and runs Python code from a path or module named by {origin} (`{value}`)',
    messages: {
      scratch: '`{fn}` runs Python code from `{value}`, a temporary or home folder outside the repository: whoever can write there runs code here, unreviewed',
    },
    aliases: [],
    docs: {
      what:
        'Finds `runpy.run_path`/`run_module`, `imp.load_source`/`load_compiled`/`load_module`, `importlib.machinery.SourceFileLoader`/`SourcelessFileLoader` and `importlib.util.spec_from_file_location` whose path or module name is not constant or derived from the DAG file\'s own location (`os.path.dirname(__file__)`): taken from input, a Variable, an environment value, a directory listing or a value of unknown origin — or a constant path in a temporary or home folder (`/tmp`, `/var/tmp`, `/dev/shm`, `~`, `/home`, `/root`).',
      why:
        'These functions execute a Python file. With a path from outside the repository — a Variable, a shared volume, a downloaded file, `dag_run.conf` — whoever controls that location runs code in the scheduler or worker without going through code review. It is also how a small innocent-looking DAG pulls in a payload stored elsewhere.',
      example: '```python\nimport runpy\nrunpy.run_path(Variable.get("job_script"))\n\nspec = importlib.util.spec_from_file_location("plugin", f"/mnt/shared/{name}.py")\n```',
      useInstead: '```python\n# ship the job as a reviewed module in the repository and import it\nfrom jobs import nightly\nnightly.main()\n```',
    },
  },
  calls: [...LOADERS.keys()].map((f) => (f.includes('.') ? f : `builtins.${f}`)),
  onCall(call, fn, ctx) {
    const spec = LOADERS.get(fn)!;
    const target = argument(callArgs(call), spec[0], spec[1]);
    if (!target) return;
    const constant = stringValue(target);
    if (constant !== null && SCRATCH.test(constant)) {
      ctx.report(call, { fn, value: constant }, { message: 'scratch' });
      return;
    }
    const p = provenance(target, ctx);
    if (!atLeast(p.trust, 'config')) return;
    ctx.report(call, { fn, origin: originWords(p.trust), value: snippet(p.node) }, { severity: p.trust === 'user' ? 'high' : 'medium' });
  },
});
