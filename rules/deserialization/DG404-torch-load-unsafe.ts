import { defineRule } from '../../src/engine/rule';
import { argument, callArgs, unwrap } from '../../src/engine/python';

export default defineRule({
  meta: {
    id: 'DG404',
    name: 'torch-load-unsafe',
    category: 'unsafe-deserialization',
    severity: 'medium',
    parseTime: 'step',
    message: '`{fn}` without `weights_only=True` unpickles the checkpoint',
    aliases: ['B614'],
    docs: {
      what:
        'Finds `torch.load` (and `torch.hub.load_state_dict_from_url`) without `weights_only=True`. An explicit `weights_only=False` is high severity; a missing argument is medium (PyTorch 2.6 made `True` the default, but the installed version is not known from the DAG file).',
      why:
        'A PyTorch checkpoint is a zip of pickles; with `weights_only=False` loading it runs whatever the pickle names. ML DAGs load checkpoints from buckets, model registries and URLs that other teams or pipelines write.',
      example: '```python\nimport torch\n\n@task\ndef evaluate(path):\n    model = torch.load(path)\n```',
      useInstead: '```python\nimport torch\n\n@task\ndef evaluate(path):\n    state = torch.load(path, weights_only=True)  # or safetensors.torch.load_file(path)\n```',
    },
  },
  calls: ['torch.load', 'torch.serialization.load', 'torch.hub.load_state_dict_from_url'],
  onCall(call, fn, ctx) {
    const args = callArgs(call);
    const wo = argument(args, 'weights_only');
    if (wo && unwrap(wo).type === 'true') return;
    if (!wo && args.hasSplat) return;
    ctx.report(call, { fn }, { severity: wo && unwrap(wo).type === 'false' ? 'high' : 'medium' });
  },
});
