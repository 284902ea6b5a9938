import type { SyntaxNode } from 'tree-sitter';
import { callArgs, unwrap } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';
import { isLiteralModel, judgedPodCall, POD_CALLS, podCallName, setByDefaultArgs, settingName } from './_pod-spec';
import { singleBinding } from '../../src/airflow/provenance';

/** The operator's pod-level and container-level security contexts. */
const CONTEXT_ARGS = ['security_context', 'container_security_context', 'pod_security_context'];

type Verdict = 'non-root' | 'unset' | 'unknown';

/** Does a security context value (model call or dict) make the container non-root? Only literals are judged. */
function contextVerdict(value: SyntaxNode): Verdict {
  const v = unwrap(value);
  const settings: [string, SyntaxNode][] = [];
  if (v.type === 'call') {
    // a helper of the repository (`pod_security_context()`) is not a literal: its result is not seen here
    if (!isLiteralModel(v, /(^|\.)(V1SecurityContext|V1PodSecurityContext|dict)$/)) return 'unknown';
    const a = callArgs(v);
    if (a.hasSplat) return 'unknown';
    for (const [k, n] of a.keywords) settings.push([settingName(k), unwrap(n)]);
  } else if (v.type === 'dictionary') {
    for (const p of v.namedChildren) {
      if (p.type === 'dictionary_splat') return 'unknown';
      if (p.type !== 'pair') continue;
      const k = p.childForFieldName('key')?.text.replace(/["']/g, '');
      const n = p.childForFieldName('value');
      if (k && n) settings.push([settingName(k), unwrap(n)]);
    }
  } else return v.type === 'none' ? 'unset' : 'unknown';
  let unknown = false;
  for (const [k, n] of settings) {
    const value = n.type === 'identifier' ? singleBinding(n) : n;
    if (k === 'runasnonroot' && value?.type === 'true') return 'non-root';
    if (k === 'runasuser' && value?.type === 'integer' && Number(value.text) > 0) return 'non-root';
    // `run_as_user=RUNTIME_UID` bound elsewhere, `run_as_non_root=flag`: not a literal, not judged
    if ((k === 'runasnonroot' || k === 'runasuser') && (!value || (value.type !== 'integer' && value.type !== 'true' && value.type !== 'false' && value.type !== 'none'))) unknown = true;
  }
  return unknown ? 'unknown' : 'unset';
}

export default defineRule({
  meta: {
    id: 'DG806',
    name: 'pod-may-run-as-root',
    category: 'pod-security',
    severity: 'low',
    message: '`{fn}` starts a pod {how}: it runs as the image\'s user, root for most images',
    docs: {
      what:
        'Finds `KubernetesPodOperator` (and the GKE/EKS/AKS variants, `@task.kubernetes`) calls whose security context does not make the container non-root: no `security_context` / `container_security_context` at all, or one (a `V1SecurityContext`/`V1PodSecurityContext` or a dict) without `run_as_non_root=True` or a non-zero `run_as_user`. A call that takes its pod from `full_pod_spec`, `pod_template_file` or a template dict, passes `**kwargs`, or gives no security context in a DAG whose `default_args` set one, is not judged; neither is a value that is not a literal. `run_as_user=0` itself is DG801.',
      why:
        'Most images run as root unless told otherwise. A task container running as root turns any code execution in it — a poisoned dependency, an injected command — into root in the container, one kernel or runtime bug away from the node. Kubernetes\' "restricted" Pod Security Standard requires `runAsNonRoot`; the Airflow chart runs its own pods non-root, but pods started by DAGs get only what the DAG sets.',
      example: '```python\nKubernetesPodOperator(task_id="transform", image="registry.internal/etl:1.4.2")\n```',
      useInstead:
        '```python\nKubernetesPodOperator(\n    task_id="transform",\n    image="registry.internal/etl:1.4.2",\n    security_context=k8s.V1PodSecurityContext(run_as_non_root=True, run_as_user=50000),\n)\n```',
    },
  },
  calls: POD_CALLS,
  onCall(call, fn, ctx) {
    const a = callArgs(call);
    if (!judgedPodCall(a)) return;
    const given = CONTEXT_ARGS.map((k) => a.keywords.get(k)).filter((n): n is SyntaxNode => Boolean(n));
    if (!given.length && setByDefaultArgs(ctx.file.text, /(?:container_|pod_)?security_context/)) return;
    if (given.map(contextVerdict).some((v) => v !== 'unset')) return;
    const name = podCallName(fn);
    if (!given.length) ctx.report(call.childForFieldName('function') ?? call, { fn: name, how: 'without a security context' });
    else ctx.report(given[0], { fn: name, how: 'with a security context that does not set `runAsNonRoot`' });
  },
});
