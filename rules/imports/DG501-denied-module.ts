import { defineRule } from '../../src/engine/rule';
import { builtinDenial, importedModules, IMPORT_QUERY, moduleMatches } from './_util';

export default defineRule({
  meta: {
    id: 'DG501',
    name: 'denied-module',
    category: 'unapproved-import',
    severity: 'high',
    message: 'import of denied module `{module}`: {why}',
    aliases: ['B401', 'S401'],
    docs: {
      what:
        'Reports imports (statements and constant `__import__`/`importlib.import_module` calls) of modules on the deny list: the built-in list — `ctypes`, `cffi`, `pty`, `marshal`, `telnetlib`, `code`, keylogging/screen-capture/cookie-stealing packages (`pynput`, `keyboard`, `pyautogui`, `browser_cookie3`), and `socket` when imported at module level — plus the `import-deny` globs of the configuration. Globs are micromatch patterns over dotted names (`boto3.**`). A built-in entry can be lifted with `[tool.dag-guard.rules.DG501] allow = ["telnetlib"]`.',
      why:
        'Every module a DAG file imports at the top is imported by the scheduler/dag-processor on every parse, with its credentials. Native-code bridges, pseudo-terminals and raw sockets have no place in a file whose job is to declare a DAG; they are the building blocks of reverse shells and loaders. A deny list lets a platform team encode what its DAG authors may not use.',
      example: '```python\nimport ctypes\nimport socket\nimport pty\n```',
      useInstead:
        'Use Airflow hooks and operators for I/O (`HttpHook`, `SSHOperator`, `SFTPHook`), run native tools in a container (`KubernetesPodOperator`, `DockerOperator`), and import networking libraries inside task functions, not at module level.',
    },
  },
  query: IMPORT_QUERY,
  onMatch(c, ctx) {
    for (const imp of importedModules(c, ctx)) {
      const parseTime = ctx.isParseTime(imp.node);
      const entry = builtinDenial(imp.module, parseTime, ctx);
      if (entry) {
        ctx.report(imp.node, `import of denied module \`${imp.module}\`: ${entry.why}`, { severity: entry.severity });
        continue;
      }
      if (moduleMatches(imp.module, ctx.settings.importDeny ?? [])) {
        ctx.report(imp.node, `import of \`${imp.module}\`, denied by the configured import-deny list`);
      }
    }
  },
});
