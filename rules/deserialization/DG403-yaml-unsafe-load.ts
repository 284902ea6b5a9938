import { defineRule } from '../../src/engine/rule';
import { possibleValues } from '../../src/airflow/constants';
import { argument, callArgs } from '../../src/engine/python';

/** `yaml.unsafe_load*` construct arbitrary Python objects whatever the arguments; `yaml.full_load*` (FullLoader)
 *  no longer run code since PyYAML 5.4 but still build arbitrary Python types; `yaml.load*` depend on the Loader. */
const SINKS = ['yaml.unsafe_load', 'yaml.unsafe_load_all', 'yaml.full_load', 'yaml.full_load_all', 'yaml.load', 'yaml.load_all'];
const UNSAFE_LOADERS = new Set(['Loader', 'CLoader', 'UnsafeLoader', 'CUnsafeLoader', 'FullLoader', 'CFullLoader']);

export default defineRule({
  meta: {
    id: 'DG403',
    name: 'yaml-unsafe-load',
    category: 'unsafe-deserialization',
    severity: 'high',
    parseTime: 'step',
    message: '`{fn}` without a safe Loader can build arbitrary Python objects from the document',
    aliases: ['B506', 'S506'],
    docs: {
      what:
        'Finds PyYAML loads that may construct Python objects: `yaml.load`/`yaml.load_all` without `Loader=` or with `Loader`, `UnsafeLoader`, `FullLoader` (or their C variants), `yaml.unsafe_load`/`unsafe_load_all` (high), and `yaml.full_load`/`full_load_all` (medium). `yaml.safe_load`, `Loader=yaml.SafeLoader`/`CSafeLoader`/`BaseLoader` are fine. A Loader chosen from a table (`Loader=LOADERS[SETTINGS["loader"]]`) is judged by the loaders the file shows it can be. A custom Loader class is not flagged (it usually extends `SafeLoader`).',
      why:
        'YAML tags such as `!!python/object/apply:os.system ["id"]` make the unsafe loaders call any function while parsing. DAG factories commonly load YAML configs at parse time — from the repo, a bucket or a Variable — so a writable config becomes code running in the scheduler. FullLoader had its own code-execution bypasses before PyYAML 5.4 (CVE-2020-1747, CVE-2020-14343) and still instantiates arbitrary Python types.',
      example: '```python\nimport yaml\nwith open(CONFIG) as f:\n    pipelines = yaml.load(f, Loader=yaml.Loader)\n```',
      useInstead: '```python\nimport yaml\nwith open(CONFIG) as f:\n    pipelines = yaml.safe_load(f)  # or yaml.load(f, Loader=yaml.CSafeLoader)\n```',
    },
  },
  calls: SINKS,
  onCall(call, fn, ctx) {
    let severity: 'high' | 'medium' = 'high';
    if (fn.startsWith('yaml.full_load')) severity = 'medium';
    else if (fn.startsWith('yaml.load')) {
      const args = callArgs(call);
      const loader = argument(args, 'Loader', 1);
      if (loader) {
        // the loader written in place, or chosen from a table (`Loader=LOADERS[SETTINGS["loader"]]`): the worst one
        const lasts = (possibleValues(loader, ctx) ?? [loader]).map((l) => {
          const q = ctx.qualifiedName(l);
          return q ? q.split('.').pop()! : l.text.split('.').pop()!;
        });
        const unsafe = lasts.filter((l) => UNSAFE_LOADERS.has(l));
        if (!unsafe.length) return; // safe, or a custom or computed loader: can't tell
        if (unsafe.every((l) => l.includes('Full'))) severity = 'medium';
      } else if (args.hasSplat) return;
    }
    ctx.report(call, { fn }, { severity });
  },
});
