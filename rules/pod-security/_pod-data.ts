/**
 * Pod security settings in Kubernetes manifests shipped with the DAGs (`pod_template_file` YAML, JSON pod specs):
 * the same settings DG801/DG802 read in Python, found in the text of a data file that declares `containers` (or is a SparkApplication and the like).
 */
import type { RuleContext } from '../../src/engine/context';

export interface PodDataSetting {
  /** camelCase Kubernetes name: privileged, hostNetwork, runAsUser, capabilities, hostPath… */
  name: string;
  /** The value as written (`true`, `0`, a path, the `add` list's text). */
  value: string;
  start: number;
  end: number;
}

/**
 * A pod spec: a manifest that lists containers (not a compose file, a dbt profile or a connection export), or a
 * Kubernetes custom resource that describes pods in its own shape — `SparkApplication` (`driver`/`executor`, run by
 * `SparkKubernetesOperator(application_file=…)`), `ScheduledSparkApplication`, Flink and Ray clusters.
 */
const POD_SPEC = /["']?containers["']?\s*:|["']?kind["']?\s*:\s*["']?(?:Scheduled)?SparkApplication\b|["']?kind["']?\s*:\s*["']?(?:FlinkDeployment|RayCluster|RayJob)\b/;
const SETTING = /["']?\b(privileged|allowPrivilegeEscalation|runAsUser|hostNetwork|hostPID|hostIPC|capabilities|hostPath)["']?\s*:/g;

export function podSettingsInData(ctx: RuleContext): PodDataSetting[] {
  const kind = ctx.file.dataKind;
  const text = ctx.file.text;
  if ((kind !== 'yaml' && kind !== 'json') || !POD_SPEC.test(text)) return [];
  const out: PodDataSetting[] = [];
  for (const m of text.matchAll(SETTING)) {
    const start = m.index!;
    const lineStart = text.lastIndexOf('\n', start) + 1;
    if (/^\s*#/.test(text.slice(lineStart, start + 1))) continue; // a YAML comment
    const after = text.slice(start + m[0].length, start + m[0].length + 200);
    let value: RegExpExecArray | null = null;
    if (m[1] === 'capabilities') value = /^[\s{]*?["']?add["']?\s*:\s*(\[[^\]]*\]|(?:\s*-\s*["']?[\w]+["']?[ \t]*(?:#[^\n]*)?(?:\n|$))+)/.exec(after);
    else if (m[1] === 'hostPath') value = /^[\s\S]{0,120}?\bpath["']?\s*:\s*["']?([^\s"',}]+)/.exec(after);
    else value = /^[ \t]*["']?([^\s"',}#]+)/.exec(after);
    if (!value) continue;
    out.push({ name: m[1], value: value[1] ?? value[0], start, end: start + m[0].length + value.index + value[0].length });
  }
  return out;
}

/** `[SYS_ADMIN, "NET_ADMIN"]` or a YAML block list: the capability names. */
export function capabilityNames(list: string): string[] {
  return [...list.matchAll(/[A-Za-z_]+/g)].map((x) => x[0].toUpperCase().replace(/^CAP_/, '')).filter((x) => x !== 'ADD');
}
