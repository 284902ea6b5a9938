import { stringValue } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';
import { setting, SETTING_QUERY } from './_pod-spec';

/** Names that say "more than a task needs" when no allow list is configured. */
const PRIVILEGED_NAME = /admin|root|cluster|privileged|superuser|owner|airflow-(?:scheduler|webserver|api-server|dag-processor|triggerer|worker)$/i;

export default defineRule({
  meta: {
    id: 'DG805',
    name: 'pod-service-account',
    category: 'pod-security',
    severity: 'medium',
    message: 'pod runs as service account `{name}`: {why}',
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowed: {
          type: 'array',
          items: { type: 'string' },
          description: 'Service accounts task pods may use (the namespace default is always allowed). When set, any other name is reported.',
        },
      },
    },
    docs: {
      what:
        'Finds the service account a task pod runs as — `service_account_name=` of `KubernetesPodOperator` / `@task.kubernetes` / `V1PodSpec`, `serviceAccountName` in dict pod specs and `pod_override`s — when it is not `default` and either (with `[tool.dag-guard.rules.DG805] allowed = [...]` configured) is not in the allowed list, or (without it) its name says it is privileged: `*admin*`, `*cluster*`, `root`, `privileged`, or the Airflow components\' own accounts (`airflow-scheduler`, `airflow-worker`, …). A templated name (`{{ … }}`) is reported only when an allow list is configured.',
      why:
        'A pod can do with the Kubernetes API whatever its service account may. The Airflow chart gives the scheduler and workers accounts that can create and delete pods and read secrets in the namespace; a task pod started under one of them — or under a cluster-admin account — turns one DAG commit into control of the namespace or the cluster. Task pods should run under the namespace default or an account made for the task.',
      example: '```python\nKubernetesPodOperator(task_id="sync", image="registry.internal/sync:2.0", service_account_name="airflow-worker")\n```',
      useInstead:
        '```python\nKubernetesPodOperator(task_id="sync", image="registry.internal/sync:2.0", service_account_name="sync-task")  # an account with only what the task needs\n```',
    },
  },
  query: SETTING_QUERY,
  keywords: ['service_account', 'serviceaccount'],
  onMatch(c, ctx) {
    const s = setting(c);
    if (!s || (s.name !== 'serviceaccountname' && s.name !== 'serviceaccount')) return;
    const name = stringValue(s.value);
    if (name === null || name === '' || name === 'default') return;
    const allowed = ctx.settings.ruleOptions?.DG805?.allowed as string[] | undefined;
    if (allowed) {
      if (!allowed.includes(name)) ctx.report(s.node, { name, why: 'not in the allowed list of the configuration (`[tool.dag-guard.rules.DG805] allowed`)' });
      return;
    }
    if (!name.includes('{{') && PRIVILEGED_NAME.test(name)) {
      ctx.report(s.node, { name, why: 'its name says it can do more than a task needs (an Airflow component\'s or an admin account): the pod gets its Kubernetes API rights' });
    }
  },
});
