import { defineRule } from '../../src/engine/rule';
import { ALWAYS_ALLOWED, builtinDenial, importedModules, moduleMatches } from './_util';

export default defineRule({
  meta: {
    id: 'DG502',
    name: 'import-not-allowed',
    category: 'unapproved-import',
    severity: 'medium',
    message: 'import of `{module}` is not in the import allow list',
    docs: {
      what:
        'When an import allow list is configured (`allow` in the `[imports]` table of the config, `[tool.dag-guard.imports]` in pyproject.toml; micromatch globs over dotted module names, e.g. `["airflow.**", "pendulum", "datetime", "mycompany.**"]`), reports every import outside it: statements anywhere in the file (task bodies included) and constant `__import__`/`importlib.import_module` calls. `airflow.**` matches `airflow` itself and all its submodules; `from a import b` is admitted if `a` or `a.b` matches. Relative imports (`from . import helpers`) are the repository\'s own code and always allowed, as is `__future__`; nothing else is implicit — list the stdlib modules you accept. Imports already reported by `denied-module` (DG501) are not reported again. Without an allow list the rule does nothing.',
      why:
        'A DAG file is code the scheduler imports with its credentials; a short list of approved libraries makes review possible and stops a DAG from quietly pulling in a networking, crypto-mining or native-code package — or a typosquatted one installed in the image.',
      example: '```python\n# with [imports] allow = ["airflow.**", "pendulum", "datetime"] in the config\nimport requests          # reported\nfrom paramiko import SSHClient  # reported\n```',
      useInstead: '```python\nfrom airflow.providers.http.operators.http import HttpOperator  # allowed: airflow.**\n```\nor add the module to `[imports] allow` after review.',
    },
  },
  onFile(ctx) {
    const allow = ctx.settings.importAllow ?? [];
    if (!allow.length) return;
    for (const imp of importedModules(ctx)) {
      const names = [imp.module, ...imp.alternatives];
      if (names.some((n) => moduleMatches(n, ALWAYS_ALLOWED) || moduleMatches(n, allow))) continue;
      const parseTime = ctx.isParseTime(imp.node);
      if (builtinDenial(imp.module, parseTime, ctx) || moduleMatches(imp.module, ctx.settings.importDeny ?? [])) continue;
      ctx.report(imp.node, { module: imp.module });
    }
  },
});
