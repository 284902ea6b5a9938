import type { SyntaxNode } from 'tree-sitter';

/**
 * Does this node run when Airflow imports the file (parse time), rather than later in a task?
 *
 * Module and class bodies run at import; function and lambda bodies do not (a lambda called where it is written,
 * `(lambda: …)()`, does), but their decorators and
 * default values do — except the body of a `@dag` function, which Airflow runs while it imports the file to build
 * the DAG (`@dag def pipeline(): …` then `pipeline()`; the `@task` functions defined in it still run later).
 * `if __name__ == "__main__":` never runs under DagBag (the module name is mangled).
 */
export function isParseTime(node: SyntaxNode): boolean {
  let child = node;
  let parent = node.parent;
  while (parent) {
    switch (parent.type) {
      case 'function_definition': {
        const body = parent.childForFieldName('body');
        if (body && child.id === body.id && !isDagFunction(parent)) return false;
        break;
      }
      case 'lambda': {
        const body = parent.childForFieldName('body');
        if (body && child.id === body.id && !isInvokedLambda(parent)) return false;
        break;
      }
      case 'if_statement': {
        const cond = parent.childForFieldName('condition');
        const cons = parent.childForFieldName('consequence');
        if (cond && cons && child.id === cons.id && isMainGuard(cond)) return false;
        break;
      }
      default:
        break;
    }
    child = parent;
    parent = parent.parent;
  }
  return true;
}

/** `(lambda: …)()`: a lambda called where it is written, whose body runs there. */
export function isInvokedLambda(lambda: SyntaxNode): boolean {
  let fn = lambda;
  let p = lambda.parent;
  while (p?.type === 'parenthesized_expression') {
    fn = p;
    p = p.parent;
  }
  return p?.type === 'call' && p.childForFieldName('function')?.id === fn.id;
}

const DAG_DECORATOR = /^@\s*(?:[A-Za-z_]\w*\s*\.\s*)*dag\s*(?:\(|$)/;

/** A function decorated with Airflow's `@dag` / `@dag(…)` (`airflow.decorators.dag`, `airflow.sdk.dag`). */
export function isDagFunction(fn: SyntaxNode): boolean {
  const d = fn.parent;
  return d?.type === 'decorated_definition' && d.namedChildren.some((c) => c.type === 'decorator' && DAG_DECORATOR.test(c.text));
}

function isMainGuard(cond: SyntaxNode): boolean {
  return /^__name__\s*==\s*["']__main__["']$|^["']__main__["']\s*==\s*__name__$/.test(cond.text);
}

/** The nearest enclosing function definition, if any. */
export function enclosingFunction(node: SyntaxNode): SyntaxNode | null {
  let p = node.parent;
  while (p) {
    if (p.type === 'function_definition') return p;
    p = p.parent;
  }
  return null;
}

/**
 * Line span of the statement that holds a node: the span a suppression comment may sit on.
 * For compound statements (def/with/if...) only the header counts, not the whole body.
 */
export function statementSpan(node: SyntaxNode): { start: number; end: number } {
  let n = node;
  while (n.parent && n.parent.type !== 'block' && n.parent.type !== 'module') n = n.parent;
  const body = n.childForFieldName('body') ?? n.childForFieldName('consequence');
  const start = n.startPosition.row + 1;
  if (body && body.startPosition.row > n.startPosition.row) {
    return { start, end: Math.max(start, body.startPosition.row) };
  }
  if (n.type === 'decorated_definition') {
    const def = n.childForFieldName('definition');
    const defBody = def?.childForFieldName('body');
    if (defBody) return { start, end: Math.max(start, defBody.startPosition.row) };
  }
  return { start, end: n.endPosition.row + 1 };
}

/**
 * Index ranges [start, end) of the code in a file that does not run at import: function (but not `@dag`) and lambda
 * bodies and `if __name__ == "__main__":` blocks. Found from the text (`def`, `lambda`, `__main__`) and confirmed in the tree,
 * so the cost is a few node accesses per function, not a walk. `isParseTime` above gives the same answers.
 */
export function deferredRanges(text: string, root: SyntaxNode): [number, number][] {
  const out: [number, number][] = [];
  const re = /\b(def|lambda)\b/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const kw = root.descendantForIndex(m.index, m.index + m[1].length);
    const owner = kw.parent;
    if (!owner || kw.startIndex !== m.index) continue;
    if ((m[1] === 'def' && owner.type === 'function_definition' && !isDagFunction(owner)) || (m[1] === 'lambda' && owner.type === 'lambda' && !isInvokedLambda(owner))) {
      const body = owner.childForFieldName('body');
      if (body) out.push([body.startIndex, body.endIndex]);
    }
  }
  if (text.includes('__main__')) {
    const guard = /\bif[ \t]+\(?[ \t]*(?:__name__[ \t]*==[ \t]*["']__main__["']|["']__main__["'][ \t]*==[ \t]*__name__)/g;
    for (let m = guard.exec(text); m; m = guard.exec(text)) {
      const kw = root.descendantForIndex(m.index, m.index + 2);
      const stmt = kw.parent;
      if (!stmt || stmt.type !== 'if_statement' || kw.startIndex !== m.index) continue;
      const cond = stmt.childForFieldName('condition');
      const body = stmt.childForFieldName('consequence');
      if (cond && body && isMainGuard(cond)) out.push([body.startIndex, body.endIndex]);
    }
  }
  return out;
}

/** Compound statements whose blocks open no scope: what is defined in them belongs to the enclosing scope. */
const NO_SCOPE = new Set(['with_statement', 'if_statement', 'elif_clause', 'else_clause', 'for_statement', 'while_statement', 'try_statement', 'except_clause', 'finally_clause', 'block']);

/**
 * The statements of a scope's block (the module, a function body), with those of its nested `with`, `if`, `for`,
 * `while` and `try` blocks: in Python these open no scope, so a `def` inside `with DAG(...) as dag:` at module level
 * is a module-level function. Nested functions and classes are statements here, not descended into.
 */
export function scopeStatements(block: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const visit = (b: SyntaxNode): void => {
    for (const s of b.namedChildren) {
      if (NO_SCOPE.has(s.type)) visit(s);
      else out.push(s);
    }
  };
  visit(block);
  return out;
}
