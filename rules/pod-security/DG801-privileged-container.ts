import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import type { Severity } from '../../src/report';
import { callArgs, stringValue, unwrap } from '../../src/engine/python';
import { isTrue, setting, SETTING_QUERY, settingName, settingValue, stringsOf } from './_pod-spec';
import { capabilityNames, podSettingsInData } from './_pod-data';

/**
 * Capabilities the Pod Security Standards' *baseline* profile allows a pod to add (the container runtime's default
 * set; `NET_BIND_SERVICE` is the one *restricted* allows): adding them gives nothing a default container lacks.
 */
const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

/** Capabilities that amount to root on the node (or close to it). */
const DANGEROUS_CAPS = new Set(['ALL', 'SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'DAC_READ_SEARCH', 'SYS_RAWIO', 'BPF']);

export default defineRule({
  meta: {
    id: 'DG801',
    name: 'privileged-container',
    category: 'pod-security',
    severity: 'high',
    message: 'pod security context: {what}',
    docs: {
      what:
        'Finds pod and container security settings that hand the task the node: `privileged=True` (*high*), `allow_privilege_escalation=True` (*medium*), `run_as_user=0` (*high*), and capabilities added (`add=["SYS_ADMIN"]`, `NET_ADMIN`, `SYS_PTRACE`, `ALL`… *high*; others *medium*; only capabilities the Pod Security Standards\' *baseline* profile allows, such as `NET_BIND_SERVICE`, are not reported) — in Kubernetes manifests shipped with the DAGs (a `pod_template_file` YAML/JSON that lists `containers`, or a `SparkApplication` manifest of `SparkKubernetesOperator`), in `kubernetes.client` models (`V1SecurityContext`, `V1PodSecurityContext`, `V1Capabilities`) and in dict pod specs (`securityContext: {privileged: true}`), whether given to `KubernetesPodOperator`, `@task.kubernetes`, `executor_config={"pod_override": …}`, `full_pod_spec` or a `pod_template_dict`.',
      why:
        'A privileged container, root, or added kernel capabilities let the task escape to the Kubernetes node, read every other pod\'s secrets and the kubelet\'s credentials. The Airflow chart\'s own hardening runs worker pods non-root with capabilities dropped and `allowPrivilegeEscalation: false`; a DAG can undo it pod by pod.',
      example: '```python\nKubernetesPodOperator(\n    task_id="debug",\n    image="registry.internal/tools:1.2",\n    security_context=k8s.V1SecurityContext(privileged=True, run_as_user=0),\n)\n```',
      useInstead: '```python\nsecurity_context=k8s.V1SecurityContext(\n    run_as_non_root=True, run_as_user=50000, allow_privilege_escalation=False,\n    capabilities=k8s.V1Capabilities(drop=["ALL"]), seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),\n)\n```',
    },
  },
  // Capabilities are judged from their container — `capabilities=…`, `"capabilities": {…}`, `V1Capabilities(…)` —
  // which spells the word; the other settings name themselves.
  query: `${SETTING_QUERY}
(call function: [(identifier) (attribute)] @capfn arguments: (argument_list)) @capcall`,
  keywords: ['privileged', 'escalation', 'run_as_user', 'runasuser', 'capabilit'],
  // Kubernetes manifests shipped with the DAGs (`pod_template_file`): the same settings in YAML/JSON
  onDataFile(ctx) {
    for (const s of podSettingsInData(ctx)) {
      const report = (what: string, severity: Severity): void => ctx.reportRange(s.start, s.end, { what }, { severity });
      if (s.name === 'privileged' && s.value === 'true') report('`privileged: true` — the container can take over the node', 'high');
      else if (s.name === 'allowPrivilegeEscalation' && s.value === 'true') report('`allowPrivilegeEscalation: true` — setuid binaries can gain root', 'medium');
      else if (s.name === 'runAsUser' && s.value === '0') report('`runAsUser: 0` — the container runs as root', 'high');
      else if (s.name === 'capabilities') {
        const caps = capabilityNames(s.value);
        if (caps.length && !caps.every((x) => BASELINE_CAPS.has(x))) report(`capabilities added: ${caps.join(', ')}`, caps.some((x) => DANGEROUS_CAPS.has(x)) ? 'high' : 'medium');
      }
    }
  },
  onMatch(c, ctx) {
    const reportCaps = (node: SyntaxNode, value: SyntaxNode | undefined): void => {
      const caps = value ? stringsOf(value, ctx).map((x) => x.toUpperCase().replace(/^CAP_/, '')) : [];
      if (!caps.length || caps.every((x) => BASELINE_CAPS.has(x))) return;
      const bad = caps.filter((x) => DANGEROUS_CAPS.has(x));
      // at the constant that lists them when they come from one (`extra_caps = ["SYS_ADMIN"]`), once
      const held = settingValue(value!, ctx);
      const at = held.id !== unwrap(value!).id && (held.type === 'list' || held.type === 'tuple') ? held : node;
      if (!ctx.once(at) && at !== node) return;
      ctx.report(at, { what: `capabilities added: ${caps.join(', ')}` }, { severity: bad.length ? 'high' : 'medium' });
    };
    if (c.capcall) {
      // V1Capabilities(add=[...]) wherever it is
      if (!/Capabilities$/.test(c.capfn[0].text)) return;
      const add = callArgs(c.capcall[0]).keywords.get('add');
      if (add) reportCaps(add.parent!, add);
      return;
    }
    const s = setting(c);
    if (!s) return;
    const report = (what: string, severity: Severity): void => ctx.report(s.node, { what }, { severity });
    if (s.name === 'privileged' && isTrue(s.value)) report('`privileged: true` — the container can take over the node', 'high');
    else if (s.name === 'allowprivilegeescalation' && isTrue(s.value)) report('`allowPrivilegeEscalation: true` — setuid binaries can gain root', 'medium');
    else if (s.name === 'runasuser' && settingValue(s.value).type === 'integer' && Number(settingValue(s.value).text) === 0) report('`runAsUser: 0` — the container runs as root', 'high');
    else if (s.name === 'capabilities' && s.value.type === 'dictionary') {
      // {"capabilities": {"add": [...]}}, capabilities={"add": [...]} (a V1Capabilities(...) value is the call above)
      for (const p of s.value.namedChildren) {
        if (p.type !== 'pair') continue;
        const k = p.childForFieldName('key');
        if (k && settingName(stringValue(k) ?? '') === 'add') reportCaps(p, p.childForFieldName('value') ?? undefined);
      }
    }
  },
});
