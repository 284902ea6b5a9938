/**
 * Airflow operators and decorators: which operators run a shell (and through which argument), how
 * TaskFlow/`@task.bash` functions are recognised, and a fast keyword-argument lookup for operator calls.
 */
import type { SyntaxNode } from 'tree-sitter';
import { type RuleContext } from '../engine/context';
import { unwrap } from '../engine/python';

/** How a shell-capable operator takes its script. */
export type ShellOperatorKind = 'bash' | 'ssh' | 'winrm' | 'docker' | 'k8s';

/** Qualified names (every import path across Airflow 1, 2 and 3) of operators that run a command. */
export const SHELL_OPERATORS: ReadonlyMap<string, ShellOperatorKind> = new Map<string, ShellOperatorKind>([
  // BashOperator: Airflow 3 (standard provider), Airflow 2, Airflow 1
  ['airflow.providers.standard.operators.bash.BashOperator', 'bash'],
  ['airflow.operators.bash.BashOperator', 'bash'],
  ['airflow.operators.bash_operator.BashOperator', 'bash'],
  ['airflow.operators.BashOperator', 'bash'],
  // BashSensor runs bash_command the same way
  ['airflow.providers.standard.sensors.bash.BashSensor', 'bash'],
  ['airflow.sensors.bash.BashSensor', 'bash'],
  ['airflow.sensors.bash_sensor.BashSensor', 'bash'],
  ['airflow.contrib.sensors.bash_sensor.BashSensor', 'bash'],
  // SSHOperator: the command runs in the remote user's login shell
  ['airflow.providers.ssh.operators.ssh.SSHOperator', 'ssh'],
  ['airflow.contrib.operators.ssh_operator.SSHOperator', 'ssh'],
  // WinRMOperator: the command runs in cmd.exe / PowerShell
  ['airflow.providers.microsoft.winrm.operators.winrm.WinRMOperator', 'winrm'],
  ['airflow.contrib.operators.winrm_operator.WinRMOperator', 'winrm'],
  // DockerOperator: a string command is split by docker-py (shlex), so only `sh -c` forms reach a shell
  ['airflow.providers.docker.operators.docker.DockerOperator', 'docker'],
  ['airflow.providers.docker.operators.docker_swarm.DockerSwarmOperator', 'docker'],
  ['airflow.operators.docker_operator.DockerOperator', 'docker'],
  ['airflow.contrib.operators.docker_swarm_operator.DockerSwarmOperator', 'docker'],
  // KubernetesPodOperator and its cloud subclasses: cmds/arguments are an argv, a shell only with `sh -c`
  ['airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator', 'k8s'],
  ['airflow.providers.cncf.kubernetes.operators.kubernetes_pod.KubernetesPodOperator', 'k8s'],
  ['airflow.contrib.operators.kubernetes_pod_operator.KubernetesPodOperator', 'k8s'],
  ['airflow.providers.google.cloud.operators.kubernetes_engine.GKEStartPodOperator', 'k8s'],
  ['airflow.providers.amazon.aws.operators.eks.EksPodOperator', 'k8s'],
]);

/**
 * Operators that start a container, job step or task whose argv sits somewhere in a nested, templated structure —
 * EMR steps (`HadoopJarStep.Args`), ECS/Batch container overrides (`command`), Cloud Run/Azure/SageMaker
 * container arguments: an argv there that is `[sh, -c, script]` runs a shell (any provider path: the class names are
 * specific).
 */
export const NESTED_ARGV_OPERATORS: ReadonlySet<string> = new Set([
  'EmrAddStepsOperator', 'EmrCreateJobFlowOperator', 'EcsRunTaskOperator', 'EcsOperator', 'ECSOperator', 'BatchOperator',
  'AwsBatchOperator', 'CloudRunExecuteJobOperator', 'CloudRunCreateJobOperator', 'AzureContainerInstancesOperator',
  'SageMakerProcessingOperator', 'GKEStartJobOperator', 'KubernetesJobOperator', 'CloudBatchSubmitJobOperator',
]);

/** Callee patterns under which the operators above are called (`BashOperator(…)`, `BashOperator.partial(…)`,
 *  `….partial(…).expand(bash_command=[…])`, whose receiver `shellScripts` checks): a rule's `calls` for `shellScripts`. */
export const SHELL_OPERATOR_CALLS: readonly string[] = [...SHELL_OPERATORS.keys()]
  .flatMap((q) => [q, `${q}.partial`])
  .concat([...NESTED_ARGV_OPERATORS].flatMap((c) => [`**.${c}`, `**.${c}.partial`]))
  .concat(['**.expand', '**.expand_kwargs']);

/**
 * Dynamic task mapping: the operator of `Op.partial(…).expand(…)` / `.expand_kwargs(…)` (the qualified name of
 * `Op`), or null for any other call. The mapped call's own arguments are the mapped ones; `partial`'s are fixed.
 */
export function mappedOperator(call: SyntaxNode, ctx: RuleContext): string | null {
  const f = call.childForFieldName('function');
  const method = f?.type === 'attribute' ? f.childForFieldName('attribute')?.text : undefined;
  if (method !== 'expand' && method !== 'expand_kwargs') return null;
  const inner = unwrap(f!.childForFieldName('object')!);
  const innerFn = inner.type === 'call' ? inner.childForFieldName('function') : null;
  if (innerFn?.type !== 'attribute' || innerFn.childForFieldName('attribute')?.text !== 'partial') return null;
  return ctx.qualifiedName(innerFn.childForFieldName('object'));
}

/** Keyword that holds the shell script, per kind (docker/k8s are handled by `shellScripts`). */
export const SCRIPT_KEYWORD: Record<'bash' | 'ssh' | 'winrm', string> = { bash: 'bash_command', ssh: 'command', winrm: 'command' };

/**
 * The value of keyword argument `name` of a call, found in the text of the argument list and confirmed in the
 * tree (a keyword of a nested call or a word in a string does not count): a few native calls instead of
 * reading every argument of an operator call with many keywords.
 */
export function keywordArgument(call: SyntaxNode, name: string, ctx: RuleContext): SyntaxNode | undefined {
  const args = call.childForFieldName('arguments');
  if (!args || args.type !== 'argument_list') return undefined;
  const text = ctx.file.text;
  const end = args.endIndex;
  let i = text.indexOf(name, args.startIndex);
  for (; i >= 0 && i < end; i = text.indexOf(name, i + name.length)) {
    const before = text.charCodeAt(i - 1);
    const after = text.charCodeAt(i + name.length);
    if (isWordChar(before) || isWordChar(after)) continue;
    const id = ctx.root.descendantForIndex(i, i + name.length);
    const kw = id.type === 'identifier' ? id.parent : null;
    if (kw?.type === 'keyword_argument' && kw.parent?.id === args.id && kw.firstNamedChild?.id === id.id) {
      return kw.childForFieldName('value') ?? undefined;
    }
  }
  return undefined;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Decorators whose function's return value is run by bash (`@task.bash`, Airflow ≥ 2.9). */
export const BASH_TASK_DECORATORS: ReadonlySet<string> = new Set([
  'airflow.decorators.task.bash',
  'airflow.sdk.task.bash',
  'airflow.decorators.bash_task',
  'airflow.decorators.bash.bash_task',
  'airflow.providers.standard.decorators.bash.bash_task',
]);

/** Roots of TaskFlow decorators: a function decorated with `<root>` or `<root>.<anything>` is a task. */
const TASK_DECORATOR_ROOTS = ['airflow.decorators.task', 'airflow.sdk.task'];

/** Qualified name of a decorator (`@task.bash`, `@task.bash(env=…)`). */
export function decoratorName(dec: SyntaxNode, ctx: RuleContext): string | null {
  let e = dec.namedChildren[0];
  if (!e) return null;
  e = unwrap(e);
  if (e.type === 'call') e = e.childForFieldName('function') ?? e;
  return ctx.qualifiedName(e);
}

/** Decorators of a function definition (empty when it is not decorated). */
export function decoratorsOf(fn: SyntaxNode): SyntaxNode[] {
  const p = fn.parent;
  if (!p || p.type !== 'decorated_definition') return [];
  return p.namedChildren.filter((c) => c.type === 'decorator');
}

export function isBashTaskFunction(fn: SyntaxNode, ctx: RuleContext): boolean {
  return decoratorsOf(fn).some((d) => BASH_TASK_DECORATORS.has(decoratorName(d, ctx) ?? ''));
}

/** A TaskFlow task (`@task`, `@task.bash`, `@task.virtualenv`…): its parameters come from XComs, op_kwargs or context. */
export function isTaskFunction(fn: SyntaxNode, ctx: RuleContext): boolean {
  return decoratorsOf(fn).some((d) => {
    const q = decoratorName(d, ctx) ?? '';
    return BASH_TASK_DECORATORS.has(q) || TASK_DECORATOR_ROOTS.some((r) => q === r || q.startsWith(r + '.'));
  });
}

/** A script that an operator hands to a shell, with a label for messages. */
