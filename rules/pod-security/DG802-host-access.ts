import { argument, callArgs, stringValue, unwrap } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';
import type { Severity } from '../../src/report';
import { isTrue, setting, SETTING_QUERY, settingValue } from './_pod-spec';
import { podSettingsInData } from './_pod-data';

/** Host paths that give away the node: its root, the container runtime socket, the kubelet's credentials. */
const CRITICAL_PATHS = /^\/(?:$|var\/run\/docker\.sock|run\/docker\.sock|run\/containerd|var\/run\/containerd|var\/run\/crio|var\/lib\/kubelet|etc(?:\/|$)|root(?:\/|$)|proc(?:\/|$)|var\/lib\/docker|home(?:\/|$))/;

const NAMESPACES: Record<string, string> = { hostnetwork: 'hostNetwork', hostpid: 'hostPID', hostipc: 'hostIPC' };
/** Docker's spelling (`DockerOperator(network_mode="host")`, `ipc_mode`, docker-py's `pid_mode`). */
const DOCKER_MODES: Record<string, string> = { networkmode: 'network_mode', ipcmode: 'ipc_mode', pidmode: 'pid_mode' };

export default defineRule({
  meta: {
    id: 'DG802',
    name: 'pod-host-access',
    category: 'pod-security',
    severity: 'high',
    message: 'pod shares the node: {what}',
    docs: {
      what:
        'Finds pods that share the node\'s namespaces or files: `hostNetwork`/`hostPID`/`hostIPC` true (`host_network=True` on `V1PodSpec` or `KubernetesPodOperator(hostnetwork=True)`; *high*), and `hostPath` volumes (`V1HostPathVolumeSource(path=…)`, `{"hostPath": {"path": …}}`) — in Python and in Kubernetes manifests shipped with the DAGs (a `pod_template_file` YAML/JSON that lists `containers`, or a `SparkApplication` manifest of `SparkKubernetesOperator`): *critical* for `/`, the container runtime socket (`/var/run/docker.sock`, containerd, CRI-O), `/var/lib/kubelet`, `/etc`, `/root`, `/proc`; *medium* for other host paths. For `DockerOperator` and docker-py: `network_mode`/`ipc_mode`/`pid_mode="host"` (*high*), and bind mounts (`Mount(source=…, type="bind")`, `volumes=["/var/run/docker.sock:…"]`) of those critical paths (*critical*; a bind mount of a data folder is how files reach the container and is not reported).',
      why:
        'The host network exposes the node\'s services and bypasses network policies; the host PID/IPC namespaces let the task see and signal every process on the node; a hostPath of the runtime socket or the kubelet directory is root on the node and the credentials of every pod scheduled there.',
      example: '```python\nk8s.V1Volume(name="docker", host_path=k8s.V1HostPathVolumeSource(path="/var/run/docker.sock"))\n```',
      useInstead: 'Use `emptyDir`, ConfigMap/Secret volumes or a PersistentVolumeClaim; build images in CI, not through the node\'s Docker socket.',
    },
  },
  // Docker bind mounts of the node's files: `Mount(source="/var/run/docker.sock", target=…, type="bind")`
  calls: ['docker.types.Mount', 'docker.types.services.Mount', '**.DockerOperator', '**.DockerSwarmOperator'],
  onCall(call, fn, ctx) {
    const a = callArgs(call);
    if (!fn.endsWith('Mount')) {
      // DockerOperator's `volumes=["/var/run/docker.sock:/var/run/docker.sock"]` (`host:container[:mode]`, docker
      // provider < 2; a call pattern, not the query: `volumes` is in every KubernetesPodOperator file)
      const vols = a.keywords.get('volumes');
      const list = vols ? unwrap(vols) : null;
      if (list?.type !== 'list' && list?.type !== 'tuple') return;
      for (const item of list.namedChildren) {
        const src = stringValue(item)?.split(':')[0];
        if (src === undefined || !src.startsWith('/')) continue;
        if (CRITICAL_PATHS.test(src.replace(/\/+$/, '') || '/')) ctx.report(item, { what: `volume of the host's \`${src}\`` }, { severity: 'critical' });
      }
      return;
    }
    const type = stringValue(argument(a, 'type', 2));
    const source = stringValue(argument(a, 'source', 1));
    if (type !== 'bind' || source === null || !source.startsWith('/')) return;
    const norm = source.replace(/\/+$/, '') || '/';
    // other bind mounts (a data folder) are how DockerOperator passes files: only the node-giving paths are reported
    if (CRITICAL_PATHS.test(norm)) ctx.report(call, { what: `bind mount of the host's \`${source}\`` }, { severity: 'critical' });
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
    const mode = Object.hasOwn(DOCKER_MODES, s.name) ? DOCKER_MODES[s.name] : undefined;
    if (mode) {
      if (stringValue(s.value) === 'host') report(`\`${mode}="host"\``, 'high');
      return;
    }
    if (s.name !== 'hostpath') return;
    // host_path=V1HostPathVolumeSource(path="…") or "hostPath": {"path": "…"}
    const v = unwrap(s.value);
    let pathNode = null;
    if (v.type === 'call') pathNode = v.childForFieldName('arguments')?.namedChildren.find((a) => a.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'path')?.childForFieldName('value') ?? v.childForFieldName('arguments')?.namedChildren[0];
    else if (v.type === 'dictionary') pathNode = v.namedChildren.find((p) => p.type === 'pair' && stringValue(p.childForFieldName('key')) === 'path')?.childForFieldName('value');
    // a path given by a name (`path=DOCKER_SOCK`) is judged by the value it is bound to
    const path = pathNode ? stringValue(settingValue(pathNode)) : null;
    if (path === null) {
      report('a `hostPath` volume', 'medium');
      return;
    }
    const norm = path.replace(/\/+$/, '') || '/';
    report(`\`hostPath\` volume of \`${path}\``, CRITICAL_PATHS.test(norm) ? 'critical' : 'medium');
  },
});
