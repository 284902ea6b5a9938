import { defineRule } from '../../src/engine/rule';
import { argument, callArgs } from '../../src/engine/python';
import { atLeast } from '../../src/airflow/trust';
import { provenance } from '../../src/airflow/provenance';
import { originWords, snippet } from '../shell-injection/_util';
import { taintSeverity } from './_util';



export default defineRule({
  meta: {
    id: 'DG302',
    name: 'dynamic-import',
    category: 'code-injection',
    severity: 'medium',
    parseTime: 'note',
    message: '`{fn}` imports a module named by {origin} (`{value}`)',
    aliases: [],
    docs: {
      what:
        'Finds `__import__(name)`, `importlib.import_module(name)`, Airflow\'s `import_string`, `pydoc.locate` and `pkgutil.resolve_name` (and the `import_string`/`symbol_by_name` helpers of Django, werkzeug, kombu/celery) whose module name is not constant: built from input, a Variable, an environment value or a value whose origin the file does not show. Names from a loop over a constant list, or constants, are fine (constant dynamic imports are checked by the import policy, DG5xx). *High* when the name comes from `dag_run.conf` or params (also through a task argument); *medium* from another task\'s output (XCom) or a task function\'s parameter that no call site in the file shows (Airflow passes it, possibly from the trigger\'s conf); *low* from a Variable, an environment value or an origin the file does not show (a helper\'s parameter: the DAG\'s own configuration, most likely).',
      why:
        'Importing a module runs its top-level code. A module name taken from input lets whoever controls it import any module on `sys.path` — including one they managed to write into the DAG folder or a plugins directory — and it hides the real dependencies of the DAG from review and from the import allow list.',
      example: '```python\nhandler = importlib.import_module(Variable.get("handler_module"))\nhandler.run()\n```',
      useInstead:
        '```python\nfrom company.handlers import csv_handler, json_handler\nHANDLERS = {"csv": csv_handler, "json": json_handler}\nhandler = HANDLERS[Variable.get("handler")]  # KeyError for anything unexpected\n```',
    },
  },
  // Airflow's own `import_string("pkg.mod.Class")` imports too
  // … and the standard library's resolvers of dotted names: `pydoc.locate("pkg.mod.Class")`,
  // `pkgutil.resolve_name("pkg.mod:obj")`, and those of Django/werkzeug/celery-style helpers
  calls: ['builtins.__import__', 'importlib.import_module', 'importlib.__import__', 'airflow.utils.module_loading.import_string', 'airflow.**.import_string',
    'pydoc.locate', 'pkgutil.resolve_name', 'django.utils.module_loading.import_string', 'werkzeug.utils.import_string', 'kombu.utils.imports.symbol_by_name', 'celery.utils.imports.symbol_by_name'],
  onCall(call, fn, ctx) {
    const keyword = fn.endsWith('import_string') ? 'dotted_path' : fn === 'pydoc.locate' ? 'path' : 'name';
    const name = argument(callArgs(call), keyword, 0);
    if (!name) return;
    const p = provenance(name, ctx);
    if (!atLeast(p.trust, 'config')) return;
    ctx.report(call, { fn: fn.replace('builtins.', ''), origin: originWords(p.trust), value: snippet(p.node) }, { severity: taintSeverity(p.trust) });
  },
});
