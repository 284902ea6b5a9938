import type { SyntaxNode } from 'tree-sitter';
import { callArgs, unwrap } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';
import { isLiteralModel, judgedPodCall, POD_CALLS, podCallName, setByDefaultArgs, settingName } from './_pod-spec';


type Limits = 'yes' | 'no' | 'unknown';

/** Does a `container_resources` / `resources` value set limits? Only literal models and dicts are judged. */
function limitsOf(value: SyntaxNode): Limits {
  const v = unwrap(value);
  if (v.type === 'none') return 'no';
  if (v.type === 'call') {
    // a helper of the repository (`resources(cpu="1")`) is not a literal: its result is not seen here
    if (!isLiteralModel(v, /(^|\.)(V1ResourceRequirements|dict)$/)) return 'unknown';
    const a = callArgs(v);
    if (a.hasSplat) return 'unknown';
    const lim = a.keywords.get('limits') ?? a.positional[0];
    if (!lim) return 'no';
    return emptyDict(lim) ? 'no' : 'yes';
  }
  if (v.type === 'dictionary') {
    let unknown = false;
    for (const p of v.namedChildren) {
      if (p.type === 'dictionary_splat') unknown = true;
      if (p.type !== 'pair') continue;
      const key = settingName(p.childForFieldName('key')?.text.replace(/["']/g, '') ?? '');
      // {"limits": {...}} (V1ResourceRequirements as a dict) or Airflow 1's {"limit_memory": "1Gi", …}
      if (key === 'limits') return emptyDict(p.childForFieldName('value')!) ? 'no' : 'yes';
      if (key.startsWith('limit')) return 'yes';
    }
    return unknown ? 'unknown' : 'no';
  }
  return 'unknown';
}

function emptyDict(n: SyntaxNode): boolean {
  const v = unwrap(n);
  return v.type === 'none' || (v.type === 'dictionary' && v.namedChildren.filter((c) => c.type !== 'comment').length === 0);
}

export default defineRule({
  meta: {
    id: 'DG804',
    name: 'pod-without-resource-limits',
    category: 'pod-security',
    severity: 'low',
    message: '`{fn}` starts a pod {how}: one task can take the node\'s memory and CPU from every other pod on it',
    docs: {
      what:
        'Finds `KubernetesPodOperator` (and the GKE/EKS/AKS variants, `@task.kubernetes`) calls without `container_resources` (or the old `resources`) that set **limits**: no argument at all, `None`, or `V1ResourceRequirements` / a dict with requests only. A DAG whose `default_args` set `container_resources` is not reported. A call that takes its pod from `full_pod_spec`, `pod_template_file` or a template dict, or passes `**kwargs`, is not judged (the resources are not in the call); neither is a value that is not a literal (a variable, a function call of your own).',
      why:
        'A pod without limits is scheduled by its requests and may then use whatever the node has: a runaway task (or one made to run away through its input) starves the other pods on the node — Airflow workers and the scheduler included when they share nodes — and memory pressure evicts them. Limits are also what keeps a compromised task from mining on the cluster\'s budget. A namespace `LimitRange` can supply defaults; if yours does, lower this rule with `[severity] DG804 = "info"`.',
      example: '```python\nKubernetesPodOperator(task_id="transform", image="registry.internal/etl:1.4.2")\n```',
      useInstead:
        '```python\nKubernetesPodOperator(\n    task_id="transform",\n    image="registry.internal/etl:1.4.2",\n    container_resources=k8s.V1ResourceRequirements(\n        requests={"cpu": "500m", "memory": "1Gi"}, limits={"cpu": "2", "memory": "2Gi"},\n    ),\n)\n```',
    },
  },
  calls: POD_CALLS,
  onCall(call, fn, ctx) {
    const a = callArgs(call);
    if (!judgedPodCall(a)) return;
    const res = a.keywords.get('container_resources') ?? a.keywords.get('resources');
    if (!res && setByDefaultArgs(ctx.file.text, /container_resources/)) return;
    const name = podCallName(fn);
    if (!res) {
      ctx.report(call.childForFieldName('function') ?? call, { fn: name, how: 'without resource limits (no `container_resources`)' });
      return;
    }
    if (limitsOf(res) === 'no') ctx.report(res, { fn: name, how: 'with resource requests but no limits' });
  },
});
