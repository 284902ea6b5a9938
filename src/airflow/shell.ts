/**
 * The shell scripts an operator call or argv passes to a shell (`bash_command`, SSH `command`, `bash -c …` in
 * KPO/Docker argv), memoised per call as a per-file service.
 */
import type { SyntaxNode } from 'tree-sitter';
import { defineService, type RuleContext } from '../engine/context';
import { callArgs, stringValue, unwrap } from '../engine/python';
import { NESTED_ARGV_OPERATORS, SHELL_OPERATORS, keywordArgument, mappedOperator, SCRIPT_KEYWORD } from './operators';
import { resolveName, returnedValues, singleBinding, visibleFunction } from './provenance';

export interface ShellScript {
  node: SyntaxNode;
  /** e.g. "`bash_command` of BashOperator". */
  label: string;
  /**
   * Not a shell script: DockerOperator's string `command` without `sh -c`, which docker-py splits at whitespace into
   * the container's argv — a value spliced into it cannot run commands, but can add options and arguments.
   */
  argv?: boolean;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'mksh', 'csh', 'tcsh', 'pwsh', 'powershell', 'cmd']);

/**
 * `text` with each line continuation (`\` + line break) blanked in place: a continued line is one command to the
 * shell (and Python drops `\`+newline inside a string), so `curl … \⏎ | bash` reads as one command while offsets
 * stay those of `text`. `text` itself when it has none.
 */
export function blankLineContinuations(text: string): string {
  return text.includes('\\\n') || text.includes('\\\r\n') ? text.replace(/\\\r?\n/g, (m) => ' '.repeat(m.length)) : text;
}

/** `sh`, `/bin/bash`, `/usr/bin/env bash`… */
export function isShellProgram(s: string | null): boolean {
  if (s === null) return false;
  const t = s.trim().replace(/^\/usr\/bin\/env\s+/, '');
  const base = t.split('/').pop()!.replace(/\.exe$/i, '').toLowerCase();
  return SHELLS.has(base);
}

/** `-c`, `-ec`, `-xc`, `-euxc`, `-lc`, `/c` (cmd), `-Command` (PowerShell). */
export function isShellCommandFlag(s: string | null): boolean {
  if (s === null) return false;
  return /^-[a-z]*c[a-z]*$/.test(s) || /^\/c$/i.test(s) || /^-command$/i.test(s);
}

/** Elements of a list/tuple literal, or null. */
function listElements(node: SyntaxNode | undefined, ctx: RuleContext): SyntaxNode[] | null {
  if (!node) return null;
  let n = unwrap(node);
  if (n.type === 'identifier') {
    const v = resolveName(n);
    if (v.length !== 1) return null;
    n = unwrap(v[0]);
  }
  void ctx;
  if (n.type === 'list' || n.type === 'tuple') return n.namedChildren.filter((c) => c.type !== 'comment');
  return null;
}

/** Interpreters that run code given on the command line, and the flag that takes it (`python -c`, `perl -e`…). */
const CODE_FLAG: [RegExp, RegExp][] = [
  [/^(?:python|pypy)[0-9.]*$/, /^-[a-zA-Z]*c$/],
  [/^(?:perl|ruby|node|nodejs)$/, /^-[eE]$/],
  [/^php[0-9.]*$/, /^-r$/],
];

/**
 * In an argv `[shell, …, -c, script, …]` (or an interpreter's `python -c code`, `perl -e code`, `node -e code`: code
 * run as given, like a shell script), the script element; null when the argv is not such an invocation.
 */
export function shellScriptInArgv(argv: SyntaxNode[]): SyntaxNode | null {
  if (argv.length < 2) return null;
  const prog = stringValue(argv[0]);
  const base = prog === null ? '' : prog.trim().replace(/^\/usr\/bin\/env\s+/, '').split('/').pop()!.toLowerCase();
  const codeFlag = CODE_FLAG.find(([p]) => p.test(base))?.[1];
  if (!isShellProgram(prog) && !codeFlag) return null;
  for (let i = 1; i < argv.length - 1; i++) {
    const v = stringValue(argv[i]);
    if (codeFlag ? v !== null && codeFlag.test(v) : isShellCommandFlag(v)) return argv[i + 1];
    if (v === null) return null;
  }
  return null;
}

/** Does a constant string start with a shell `-c` invocation (`bash -c '…'`, `/bin/sh -ec "…"`)? */
function startsWithShellC(s: string): boolean {
  const words = s.trim().split(/\s+/);
  if (!isShellProgram(words[0])) return false;
  for (let i = 1; i < Math.min(words.length, 5); i++) if (isShellCommandFlag(words[i])) return true;
  return false;
}

/** Leading literal text of a string-ish expression (for `bash -c '…{x}…'` checks). */
function leadingText(node: SyntaxNode): string {
  const n = unwrap(node);
  if (n.type === 'string') {
    let out = '';
    for (const c of n.namedChildren) {
      if (c.type === 'interpolation') break;
      if (c.type === 'string_content') out += c.text;
    }
    return out;
  }
  if (n.type === 'concatenated_string') return leadingText(n.namedChildren[0]);
  if (n.type === 'binary_operator') return leadingText(n.childForFieldName('left')!);
  if (n.type === 'call') {
    const f = n.childForFieldName('function');
    if (f?.type === 'attribute' && f.childForFieldName('attribute')?.text === 'format') {
      return leadingText(f.childForFieldName('object')!);
    }
  }
  return '';
}

/**
 * The shell scripts a call passes to a shell, if it is a shell-capable Airflow operator. Argument lists that
 * are not shell invocations (KubernetesPodOperator `cmds=["python", "job.py"]`) are not scripts.
 */
const SHELL_SCRIPTS = defineService('airflow: shell scripts by call', () => new Map<number, ShellScript[]>());

export function shellScripts(call: SyntaxNode, ctx: RuleContext): ShellScript[] {
  // memoised per call: DG203 and DG204 both ask about every operator call
  const memo = ctx.use(SHELL_SCRIPTS);
  let r = memo.get(call.id);
  if (!r) memo.set(call.id, (r = findShellScripts(call, ctx)));
  return r;
}

/**
 * The expression that builds each mapped command: the body of the lambda given to `.map()` (XComArg.map, whose
 * elements are an upstream task's output) or the element of a list comprehension. Null for anything else.
 */
function mappedCommandBody(v: SyntaxNode): SyntaxNode | null {
  if (v.type === 'list_comprehension') return v.childForFieldName('body');
  if (v.type !== 'call') return null;
  const f = v.childForFieldName('function');
  if (f?.type !== 'attribute' || f.childForFieldName('attribute')?.text !== 'map') return null;
  const fn = callArgs(v).positional[0];
  const lambda = fn ? unwrap(fn) : null;
  if (lambda?.type === 'lambda') return lambda.childForFieldName('body');
  // `keys.map(_copy_command)`: what a function of the file returns (its one return)
  const def = lambda?.type === 'identifier' ? visibleFunction(v, lambda.text) : null;
  const returns = def ? returnedValues(def) : [];
  return returns.length === 1 ? returns[0] : null;
}

/**
 * `expand(bash_command=make_cmds())`: the commands a function of this file returns as a list — the elements of a
 * returned list literal, the element of a returned list comprehension, or what a returned name was given (its
 * literal, and each `.append(…)`/`+=` after it).
 */
function commandsReturnedBy(v: SyntaxNode, ctx: RuleContext): { node: SyntaxNode; fn: string }[] {
  // `cmds = build_commands(…)` … `.expand(bash_command=cmds)`
  if (v.type === 'identifier') {
    const b = singleBinding(v);
    if (b?.type === 'call') v = b;
  }
  if (v.type !== 'call') return [];
  const f = v.childForFieldName('function');
  if (f?.type !== 'identifier') return [];
  const def = ctx.root.descendantsOfType('function_definition').find((d) => d.childForFieldName('name')?.text === f.text);
  const body = def?.childForFieldName('body');
  if (!body) return [];
  const out: { node: SyntaxNode; fn: string }[] = [];
  const stack: SyntaxNode[] = [body];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'function_definition' || n.type === 'class_definition' || n.type === 'lambda') continue;
    if (n.type === 'return_statement') {
      const r = n.namedChildren[0] ? unwrap(n.namedChildren[0]) : null;
      if (r?.type === 'list_comprehension') {
        const b = r.childForFieldName('body');
        if (b) out.push({ node: b, fn: f.text });
      } else if (r?.type === 'list') {
        for (const it of r.namedChildren) if (it.type !== 'comment') out.push({ node: it, fn: f.text });
      } else if (r?.type === 'identifier') {
        // `cmds = []` … `cmds.append(f"… {key}")` … `return cmds`: each appended command
        for (const d of resolveName(r)) {
          const u = unwrap(d);
          if (u.type === 'list' || u.type === 'tuple') {
            for (const it of u.namedChildren) if (it.type !== 'comment') out.push({ node: it, fn: f.text });
          } else if (u.type === 'list_comprehension') {
            const b = u.childForFieldName('body');
            if (b) out.push({ node: b, fn: f.text });
          } else out.push({ node: d, fn: f.text });
        }
      }
      continue;
    }
    for (const ch of n.namedChildren) stack.push(ch);
  }
  return out;
}

/** Scripts of `[shell, -c, script]` argv lists nested in dicts, lists and names bound to them (bounded depth). */
function argvScriptsIn(node: SyntaxNode, depth: number): SyntaxNode[] {
  if (depth > 6) return [];
  let n = unwrap(node);
  if (n.type === 'identifier') {
    const v = resolveName(n);
    if (v.length !== 1) return [];
    n = unwrap(v[0]);
  }
  if (n.type === 'dictionary') return n.namedChildren.flatMap((p) => (p.type === 'pair' ? argvScriptsIn(p.childForFieldName('value')!, depth + 1) : []));
  if (n.type === 'list' || n.type === 'tuple') {
    const items = n.namedChildren.filter((c) => c.type !== 'comment');
    const s = shellScriptInArgv(items);
    return s ? [s] : items.flatMap((c) => argvScriptsIn(c, depth + 1));
  }
  if (n.type === 'call') {
    return (n.childForFieldName('arguments')?.namedChildren ?? []).flatMap((a) => (a.type === 'keyword_argument' ? argvScriptsIn(a.childForFieldName('value')!, depth + 1) : []));
  }
  return [];
}

function findShellScripts(call: SyntaxNode, ctx: RuleContext): ShellScript[] {
  let q: string | null = null;
  // dynamic task mapping: Op.partial(…) and Op.partial(…).expand(bash_command=[…])
  let mapped = false;
  const f = call.childForFieldName('function');
  const mapMethod = f?.type === 'attribute' ? f.childForFieldName('attribute')?.text : undefined;
  if (mapMethod === 'expand' || mapMethod === 'expand_kwargs') {
    q = mappedOperator(call, ctx);
    mapped = q !== null;
  } else {
    q = ctx.callee(call);
    if (q && q.endsWith('.partial')) q = q.slice(0, -'.partial'.length);
  }
  if (!q) return [];
  const kind = SHELL_OPERATORS.get(q);
  const op = q.split('.').pop()!;
  if (!kind) {
    if (!NESTED_ARGV_OPERATORS.has(op) || !q.startsWith('airflow.')) return [];
    // argv lists anywhere in the operator's arguments (`steps=[{"HadoopJarStep": {"Args": ["bash", "-c", …]}}]`)
    const out: ShellScript[] = [];
    const inner = mapped && f?.type === 'attribute' ? unwrap(f.childForFieldName('object')!) : call;
    for (const c of [call, inner]) {
      for (const a of c.childForFieldName('arguments')?.namedChildren ?? []) {
        if (a.type !== 'keyword_argument') continue;
        const name = a.childForFieldName('name')!.text;
        for (const s of argvScriptsIn(a.childForFieldName('value')!, 0)) out.push({ node: s, label: `the \`sh -c\` command in \`${name}\` of ${op}` });
      }
      if (c === inner) break;
    }
    return out;
  }
  const keyword = (name: string) => keywordArgument(call, name, ctx);
  const out: ShellScript[] = [];
  if (kind === 'bash' || kind === 'ssh' || kind === 'winrm') {
    const kw = SCRIPT_KEYWORD[kind];
    if (mapped && mapMethod === 'expand_kwargs') {
      // `.expand_kwargs([{"bash_command": …}, …])`, a comprehension of such dicts, or a local task returning them
      const arg = callArgs(call).positional[0];
      const v = arg ? unwrap(arg) : null;
      const dicts: SyntaxNode[] = [];
      if (v?.type === 'list') dicts.push(...v.namedChildren);
      else if (v?.type === 'list_comprehension') dicts.push(v.childForFieldName('body')!);
      else if (v) dicts.push(...commandsReturnedBy(v, ctx).map((r) => r.node));
      for (const d of dicts) {
        if (unwrap(d).type !== 'dictionary') continue;
        for (const pair of unwrap(d).namedChildren) {
          if (pair.type === 'pair' && stringValue(pair.childForFieldName('key')) === kw) out.push({ node: pair.childForFieldName('value')!, label: `a mapped \`${kw}\` of ${op}` });
        }
      }
      return out;
    }
    const v = keyword(kw);
    if (v && mapped) {
      // each element of the mapped list is one task's command
      const items = unwrap(v).type === 'list' || unwrap(v).type === 'tuple' ? unwrap(v).namedChildren.filter((c) => c.type !== 'comment') : null;
      for (const it of items ?? []) out.push({ node: it, label: `a mapped \`${kw}\` of ${op}` });
      // commands built per mapped element: `upstream_output.map(lambda f: f"… {f}")`, `[f"… {x}" for x in xs]`
      const built = mappedCommandBody(unwrap(v));
      if (built) out.push({ node: built, label: `each mapped \`${kw}\` of ${op}` });
      // the list a task of this file returns: `expand(bash_command=make_cmds())` with `return [f"… {f}" for f in …]`
      for (const r of commandsReturnedBy(unwrap(v), ctx)) out.push({ node: r.node, label: `each mapped \`${kw}\` of ${op} (returned by \`${r.fn}\`)` });
    } else if (v) out.push({ node: v, label: `\`${kw}\` of ${op}` });
    return out;
  }
  if (kind === 'docker') {
    const command = keyword('command');
    const entrypoint = keyword('entrypoint');
    if (!command) return out;
    const label = `\`command\` of ${op}`;
    const ep = entrypoint ? (listElements(entrypoint, ctx) ?? null) : null;
    const epText = entrypoint ? stringValue(entrypoint) : null;
    const shellEntrypoint =
      (ep !== null && ep.length >= 2 && isShellProgram(stringValue(ep[0])) && isShellCommandFlag(stringValue(ep[ep.length - 1]))) ||
      (epText !== null && startsWithShellC(epText + ' '));
    const list = listElements(command, ctx);
    if (list) {
      if (shellEntrypoint && list[0]) out.push({ node: list[0], label });
      else {
        const s = shellScriptInArgv(list);
        if (s) out.push({ node: s, label });
      }
    } else if (shellEntrypoint || startsWithShellC(leadingText(command))) {
      out.push({ node: command, label });
    } else if (!entrypoint) {
      out.push({ node: command, label, argv: true });
    }
    return out;
  }
  // k8s: the container's argv is cmds + arguments
  const cmds = listElements(keyword('cmds'), ctx) ?? [];
  const argList = listElements(keyword('arguments'), ctx) ?? [];
  const argv = [...cmds, ...argList];
  const s = shellScriptInArgv(argv);
  if (s) out.push({ node: s, label: isShellProgram(stringValue(argv[0])) ? `the \`sh -c\` script of ${op}` : `the inline code (\`${stringValue(argv[0])} ${stringValue(argv[argv.indexOf(s) - 1])}\`) of ${op}` });
  return out;
}
