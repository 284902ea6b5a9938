/**
 * Python string building: the literal text of a string node, and the values spliced into it by f-strings, `%`,
 * `.format`, `+` and `join` (CommandParts).
 */
import type { SyntaxNode } from 'tree-sitter';
import { callArgs, isConstant, stringValue, unwrap } from '../engine/python';
import { resolveName, returnedValues, singleBinding, visibleFunction } from './provenance';

/** Literal text of one string node as Python produces it: `{{`/`}}` of f-strings (and `.format` templates) halved. */
export function literalText(node: SyntaxNode, halveBraces = false): string {
  const n = unwrap(node);
  if (n.type === 'concatenated_string') return n.namedChildren.map((c) => literalText(c, halveBraces)).join('');
  if (n.type !== 'string') return '';
  const prefix = n.firstChild?.text ?? '';
  const f = /f/i.test(prefix);
  let out = '';
  for (const c of n.namedChildren) if (c.type === 'string_content') out += c.text;
  if (!/r/i.test(prefix)) out = out.replace(/\\(["'\\])/g, '$1').replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return f || halveBraces ? out.replace(/\{\{/g, '{').replace(/\}\}/g, '}') : out;
}

/** Pieces of a command expression: literal template fragments and interpolated Python values. */
export interface CommandParts {
  /** String literals (with the text Python gives them), where Jinja may hide. */
  literals: { node: SyntaxNode; text: string }[];
  /** Values spliced in by Python formatting (f-string, `%`, `.format`, `+`, `join`). */
  values: SyntaxNode[];
  /** Was Python string building involved (as opposed to one plain literal)? */
  formatted: boolean;
}

/**
 * Splits a command expression into literal fragments and interpolated values, following names to their
 * assignment in the enclosing blocks. Plain names that can't be resolved are values.
 */
export function commandParts(node: SyntaxNode, depth = 0, acc?: CommandParts): CommandParts {
  const out = acc ?? { literals: [], values: [], formatted: false };
  const n = unwrap(node);
  // A comment between arguments (`dedent(  # Language="Shell Script"\n """…""")`) is no value.
  if (n.type === 'comment') return out;
  if (n.type === 'parenthesized_expression') {
    // `(  # note\n "a" "b")`: parentheses holding a comment besides the expression
    for (const c of n.namedChildren) commandParts(c, depth, out);
    return out;
  }
  // bound the work on pathological code (`x2 = x1 + x1; x3 = x2 + x2; …`)
  const budget = (out as CommandParts & { budget?: number }).budget ?? 400;
  (out as CommandParts & { budget?: number }).budget = budget - 1;
  if (depth > 6 || budget <= 0) {
    out.values.push(n);
    return out;
  }
  switch (n.type) {
    case 'string': {
      out.literals.push({ node: n, text: literalText(n) });
      for (const c of n.namedChildren) {
        if (c.type === 'interpolation') {
          out.formatted = true;
          const e = c.namedChildren.find((x) => x.type !== 'type_conversion' && x.type !== 'format_specifier');
          if (e) out.values.push(e);
        }
      }
      return out;
    }
    case 'concatenated_string':
      for (const c of n.namedChildren) commandParts(c, depth, out);
      return out;
    case 'binary_operator': {
      const op = n.childForFieldName('operator')?.type;
      const l = n.childForFieldName('left')!;
      const r = n.childForFieldName('right')!;
      if (op === '+') {
        if (!(isConstant(l) && isConstant(r))) out.formatted = true;
        commandParts(l, depth, out);
        commandParts(r, depth, out);
        return out;
      }
      if (op === '%') {
        out.formatted = true;
        const before = out.literals.length;
        commandParts(l, depth, out);
        const rr = unwrap(r);
        if (isScopeDict(rr)) {
          // `"… %(target)s" % vars()`: the names the template asks for
          const fields = out.literals.slice(before).flatMap((x) => [...x.text.matchAll(/%\((\w+)\)/g)].map((m) => m[1]));
          out.values.push(...scopeValues(n, fields, rr));
        } else if (rr.type === 'identifier' && resolveName(rr).length) {
          // `TEMPLATE % values` with `values = {…}` and `values["day"] = "{{ … }}"` after it: each value given
          for (const d of resolveName(rr)) {
            const u = unwrap(d);
            if (u.type === 'dictionary') {
              for (const p of u.namedChildren) if (p.type === 'pair') spliced(p.childForFieldName('value')!, depth, out);
            } else spliced(d, depth, out);
          }
        } else if (rr.type === 'tuple') for (const c of rr.namedChildren) { if (c.type !== 'comment') spliced(c, depth, out); }
        else if (rr.type === 'dictionary') {
          for (const p of rr.namedChildren) {
            if (p.type === 'comment') continue;
            const v = p.childForFieldName('value');
            if (v) spliced(v, depth, out);
            else out.values.push(p);
          }
        } else spliced(rr, depth, out);
        return out;
      }
      out.values.push(n);
      return out;
    }
    case 'conditional_expression': {
      const [a, , b] = n.namedChildren;
      if (a) commandParts(a, depth, out);
      if (b) commandParts(b, depth, out);
      return out;
    }
    case 'call': {
      const f = n.childForFieldName('function');
      if (f?.type === 'attribute') {
        const method = f.childForFieldName('attribute')?.text;
        const obj = unwrap(f.childForFieldName('object')!);
        // `TEMPLATE.format(…)` with `TEMPLATE = "…"` bound in an enclosing block: the same as the literal
        const template = method === 'format' ? formatTemplate(obj) : null;
        if (template) {
          out.formatted = true;
          out.literals.push({ node: template, text: literalText(template, true) });
          for (const a of n.childForFieldName('arguments')?.namedChildren ?? []) {
            if (a.type === 'keyword_argument') spliced(a.childForFieldName('value')!, depth, out);
            // `.format(**conf)`, `.format(*args)`: the values of the mapping or sequence
            else if (a.type === 'dictionary_splat' && isScopeDict(unwrap(a.namedChildren[0] ?? a))) {
              // `.format(**locals())`: the names the template's fields ask for
              const fields = [...literalText(template, true).matchAll(/\{(\w+)/g)].map((m) => m[1]);
              out.values.push(...scopeValues(n, fields, a));
            } else if (a.type === 'dictionary_splat' || a.type === 'list_splat') out.values.push(a.namedChildren[0] ?? a);
            else if (a.type !== 'comment') spliced(a, depth, out);
          }
          return out;
        }
        if (method === 'join' && (obj.type === 'string' || obj.type === 'concatenated_string')) {
          const arg = n.childForFieldName('arguments')?.namedChildren[0];
          // `" ".join(PARTS)` with `PARTS = [...]` bound before: the same as the list written in place
          const items = arg ? boundSequence(unwrap(arg)) : null;
          if (items && (items.type === 'list' || items.type === 'tuple')) {
            for (const c of items.namedChildren) commandParts(c, depth, out);
            if (!isConstant(items)) out.formatted = true;
            return out;
          }
          // `" ".join(parts_of("{{ params.x }}"))`: the parts a helper of this file returns
          if (items?.type === 'call' && items.childForFieldName('function')?.type === 'identifier') {
            out.formatted = true;
            return commandParts(items, depth + 1, out);
          }
        }
        if (method === 'strip' || method === 'rstrip' || method === 'lstrip' || method === 'replace' || method === 'dedent') {
          return commandParts(obj, depth, out);
        }
      }
      if (f && /(^|\.)dedent$/.test(f.text)) {
        const a = callArgs(n).positional[0];
        if (a) return commandParts(a, depth, out);
      }
      // a helper of this file that returns a command built from its parameters (`wrap("{{ dag_run.conf.x }}")`):
      // the literal text passed for those parameters is text of the command (Jinja included)
      if (f?.type === 'identifier') out.literals.push(...helperArgumentLiterals(n, f.text), ...helperReturnLiterals(n, f.text, depth));
      out.values.push(n);
      return out;
    }
    case 'identifier': {
      const defs = resolveName(n);
      if (defs.length === 0) {
        out.values.push(n);
        return out;
      }
      for (const d of defs) commandParts(d, depth + 1, out);
      if (defs.length > 1) out.formatted = true; // `cmd += …`
      return out;
    }
    default:
      out.values.push(n);
      return out;
  }
}

/** `locals()`, `vars()`, `globals()`: the names in scope, as a mapping. */
function isScopeDict(n: SyntaxNode): boolean {
  if (n.type !== 'call') return false;
  const f = n.childForFieldName('function');
  return !!f && f.type === 'identifier' && /^(locals|vars|globals)$/.test(f.text) && callArgs(n).positional.length === 0;
}

/**
 * The values of the names a template asks of `locals()`/`vars()`/`globals()` at `at`: for each name, the last
 * occurrence before it in the enclosing function (or module) — the value assigned there when it is an assignment's
 * target, else the name itself (a parameter, a loop variable, a use), which provenance follows.
 */
function scopeValues(at: SyntaxNode, names: string[], mapping: SyntaxNode): SyntaxNode[] {
  if (!names.length) return [mapping];
  let scope: SyntaxNode = at;
  while (scope.parent && scope.type !== 'function_definition') scope = scope.parent;
  const wanted = new Set(names);
  const last = new Map<string, SyntaxNode>();
  for (const id of scope.descendantsOfType('identifier')) {
    if (id.startIndex >= at.startIndex) break;
    const p = id.parent;
    // the name itself: not an attribute spelled the same (`x.name`), nor anything directly under a keyword argument
    const named = p?.type !== 'keyword_argument' && (p?.type !== 'attribute' || p.childForFieldName('object')?.id === id.id);
    if (wanted.has(id.text) && named) last.set(id.text, id);
  }
  const values: SyntaxNode[] = [];
  for (const name of names) {
    const id = last.get(name);
    if (!id) {
      values.push(mapping); // a name the file does not show: of unknown origin
      continue;
    }
    const a = id.parent;
    values.push(a?.type === 'assignment' && a.childForFieldName('left')?.id === id.id ? a.childForFieldName('right')! : id);
  }
  return values;
}

/** A value spliced in by `%` or `.format`: a string literal is text of the command (Jinja in it renders too). */
function spliced(v: SyntaxNode, depth: number, out: CommandParts): void {
  const u = unwrap(v);
  if (u.type === 'string' && !u.namedChildren.some((c) => c.type === 'interpolation')) commandParts(u, depth, out);
  else if (u.type === 'concatenated_string' && isConstant(u)) commandParts(u, depth, out);
  else out.values.push(v);
}

/** A list or tuple literal, or a name bound to exactly one (and not grown after), else the node itself. */
function boundSequence(node: SyntaxNode): SyntaxNode {
  const v = node.type === 'identifier' ? singleBinding(node) : null;
  return v && (v.type === 'list' || v.type === 'tuple') ? v : node;
}

/** The template string of `X.format(…)`: a literal, or a name bound to one literal before the call. */
function formatTemplate(obj: SyntaxNode): SyntaxNode | null {
  if (obj.type === 'string' || obj.type === 'concatenated_string') return obj;
  const v = obj.type === 'identifier' ? singleBinding(obj) : null;
  return v && (v.type === 'string' || v.type === 'concatenated_string') ? v : null;
}

/**
 * String literals passed to a module-level function of the file for parameters that its `return` expressions use:
 * the text they put into the value the call returns.
 */
function helperArgumentLiterals(call: SyntaxNode, name: string): { node: SyntaxNode; text: string }[] {
  const def = visibleFunction(call, name);
  const body = def?.childForFieldName('body');
  if (!def || !body || (call.startIndex >= def.startIndex && call.endIndex <= def.endIndex)) return [];
  const params = (def.childForFieldName('parameters')?.namedChildren ?? []).map((p) => (p.type === 'identifier' ? p.text : p.childForFieldName('name')?.text ?? p.namedChildren[0]?.text ?? ''));
  // the names the returns are made of, and what flows into them inside the body: `parts = [_flag("x", x)]`,
  // `parts.append(…)`, `cmd += …` (a small fixpoint over the body's own statements)
  const reaching = new Set<string>();
  const flows: [string, SyntaxNode][] = [];
  const stack: SyntaxNode[] = [body];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.type === 'function_definition' || x.type === 'class_definition' || x.type === 'lambda') continue;
    if (x.type === 'return_statement') {
      for (const id of x.descendantsOfType('identifier')) reaching.add(id.text);
      continue;
    }
    if (x.type === 'assignment' || x.type === 'augmented_assignment') {
      const l = x.childForFieldName('left');
      const r = x.childForFieldName('right');
      if (l?.type === 'identifier' && r) flows.push([l.text, r]);
    } else if (x.type === 'call') {
      const f = x.childForFieldName('function');
      const o = f?.type === 'attribute' ? f.childForFieldName('object') : null;
      if (o?.type === 'identifier' && /^(append|extend|insert|add|update)$/.test(f!.childForFieldName('attribute')?.text ?? '')) flows.push([o.text, x.childForFieldName('arguments') ?? x]);
    }
    for (const ch of x.namedChildren) stack.push(ch);
  }
  for (let changed = true, rounds = 0; changed && rounds < 8; rounds++) {
    changed = false;
    for (const [target, value] of flows) {
      if (!reaching.has(target)) continue;
      for (const id of value.descendantsOfType('identifier')) if (!reaching.has(id.text)) (reaching.add(id.text), (changed = true));
    }
  }
  const used = new Set(params.filter((p) => reaching.has(p)));
  const args = callArgs(call);
  const out: { node: SyntaxNode; text: string }[] = [];
  for (const p of used) {
    const a = args.keywords.get(p) ?? args.positional[params.indexOf(p)];
    const v = a ? unwrap(a) : null;
    if (v && v.type === 'string') out.push({ node: v, text: literalText(v) });
  }
  return out;
}

/**
 * The literal text a helper of this file returns (`return MERGE_SQL % values` with a Jinja expression among the
 * values): Airflow renders whatever the helper built, so its template text is text of the field. Literals only — the
 * values the helper formats in are judged through its parameters (provenance), not here.
 */
function helperReturnLiterals(call: SyntaxNode, name: string, depth: number): { node: SyntaxNode; text: string }[] {
  if (depth > 2) return [];
  const def = visibleFunction(call, name);
  if (!def || (call.startIndex >= def.startIndex && call.endIndex <= def.endIndex)) return [];
  const out: { node: SyntaxNode; text: string }[] = [];
  for (const r of returnedValues(def)) out.push(...commandParts(r, depth + 1).literals.filter((l) => l.text.includes('{{') || l.text.includes('{%')));
  return out;
}

/**
 * The one constant string an expression makes, through what spreads a secret out: names bound once, `+` of pieces,
 * `"sep".join(…)` of a list or tuple (in place or bound to a name: `"".join(_PW_PARTS)`), and the element of a tuple
 * that a function of the file returns and the caller unpacks (`user, pw = _credentials()`). Null when any part is not
 * a constant.
 */
export function constantText(node: SyntaxNode, depth = 0): string | null {
  const direct = stringValue(node);
  if (direct !== null || depth > 6) return direct;
  const u = unwrap(node);
  if (u.type === 'binary_operator') {
    if (u.childForFieldName('operator')?.type !== '+') return null;
    const l = constantText(u.childForFieldName('left')!, depth + 1);
    const r = l === null ? null : constantText(u.childForFieldName('right')!, depth + 1);
    return l === null || r === null ? null : l + r;
  }
  if (u.type === 'call') {
    const f = u.childForFieldName('function');
    if (f?.type !== 'attribute' || f.childForFieldName('attribute')?.text !== 'join') return null;
    const sep = stringValue(f.childForFieldName('object'));
    const arg = callArgs(u).positional[0];
    let seq = arg ? unwrap(arg) : null;
    if (seq?.type === 'identifier') seq = singleBinding(seq);
    if (sep === null || !seq || (seq.type !== 'list' && seq.type !== 'tuple')) return null;
    const parts: string[] = [];
    for (const x of seq.namedChildren) {
      if (x.type === 'comment') continue;
      const v = constantText(x, depth + 1);
      if (v === null) return null;
      parts.push(v);
    }
    return parts.join(sep);
  }
  if (u.type !== 'identifier') return null;
  const def = unpackedFromHelper(u) ?? singleBinding(u);
  return def ? constantText(def, depth + 1) : null;
}

/** `user, pw = _credentials()` with `def _credentials(): return USER, "".join(PARTS)`: the element `pw` takes. */
function unpackedFromHelper(use: SyntaxNode): SyntaxNode | null {
  for (let b = use.parent; b; b = b.parent) {
    if (b.type !== 'block' && b.type !== 'module') continue;
    for (const st of b.namedChildren) {
      if (st.startIndex >= use.startIndex) break;
      const a = st.type === 'expression_statement' ? st.namedChildren[0] : null;
      const left = a?.type === 'assignment' ? a.childForFieldName('left') : null;
      if (!left || (left.type !== 'pattern_list' && left.type !== 'tuple_pattern')) continue;
      const i = left.namedChildren.findIndex((x) => x.type === 'identifier' && x.text === use.text);
      const right = a!.childForFieldName('right');
      const f = right?.type === 'call' ? right.childForFieldName('function') : null;
      if (i < 0 || f?.type !== 'identifier') continue;
      const def = visibleFunction(right!, f.text);
      const returns = def ? returnedValues(def) : [];
      if (returns.length !== 1) return null;
      const r = unwrap(returns[0]);
      const items = r.type === 'tuple' || r.type === 'expression_list' ? r.namedChildren.filter((x) => x.type !== 'comment') : [];
      return items[i] ?? null;
    }
  }
  return null;
}

/** A literal, or a name bound to exactly one literal, or a literal URL-encoded in place (`quote_plus("p@ss")`): its text; else null. */
export function literalOf(node: SyntaxNode): string | null {
  let n = unwrap(node);
  if (n.type === 'call') {
    const f = n.childForFieldName('function')?.text ?? '';
    const arg = callArgs(n).positional[0];
    if (!arg || !/(^|\.)(quote_plus|quote|str)$/.test(f)) return null;
    const v = literalOf(arg);
    return v === null || f.endsWith('str') ? v : encodeURIComponent(v).replace(/%20/g, '+');
  }
  if (n.type === 'identifier') {
    const v = singleBinding(n);
    if (!v) return null;
    n = v;
  }
  if (n.type !== 'string' || n.namedChildren.some((x) => x.type === 'interpolation')) return null;
  return stringValue(n);
}

/**
 * The text of an f-string or of `"…".format(…)` with every field whose value is a literal (or a name bound to one)
 * filled in and the others left as `{…}`; null when nothing was filled.
 */
export function foldedText(node: SyntaxNode): string | null {
  let filled = false;
  const fill = (v: SyntaxNode | undefined): string => {
    const t = v ? literalOf(v) : null;
    if (t === null) return '{…}';
    filled = true;
    return t;
  };
  if (node.type === 'string') {
    let out = '';
    for (const ch of node.namedChildren) {
      if (ch.type === 'string_content') out += ch.text;
      else if (ch.type === 'interpolation') out += fill(ch.namedChildren.find((x) => x.type !== 'type_conversion' && x.type !== 'format_specifier'));
    }
    return filled ? out : null;
  }
  const f = node.childForFieldName('function')!;
  const template = stringValue(f.childForFieldName('object'));
  if (template === null) return null;
  const args = callArgs(node);
  let auto = 0;
  const out = template.replace(/\{\{|\}\}|\{([^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}/g, (m, field: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const key = field ?? '';
    if (key === '') return fill(args.positional[auto++]);
    if (/^\d+$/.test(key)) return fill(args.positional[Number(key)]);
    return fill(args.keywords.get(key));
  });
  return filled ? out : null;
}
