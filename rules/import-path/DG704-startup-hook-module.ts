import { defineRule } from '../../src/engine/rule';
import { moduleNameOf } from './_util';

/** Imported by name at start-up, before and outside DAG parsing. */
const HOOKS: Record<string, string> = {
  airflow_local_settings:
    "Airflow's `settings.initialize()` appends the DAG folder to `sys.path` and then imports `airflow_local_settings` in every component (scheduler, API server, workers, triggerer) at start-up",
  sitecustomize: 'the `site` module imports `sitecustomize` at every interpreter start-up when it is found on `sys.path`',
  usercustomize: 'the `site` module imports `usercustomize` at interpreter start-up (user site enabled) when it is found on `sys.path`',
};

export default defineRule({
  meta: {
    id: 'DG704',
    name: 'startup-hook-module',
    category: 'import-path',
    severity: 'critical',
    message: '`{module}` in the tree: {why}',
    docs: {
      what:
        'Reports a module named `airflow_local_settings`, `sitecustomize` or `usercustomize` anywhere in the checked tree (a `.py` file, bytecode, a native module or a package folder), whatever `.airflowignore` says. Its contents are scanned like every other file as well.',
      why:
        "These names are imported by name outside DAG parsing. Airflow's `settings.initialize()` runs `prepare_syspath()` — which appends the DAG folder to `sys.path` — and then `import airflow_local_settings`, in every Airflow component, at start-up: a file of that name in the DAG folder runs in the scheduler with its database credentials before any DAG is parsed, and keeps running (it can patch Airflow itself). `.airflowignore` hides it from DAG parsing, not from `import`. `sitecustomize`/`usercustomize` are the interpreter's own start-up hooks. The sandbox, which imports DAG files only, would not see any of this. Reported anywhere in the tree because which sub-folder is the DAG folder depends on the deployment.",
      example: '```text\ndags/.airflowignore            # airflow_local_settings.py\ndags/airflow_local_settings.py # imported by the scheduler at start-up\n```',
      useInstead: 'Ship `airflow_local_settings.py` with the image or in `$AIRFLOW_HOME/config` (reviewed with the deployment, not with DAGs).',
    },
  },
  onPath(e, report) {
    if (e.kind === 'outside-link') return;
    // the module name is what precedes the first dot: most entries of a walk are rejected here, without a regex
    const dot = e.name.indexOf('.');
    if (!Object.hasOwn(HOOKS, dot < 0 ? e.name : e.name.slice(0, dot))) return;
    const mod = moduleNameOf(e.name, e.kind);
    // own keys only: a file named `constructor.py` is no startup hook
    if (mod && Object.hasOwn(HOOKS, mod)) report({ module: mod, why: HOOKS[mod] });
  },
});
