/**
 * Values checked before use: `if t not in TABLES: raise`, `assert t in TABLES`, `if not re.fullmatch(r"[a-z_]+", t):
 * raise`, or the use inside `if t in TABLES:`. Provenance (provenance.ts) treats a name so checked as safe.
 *
 * The committer is the attacker (SECURITY.md): a check counts only when it really restricts the value, because
 * anything that looks like a check silences DG201/DG202/DG204/DG250. So:
 * - the allow list is a constant collection written in the file (a set, list, tuple or dict of constants, directly or
 *   through a name bound only to one), and that name appears nowhere else than in its binding and in membership
 *   tests — `t in t`, `t in dag_run.conf["allowed"]`, an object whose `__contains__` says yes, or a set grown with
 *   `.add(conf[...])` (or handed to any function) is no allow list;
 * - the pattern is a constant whose every match is made of `[A-Za-z0-9_.:-]` (no `.` wildcard, no `\s`, no negated
 *   class), matched whole (`re.fullmatch`, or `re.match` anchored with `$`/`\Z`);
 * - the name is not bound again between the check and the use.
 */
import type { SyntaxNode } from 'tree-sitter';
import { defineService, type RuleContext } from '../engine/context';
import { isConstant, stringValue, unwrap } from '../engine/python';
import { resolveName } from './provenance';

/**
 * The statements of a block that may check a value for the statements after them (`assert …`, an `if` without
 * `else` whose body ends in `raise`/`return`), by block: found once per block, not once per name used in it (a long
 * function made every name's question walk all its statements again: quadratic).
 */
const BLOCK_CHECKS = defineService('airflow: checking statements by block', () => new Map<number, SyntaxNode[]>());

/**
 * Whether the file's text could hold a check of this name at all — `name in …`/`name not in …` (parentheses
 * allowed), or a `re.match`/`re.fullmatch` call — by name: climbing from every use costs a native call per
 * ancestor, and most names are never checked.
 */
const MAY_BE_CHECKED = defineService('airflow: names the file may check', (ctx) => {
  const text = ctx.file.text;
  const tested = new Set<string>();
  for (const m of text.matchAll(/(?<![\w.])([A-Za-z_]\w*)\)*\s*(?:not\s+)?in\b/g)) tested.add(m[1]);
  return { anyMatch: /\bre\s*\.\s*(?:full)?match\s*\(/.test(text), tested };
});

function mayBeChecked(name: string, ctx: RuleContext): boolean {
  const m = ctx.use(MAY_BE_CHECKED);
  return m.anyMatch || m.tested.has(name);
}

function checksIn(block: SyntaxNode, ctx: RuleContext): SyntaxNode[] {
  const memo = ctx.use(BLOCK_CHECKS);
  let checks = memo.get(block.id);
  if (checks) return checks;
  checks = [];
  for (const st of block.namedChildren) {
    if (st.type === 'assert_statement') checks.push(st);
    else if (st.type === 'if_statement' && !st.childForFieldName('alternative')) {
      const body = st.childForFieldName('consequence');
      const last = body?.namedChildren[body.namedChildren.length - 1];
      if (last?.type === 'raise_statement' || last?.type === 'return_statement') checks.push(st);
    }
  }
  memo.set(block.id, checks);
  return checks;
}

/** Is `use` (an identifier) checked by a real allow list or strict pattern before it is used, in its function? */
export function isAllowListed(use: SyntaxNode, defs: SyntaxNode[], ctx: RuleContext): boolean {
  const name = use.text;
  if (!mayBeChecked(name, ctx)) return false;
  const fileText = ctx.file.text;
  for (let child: SyntaxNode = use, p = use.parent; p; child = p, p = p.parent) {
    if (p.type === 'function_definition' || p.type === 'lambda' || p.type === 'module') break;
    if (p.type === 'if_statement' && p.childForFieldName('consequence')?.id === child.id) {
      const cond = p.childForFieldName('condition');
      if (cond && admits(cond, name, fileText) && checkCovers(p, defs)) return true;
    }
    if (p.type !== 'block') continue;
    for (const st of checksIn(p, ctx)) {
      if (st.startIndex >= child.startIndex) break;
      if (st.type === 'assert_statement') {
        const cond = st.namedChildren[0];
        if (cond && admits(cond, name, fileText) && checkCovers(st, defs)) return true;
        continue;
      }
      const cond = st.childForFieldName('condition');
      if (cond && rejects(cond, name, fileText) && checkCovers(st, defs)) return true;
    }
  }
  return false;
}

/** Every value the name may hold at the use was bound before the check (no rebinding in between). */
function checkCovers(check: SyntaxNode, defs: SyntaxNode[]): boolean {
  return defs.length > 0 && defs.every((d) => d.endIndex <= check.startIndex);
}

/** A condition true only for allowed values of `name`: `name in ALLOWED`, `re.fullmatch(P, name)`. */
function admits(cond: SyntaxNode, name: string, fileText: string): boolean {
  const c = unwrap(cond);
  // `name in ALLOWED and …`: both hold in the branch, so the allow list does
  if (c.type === 'boolean_operator' && boolOp(c) === 'and') return [c.childForFieldName('left'), c.childForFieldName('right')].some((x) => !!x && admits(x, name, fileText));
  if (c.type === 'comparison_operator') return membership(c, name) === 'in' && isAllowList(c.namedChildren[1], fileText);
  if (c.type === 'call') return isStrictMatch(c, name);
  return false;
}

/** A condition true for every value outside the allow list: `name not in ALLOWED`, `not (name in ALLOWED)`, `not re.fullmatch(P, name)`. */
function rejects(cond: SyntaxNode, name: string, fileText: string): boolean {
  const c = unwrap(cond);
  // `if name not in ALLOWED or not P.match(name): raise`: past it, neither holds, so the allow list admits the value
  if (c.type === 'boolean_operator' && boolOp(c) === 'or') return [c.childForFieldName('left'), c.childForFieldName('right')].some((x) => !!x && rejects(x, name, fileText));
  if (c.type === 'comparison_operator') return membership(c, name) === 'not in' && isAllowList(c.namedChildren[1], fileText);
  if (c.type === 'not_operator') {
    const arg = c.childForFieldName('argument');
    return !!arg && admits(arg, name, fileText);
  }
  return false;
}

function boolOp(c: SyntaxNode): string | undefined {
  return c.childForFieldName('operator')?.text ?? c.children.find((x) => !x.isNamed)?.text;
}

/** `name in X` / `name not in X` (two operands only). */
function membership(c: SyntaxNode, name: string): 'in' | 'not in' | null {
  const ops = c.namedChildren;
  if (ops.length !== 2 || unwrap(ops[0]).type !== 'identifier' || unwrap(ops[0]).text !== name) return null;
  const between = c.text.slice(ops[0].endIndex - c.startIndex, ops[1].startIndex - c.startIndex).replace(/[\s()]+/g, ' ').trim();
  return between === 'in' ? 'in' : between === 'not in' ? 'not in' : null;
}

/** A constant collection literal, or a name bound only to one and used only in membership tests. */
function isAllowList(node: SyntaxNode | undefined, fileText: string): boolean {
  if (!node) return false;
  const n = unwrap(node);
  if (n.type === 'identifier') {
    const defs = resolveName(n);
    return defs.length > 0 && defs.every((d) => isConstantCollection(d)) && onlyTested(n.text, fileText);
  }
  return isConstantCollection(n);
}

function isConstantCollection(node: SyntaxNode): boolean {
  let n = unwrap(node);
  // frozenset({...}), set([...]), tuple([...])
  if (n.type === 'call' && /^(?:frozenset|set|tuple|list)$/.test(n.childForFieldName('function')?.text ?? '')) {
    const args = n.childForFieldName('arguments')?.namedChildren ?? [];
    if (args.length !== 1) return false;
    n = unwrap(args[0]);
  }
  if (n.type === 'set' || n.type === 'list' || n.type === 'tuple') return n.namedChildren.length > 0 && n.namedChildren.every((e) => isConstant(unwrap(e)));
  if (n.type === 'dictionary') {
    return n.namedChildren.length > 0 && n.namedChildren.every((p) => p.type === 'pair' && isConstant(unwrap(p.childForFieldName('key')!)));
  }
  return false;
}

/**
 * The allow list's name appears only where it is bound (`NAME = {...}`), tested (`in NAME`, `not in NAME`) or read
 * (`NAME[k]`, `NAME.get(k)`, `sorted(NAME)`): no `.add(…)`, `|=`, item assignment, and no call that could grow it.
 */
function onlyTested(name: string, text: string): boolean {
  const esc = name.replace(/[$]/g, '\\$');
  for (const m of text.matchAll(new RegExp(`(?<![\\w.])${esc}(?!\\w)`, 'g'))) {
    const before = text.slice(Math.max(0, m.index! - 8), m.index!);
    const after = text.slice(m.index! + name.length, m.index! + name.length + 200);
    if (/\bin\s+$/.test(before)) continue; // `in NAME` (and `not in NAME`, `for x in NAME`)
    // named in a comment or in documentation markup (``NAME`` in a docstring): no use
    if (text.slice(text.lastIndexOf('\n', m.index!) + 1, m.index!).includes('#') || /`$/.test(before)) continue;
    if (/^\s*(?::[^=\n]*)?=(?!=)/.test(after) && /(?:^|\n)[ \t]*$/.test(before)) continue; // `NAME = …` at a statement start
    // reads that cannot change it: `NAME[k]` (not assigned to), `NAME.get(…)`/`.keys()`/`.items()`/`.values()`,
    // `sorted(NAME)`, `len(NAME)`, `list(NAME)`, `tuple(NAME)`
    if (/^\s*\.\s*(?:get|keys|items|values|copy)\s*\(/.test(after)) continue;
    if (/^\s*\[[^\]\n]*\](?!\s*(?:[-+*/|&^%@]|\/\/|<<|>>|\*\*)?=(?!=))/.test(after)) continue;
    if (/\b(?:sorted|len|list|tuple|frozenset|set|enumerate|iter)\(\s*$/.test(text.slice(Math.max(0, m.index! - 12), m.index!)) && /^\s*\)/.test(after)) continue;
    return false;
  }
  return true;
}

/** `re.fullmatch(P, name)` (or `re.match(P, name)` with P anchored at the end) where P admits only safe characters. */
function isStrictMatch(call: SyntaxNode, name: string): boolean {
  const fn = call.childForFieldName('function')?.text ?? '';
  if (fn !== 're.fullmatch' && fn !== 're.match') return false;
  const args = call.childForFieldName('arguments')?.namedChildren ?? [];
  if (args.length !== 2 || unwrap(args[1]).type !== 'identifier' || unwrap(args[1]).text !== name) return false;
  const pattern = stringValue(unwrap(args[0]));
  if (pattern === null) return false;
  if (fn === 're.match' && !/(?:\$|\\Z)$/.test(pattern)) return false;
  return patternIsStrict(pattern);
}

/** Characters a checked value may be made of: none is special to a shell or to SQL. */
const SAFE_CHAR = /^[A-Za-z0-9_.:-]$/;

/** Every string the pattern matches is made of SAFE_CHAR characters (conservative: unknown syntax is not strict). */
export function patternIsStrict(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      const e = p[++i];
      if (e === undefined) return false;
      if ('wdAZb'.includes(e)) continue; // \w, \d, anchors
      if ('.-_:'.includes(e)) continue; // an escaped literal such as \. or \- (an escaped letter is a class: \S, \s, \W)
      return false;
    }
    if (c === '[') {
      if (p[i + 1] === '^') return false;
      let j = i + 1;
      if (p[j] === ']') j++; // a leading ] is a literal
      for (; j < p.length && p[j] !== ']'; j++) {
        const x = p[j];
        if (x === '\\') {
          const e = p[++j];
          if (e === undefined || !'wd.-_:'.includes(e)) return false;
          continue;
        }
        if (p[j + 1] === '-' && p[j + 2] !== undefined && p[j + 2] !== ']') {
          const hi = p[j + 2];
          const ok = (/[a-z]/.test(x) && /[a-z]/.test(hi)) || (/[A-Z]/.test(x) && /[A-Z]/.test(hi)) || (/[0-9]/.test(x) && /[0-9]/.test(hi));
          if (!ok || x > hi) return false;
          j += 2;
          continue;
        }
        if (!SAFE_CHAR.test(x)) return false;
      }
      if (j >= p.length) return false;
      i = j;
      continue;
    }
    if (c === '(') {
      if (p[i + 1] === '?') {
        if (p[i + 2] === ':') {
          i += 2;
          continue;
        }
        if (p[i + 2] === 'P' && p[i + 3] === '<') {
          const close = p.indexOf('>', i);
          if (close < 0) return false;
          i = close;
          continue;
        }
        return false; // flags, lookarounds, conditionals: not analysed
      }
      continue;
    }
    if (c === '{') {
      const close = p.indexOf('}', i);
      if (close < 0 || !/^\{\d*(?:,\d*)?\}$/.test(p.slice(i, close + 1))) return false;
      i = close;
      continue;
    }
    if (')|?*+^$'.includes(c)) continue;
    if (c === '.') return false; // any character
    if (!SAFE_CHAR.test(c)) return false;
  }
  return true;
}
