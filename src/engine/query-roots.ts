/**
 * Node types at the root of each pattern of a tree-sitter query: `(call …) @c` -> call,
 * `((string) @s (#match? @s "x"))` -> string, `[(assignment …) (pair …)]` -> assignment, pair; `_` for `(_)`.
 * The engine runs a rule's query only on nodes of these types around the rule's text triggers.
 */
export function patternRootTypes(query: string): Set<string> {
  const toks = tokenize(query);
  const out = new Set<string>();
  let i = 0;
  // Top level: a sequence of patterns, each optionally followed by captures, quantifiers and predicates.
  while (i < toks.length) {
    const t = toks[i];
    if (t === '(' || t === '[') {
      rootsOf(toks, i, out);
      i = skipGroup(toks, i);
    } else i++;
  }
  return out;
}

function rootsOf(toks: string[], at: number, out: Set<string>): void {
  if (toks[at] === '[') {
    // Alternation: every member is a root.
    let i = at + 1;
    while (i < toks.length && toks[i] !== ']') {
      if (toks[i] === '(' || toks[i] === '[') {
        rootsOf(toks, i, out);
        i = skipGroup(toks, i);
      } else i++;
    }
    return;
  }
  const next = toks[at + 1];
  if (next === '(' || next === '[') {
    // Grouping `((type …) (#pred …))` or a sequence: the first member is the root.
    rootsOf(toks, at + 1, out);
    return;
  }
  if (next && /^[A-Za-z_][\w]*$/.test(next)) out.add(next);
}

function skipGroup(toks: string[], at: number): number {
  let depth = 0;
  for (let i = at; i < toks.length; i++) {
    if (toks[i] === '(' || toks[i] === '[') depth++;
    else if (toks[i] === ')' || toks[i] === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return toks.length;
}

function tokenize(q: string): string[] {
  const toks: string[] = [];
  for (let i = 0; i < q.length; ) {
    const c = q[i];
    if (c === ';') {
      while (i < q.length && q[i] !== '\n') i++;
    } else if (c === '"') {
      i++;
      while (i < q.length && q[i] !== '"') i += q[i] === '\\' ? 2 : 1;
      i++;
      toks.push('""');
    } else if ('()[]'.includes(c)) {
      toks.push(c);
      i++;
    } else if (/\s/.test(c)) i++;
    else {
      let j = i;
      while (j < q.length && !/[\s()[\]";]/.test(q[j])) j++;
      toks.push(q.slice(i, j));
      i = j;
    }
  }
  return toks;
}
