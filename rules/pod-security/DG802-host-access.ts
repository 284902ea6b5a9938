import { stringValue, unwrap } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';
import type { Severity } from '../../src/report';
import { isTrue, setting, SETTING_QUERY } from './_pod-spec';
import { podSettingsInData } from './_pod-data';

/** Host paths that give away the node: its root, the container runtime socket, the kubelet's credentials. */
const CRITICAL_PATHS = /^\/(?:$|var\/run\/docker\.sock|run\/docker\.sock|run\/containerd|var\/run\/containerd|var\/run\/crio|var\/lib\/kubelet|etc(?:\/|$)|root(?:\/|$)|proc(?:\/|$)|var\/lib\/docker|home(?:\/|$))/;

const NAMESPACES: Record<string, string> = { hostnetwork: 'hostNetwork', hostpid: 'hostPID', hostipc: 'hostIPC' };

export default defineRule({
  meta: {
    id: 'DG802',
    name: 'pod-host-access',
    category: 'pod-security',
    severity: 'high',
    message: 'pod shares the node: {what}',
    docs: {
      what:
        'Finds pods that share the node\'s namespaces or files: `hostNetwork`/`hostPID`/`hostIPC` true (`host_network=True` on `V1PodSpec` or `KubernetesPodOperator(hostnetwork=True)`; *high*), and `hostPath` volumes (`V1HostPathVolumeSource(path=…)`, `{"hostPath": {"path": …}}`) — in Python and in Kubernetes manifests shipped with the DAGs (a `pod_template_file` YAML/JSON that lists `containers`): *critical* for `/`, the container runtime socket (`/var/run/docker.sock`, containerd, CRI-O), `/var/lib/kubelet`, `/etc`, `/root`, `/proc`; *medium* for other host paths.',
      why:
        'The host network exposes the node\'s services and bypasses network policies; the host PID/IPC namespaces let the task see and signal every process on the node; a hostPath of the runtime socket or the kubelet directory is root on the node and the credentials of every pod scheduled there.',
      example: '```python\nk8s.V1Volume(name="docker", host_path=k8s.V1HostPathVolumeSource(path="/var/run/docker.sock"))\n```',
      useInstead: 'Use `emptyDir`, ConfigMap/Secret volumes or a PersistentVolumeClaim; build images in CI, not through the node\'s Docker socket.',
    },
  },
  query: SETTING_QUERY,
  keywords: ['host'],
  // Kubernetes manifests shipped with the DAGs (`pod_template_file`): the same settings in YAML/JSON
  onDataFile(ctx) {
    for (const s of podSettingsInData(ctx)) {
      const report = (what: string, severity: Severity): void => ctx.reportRange(s.start, s.end, { what }, { severity });
      const ns = NAMESPACES[s.name.toLowerCase()];
      if (ns && s.value === 'true') report(`\`${ns}: true\``, 'high');
      else if (s.name === 'hostPath') {
        const norm = s.value.replace(/\/+$/, '') || '/';
        report(`\`hostPath\` volume of \`${s.value}\``, CRITICAL_PATHS.test(norm) ? 'critical' : 'medium');
      }
    }
  },
  onMatch(c, ctx) {
    const s = setting(c);
    if (!s) return;
    const report = (what: string, severity: Severity): void => ctx.report(s.node, { what }, { severity });
    const ns = Object.hasOwn(NAMESPACES, s.name) ? NAMESPACES[s.name] : undefined; // not `constructor`
    if (ns && isTrue(s.value)) {
      report(`\`${ns}: true\``, 'high');
      return;
    }
    if (s.name !== 'hostpath') return;
    // host_path=V1HostPathVolumeSource(path="…") or "hostPath": {"path": "…"}
    const v = unwrap(s.value);
    let pathNode = null;
    if (v.type === 'call') pathNode = v.childForFieldName('arguments')?.namedChildren.find((a) => a.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'path')?.childForFieldName('value') ?? v.childForFieldName('arguments')?.namedChildren[0];
    else if (v.type === 'dictionary') pathNode = v.namedChildren.find((p) => p.type === 'pair' && stringValue(p.childForFieldName('key')) === 'path')?.childForFieldName('value');
    const path = pathNode ? stringValue(pathNode) : null;
    if (path === null) {
      report('a `hostPath` volume', 'medium');
      return;
    }
    const norm = path.replace(/\/+$/, '') || '/';
    report(`\`hostPath\` volume of \`${path}\``, CRITICAL_PATHS.test(norm) ? 'critical' : 'medium');
  },
});
