/**
 * Kubernetes pod settings as DAG code writes them: keyword arguments of the `kubernetes.client` models
 * (`V1SecurityContext(privileged=True)`, snake_case) and dict pod specs (`{"securityContext": {"privileged": True}}`,
 * camelCase, as in YAML): one normalised name for both.
 */
import type { SyntaxNode } from 'tree-sitter';
import { stringValue, unwrap, type CallArgs } from '../../src/engine/python';
import { classAttributeValues, resolveName } from '../../src/airflow/provenance';
import type { RuleContext } from '../../src/engine/context';

/** `run_as_user`, `runAsUser`, `"run-as-user"` -> `runasuser`. */
export function settingName(raw: string): string {
  return raw.replace(/[_\-\s]/g, '').toLowerCase();
}

/** The setting a `keyword_argument` or dict `pair` match sets, and its value node. */
export function setting(c: Record<string, SyntaxNode[]>): { name: string; value: SyntaxNode; node: SyntaxNode } | null {
  const k = c.k?.[0];
  const v = c.v?.[0];
  const node = c.kw?.[0];
  if (!k || !v || !node) return null;
  const raw = k.type === 'identifier' ? k.text : stringValue(k);
  return raw ? { name: settingName(raw), value: unwrap(v), node } : null;
}

/**
 * A setting's value as written, or — for a name — the value it is bound to where it is used: the one assignment
 * before it, or the default of a parameter of the enclosing helper
 * (`def sc(privileged=True): return V1SecurityContext(privileged=privileged)`).
 */
export function settingValue(v: SyntaxNode, ctx?: RuleContext): SyntaxNode {
  const u = unwrap(v);
  if (u.type === 'attribute' && ctx) {
    // `add=cls.extra_caps`, `privileged=Hardening.PRIVILEGED`: a class attribute of this file given once
    const values = classAttributeValues(u, ctx);
    return values?.length === 1 ? unwrap(values[0]) : u;
  }
  if (u.type !== 'identifier') return u;
  const defs = resolveName(u).map(unwrap);
  if (defs.length) return defs.length === 1 ? defs[0] : u;
  return parameterDefault(u) ?? u;
}

export function isTrue(v: SyntaxNode): boolean {
  return settingValue(v).type === 'true';
}

/** The default value of the enclosing function's parameter a name refers to. */
function parameterDefault(id: SyntaxNode): SyntaxNode | null {
  for (let p = id.parent; p; p = p.parent) {
    if (p.type !== 'function_definition' && p.type !== 'lambda') continue;
    for (const prm of p.childForFieldName('parameters')?.namedChildren ?? []) {
      if (/^(default_parameter|typed_default_parameter)$/.test(prm.type) && prm.childForFieldName('name')?.text === id.text) {
        const d = prm.childForFieldName('value');
        return d ? unwrap(d) : null;
      }
      if ((prm.type === 'identifier' && prm.text === id.text) || prm.childForFieldName('name')?.text === id.text) return null;
    }
    return null;
  }
  return null;
}

/** The constant strings of a list/tuple value (or of a single string). */
export function stringsOf(v: SyntaxNode, ctx?: RuleContext): string[] {
  const n = settingValue(v, ctx); // `add=EXTRA_CAPS` with `EXTRA_CAPS = [...]`
  if (n.type === 'list' || n.type === 'tuple') return n.namedChildren.map((x) => stringValue(x)).filter((x): x is string => x !== null);
  const s = stringValue(n);
  return s === null ? [] : [s];
}

/** Query shared by the family: keyword arguments and dict pairs (the settings), matched once for all its rules. */
export const SETTING_QUERY = `[
  (keyword_argument name: (identifier) @k value: (_) @v)
  (pair key: (string) @k value: (_) @v)
] @kw`;

/** Operators and task decorators that start a pod of their own (DG803 also covers DockerOperator images). */
export const POD_CALLS = ['**.KubernetesPodOperator', '**.GKEStartPodOperator', '**.EksPodOperator', '**.AKSPodOperator', 'airflow.**.task.kubernetes'];

/** Arguments that bring a whole pod spec from elsewhere: what it sets is not visible in the call. */
const SPEC_FROM_ELSEWHERE = ['full_pod_spec', 'pod_template_file', 'pod_template_dict', 'pod_template'];

/** Can a pod-starting call be judged from its own arguments? Not when it takes its spec from a template or passes `**kwargs`. */
export function judgedPodCall(a: CallArgs): boolean {
  return !a.hasSplat && !SPEC_FROM_ELSEWHERE.some((k) => a.keywords.has(k));
}

/** Do the DAG's `default_args` (a dict with the quoted key) set this for every operator? */
export function setByDefaultArgs(fileText: string, key: RegExp): boolean {
  return new RegExp(`["'](?:${key.source})["']\\s*:`).test(fileText);
}

/** How a finding names the pod-starting call: the operator class, or `@task.kubernetes`. */
export function podCallName(fn: string): string {
  const short = fn.slice(fn.lastIndexOf('.') + 1);
  return short === 'kubernetes' ? '@task.kubernetes' : short;
}

/** Is this call a Kubernetes model (or `dict`) written in place, whose arguments are the settings? By its callee's text. */
export function isLiteralModel(call: SyntaxNode, models: RegExp): boolean {
  const f = call.childForFieldName('function');
  return !!f && models.test(f.text.replace(/\s+/g, ''));
}
