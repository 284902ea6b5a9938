import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { argument, callArgs, isTruthyConstant, unwrap } from '../../src/engine/python';

const PICKLE_MODULES = ['pickle', 'cPickle', '_pickle', 'dill', 'cloudpickle', 'six.moves.cPickle'];
const SINKS = new Set<string>([
  ...PICKLE_MODULES.flatMap((m) => [`${m}.load`, `${m}.loads`, `${m}.Unpickler`]),
  'dill.load_session',
  'shelve.open',
  'shelve.DbfilenameShelf',
  'pandas.read_pickle',
  'jsonpickle.decode',
  'jsonpickle.loads',
  'jsonpickle.unpickler.decode',
  'jsonpickle.Unpickler',
  'joblib.load',
  'sklearn.externals.joblib.load',
]);
/** Loaders that only unpickle when asked to. */
const OPT_IN = new Set(['numpy.load']);

export default defineRule({
  meta: {
    id: 'DG401',
    name: 'pickle-deserialization',
    category: 'unsafe-deserialization',
    severity: 'medium',
    parseTime: 'high',
    message: '`{fn}` unpickles data: a crafted payload runs arbitrary code when loaded',
    messages: { own: '`{fn}` reads back data this function pickled itself in a temporary directory it created: only this task can have written it' },
    aliases: ['B301', 'S301'],
    docs: {
      what:
        'Finds pickle-based deserialization: `pickle`/`cPickle`/`_pickle`/`dill`/`cloudpickle` `load`, `loads` and `Unpickler`, `shelve.open`, `pandas.read_pickle`, `jsonpickle.decode`/`loads`, `joblib.load` and `numpy.load(..., allow_pickle=True)`, through import aliases. Severity is raised to high when the call runs at parse time (module level, decorators, default values). A checkpoint — data the same function pickled into a temporary directory or file it created and reads back, taking nothing from outside (no download, copy, request, trigger input or XCom) — is *info*.',
      why:
        'Unpickling calls `__reduce__` of whatever the byte stream names, so loading a pickle is running code. In a DAG the stream usually comes from S3/GCS, an XCom, a shared volume or a URL — places that someone other than the DAG author can write. At module level it runs inside the scheduler/dag-processor, with the metadata DB credentials and the Fernet key in its environment, every time the file is parsed. `joblib` model files and `jsonpickle` documents are pickles too.',
      example:
        '```python\nimport pickle\nfrom airflow.providers.amazon.aws.hooks.s3 import S3Hook\n\n@task\ndef score():\n    blob = S3Hook().read_key("models/latest.pkl", bucket_name="ml", encoding=None)\n    model = pickle.loads(blob)\n```',
      useInstead:
        '```python\nimport json\n\n@task\ndef score():\n    params = json.loads(S3Hook().read_key("models/latest.json", bucket_name="ml"))\n    # or a data-only format: ONNX, safetensors, parquet, numpy .npy with allow_pickle=False\n```\nIf a pickle is unavoidable, load it only from storage that only your deploy pipeline can write, verify an HMAC of the bytes before loading, and never at module level.',
    },
  },
  calls: [...SINKS, ...OPT_IN],
  onCall(call, fn, ctx) {
    if (OPT_IN.has(fn)) {
      const ap = argument(callArgs(call), 'allow_pickle');
      if (!ap || unwrap(ap).type === 'false' || !isTruthyConstant(ap)) return;
    }
    if (ownCheckpoint(call)) {
      ctx.report(call, { fn }, { message: 'own', severity: 'info' });
      return;
    }
    ctx.report(call, { fn });
  },
});

/**
 * A checkpoint: the enclosing function creates a temporary directory or file, pickles into it and reads it back, and
 * takes nothing from outside (no download, no copy, no request, no trigger input or XCom) that could have been
 * written there instead.
 */
function ownCheckpoint(call: SyntaxNode): boolean {
  let fn: SyntaxNode | null = call.parent;
  while (fn && fn.type !== 'function_definition') fn = fn.parent;
  if (!fn) return false;
  const body = fn.text;
  return (
    /\b(?:TemporaryDirectory|mkdtemp|NamedTemporaryFile|mkstemp|TemporaryFile|SpooledTemporaryFile)\s*\(/.test(body) &&
    /\b(?:pickle|cPickle|_pickle|dill|cloudpickle)\.dumps?\s*\(/.test(body) &&
    !/download|urlretrieve|urlopen|requests\.|http|_key\b|get_key|read_key|retr|copy|fetch|xcom_pull|\bdag_run\b|\bconf\b|\bparams\b|sftp|ftp|s3|gcs|blob|recv|socket/i.test(body)
  );
}
