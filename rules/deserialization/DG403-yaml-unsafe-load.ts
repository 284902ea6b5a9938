import { defineRule } from '../../src/engine/rule';
import { argument, callArgs } from '../../src/engine/python';
import { PARSE_TIME_NOTE } from './_util';

/** Calls that construct arbitrary Python objects whatever the arguments. */
const ALWAYS_UNSAFE = new Set(['yaml.unsafe_load', 'yaml.unsafe_load_all']);
/** Calls with FullLoader: no longer code execution since PyYAML 5.4, but still builds arbitrary Python types. */
const FULL = new Set(['yaml.full_load', 'yaml.full_load_all']);
/** Calls whose safety depends on the Loader argument. */
const LOADER_DEPENDENT = new Set(['yaml.load', 'yaml.load_all']);
const SAFE_LOADERS = new Set(['SafeLoader', 'CSafeLoader', 'BaseLoader', 'CBaseLoader']);
const UNSAFE_LOADERS = new Set(['Loader', 'CLoader', 'UnsafeLoader', 'CUnsafeLoader', 'FullLoader', 'CFullLoader']);

export default defineRule({
  meta: {
    id: 'DG403',
    name: 'yaml-unsafe-load',
    category: 'unsafe-deserialization',
    severity: 'high',
    message: '`{fn}` without a safe Loader can build arbitrary Python objects from the document',
    aliases: ['B506', 'S506'],
    docs: {
      what:
        'Finds PyYAML loads that may construct Python objects: `yaml.load`/`yaml.load_all` without `Loader=` or with `Loader`, `UnsafeLoader`, `FullLoader` (or their C variants), `yaml.unsafe_load`/`unsafe_load_all` (high), and `yaml.full_load`/`full_load_all` (medium). `yaml.safe_load`, `Loader=yaml.SafeLoader`/`CSafeLoader`/`BaseLoader` are fine. A custom Loader class is not flagged (it usually extends `SafeLoader`).',
      why:
        'YAML tags such as `!!python/object/apply:os.system ["id"]` make the unsafe loaders call any function while parsing. DAG factories commonly load YAML configs at parse time — from the repo, a bucket or a Variable — so a writable config becomes code running in the scheduler. FullLoader had its own code-execution bypasses before PyYAML 5.4 (CVE-2020-1747, CVE-2020-14343) and still instantiates arbitrary Python types.',
      example: '```python\nimport yaml\nwith open(CONFIG) as f:\n    pipelines = yaml.load(f, Loader=yaml.Loader)\n```',
      useInstead: '```python\nimport yaml\nwith open(CONFIG) as f:\n    pipelines = yaml.safe_load(f)  # or yaml.load(f, Loader=yaml.CSafeLoader)\n```',
    },
  },
  calls: ['load', 'load_all', 'unsafe_load', 'unsafe_load_all', 'full_load', 'full_load_all'],
  mayCall: (fn) => FULL.has(fn) || LOADER_DEPENDENT.has(fn) || ALWAYS_UNSAFE.has(fn),
  onCall(call, fn, ctx) {
    let severity: 'high' | 'medium' | 'critical' = 'high';
    if (FULL.has(fn)) severity = 'medium';
    else if (LOADER_DEPENDENT.has(fn)) {
      const args = callArgs(call);
      const loader = argument(args, 'Loader', 1);
      if (loader) {
        const q = ctx.qualifiedName(loader);
        const last = q ? q.split('.').pop()! : loader.text.split('.').pop()!;
        if (SAFE_LOADERS.has(last)) return;
        if (!UNSAFE_LOADERS.has(last)) return; // custom or computed loader: can't tell
        if (last.includes('Full')) severity = 'medium';
      } else if (args.hasSplat) return;
    } else if (!ALWAYS_UNSAFE.has(fn)) return;
    const parse = ctx.isParseTime(call);
    if (parse && severity === 'high') severity = 'critical';
    else if (parse) severity = 'high';
    ctx.report(call, this.meta.message.replace('{fn}', fn) + (parse ? PARSE_TIME_NOTE : ''), { severity });
  },
});
