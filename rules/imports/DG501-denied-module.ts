import { defineRule } from '../../src/engine/rule';
import { builtinDenial, mayDeny, importedModules, moduleMatches, usedAtParseTime } from './_util';

export default defineRule({
  meta: {
    id: 'DG501',
    name: 'denied-module',
    category: 'unapproved-import',
    severity: 'high',
    message: 'import of denied module `{module}`: {why}{used}',
    messages: {
      unused:
        'import of denied module `{module}` at module level: {why} (used only inside functions, an `if __name__ == "__main__":` block, `except` clauses or for what opens no socket such as `gethostname()` here, not while the file is parsed)',
      configured: 'import of `{module}`, denied by the configured `[imports] deny` list',
    },
    aliases: ['B401', 'S401'],
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allow: {
          anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
          description: 'Built-in deny entries (module globs) to lift, e.g. ["telnetlib"].',
        },
      },
    },
    docs: {
      what:
        'Reports imports (statements anywhere in the file, task bodies included, and constant `__import__`/`importlib.import_module` calls) of modules on the deny list: the built-in list — `ctypes`, `cffi`, `pty`, `marshal`, `telnetlib`, `code`, keylogging/screen-capture/cookie-stealing packages (`pynput`, `keyboard`, `pyautogui`, `browser_cookie3`), and `socket` when imported at module level (*medium* when module-level code uses it; *info* — reported, never failing the default threshold — with a message saying so when only functions, a `__main__` block, `except socket.error:` clauses or `socket.gethostname()` name it) — plus the `deny` globs of the `[imports]` table of the configuration (`[tool.dag-guard.imports]` in pyproject.toml). Globs are micromatch patterns over dotted names (`boto3.**`). A built-in entry can be lifted with `[tool.dag-guard.rules.DG501] allow = ["telnetlib"]`.',
      why:
        'Every module a DAG file imports at the top is imported by the scheduler/dag-processor on every parse, with its credentials. Native-code bridges, pseudo-terminals and raw sockets have no place in a file whose job is to declare a DAG; they are the building blocks of reverse shells and loaders. A deny list lets a platform team encode what its DAG authors may not use.',
      example: '```python\nimport ctypes\nimport socket\nimport pty\n```',
      useInstead:
        'Use Airflow hooks and operators for I/O (`HttpHook`, `SSHOperator`, `SFTPHook`), run native tools in a container (`KubernetesPodOperator`, `DockerOperator`), and import networking libraries inside task functions, not at module level.',
    },
  },
  onFile(ctx) {
    if (!mayDeny(ctx)) return;
    for (const imp of importedModules(ctx)) {
      const parseTime = ctx.isParseTime(imp.node);
      const entry = builtinDenial(imp.module, parseTime, ctx);
      if (entry) {
        if (entry.parseTimeOnly && !usedAtParseTime(imp, ctx, entry.harmless)) {
          ctx.report(imp.node, { module: imp.module, why: entry.why }, { message: 'unused', severity: 'info' });
        } else {
          ctx.report(imp.node, { module: imp.module, why: entry.why, used: entry.parseTimeOnly ? ', used while the file is parsed' : '' }, { severity: entry.severity });
        }
        continue;
      }
      if (moduleMatches(imp.module, ctx.settings.importDeny ?? [])) {
        ctx.report(imp.node, { module: imp.module }, { message: 'configured' });
      }
    }
  },
});
