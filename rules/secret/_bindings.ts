/**
 * Bindings of a name to a string in their many Python shapes (assignment, keyword, dict pair, default, comparison):
 * the query DG101 and DG104 share, and reading a binding from its captures.
 */
import { createHash } from 'node:crypto';
import type { SyntaxNode } from 'tree-sitter';
import { stringValue, unwrap } from '../../src/engine/python';
import { constantText } from '../../src/airflow/strings';
import type { RuleContext } from '../../src/engine/context';
import { KEY_PREFIXES } from './_names';

export interface Binding {
  /** The name as written: identifier, attribute name, dict key, keyword. */
  name: string;
  /** Constant string value. */
  value: string;
  /** Node to report (the value). */
  valueNode: SyntaxNode;
  kind: 'assignment' | 'keyword' | 'pair' | 'default' | 'compare' | 'call';
}

/**
 * Query patterns anchoring every binding shape; captures `@lhs` and `@val` (and `@kw` for keyword arguments,
 * `@cmp` for comparisons). No name predicate: the rule's keywords bring it near a secret-ish name, and the rule
 * decides with `nameStrength`.
 */
/**
 * BINDING_QUERY plus requests' basic-auth tuples (`auth=("user", "password")`, `session.auth = (…)`, elasticsearch's `basic_auth=`/`http_auth=`), captured as
 * `@authpw`. DG101 and DG104 use this same query, so the engine runs it once for both.
 */
export const SECRET_BINDING_QUERY = () => `${BINDING_QUERY}
(keyword_argument name: (identifier) @authkw value: (tuple . (_) @authuser . [(string) (concatenated_string)] @authpw .) (#match? @authkw "^(auth|basic_auth|http_auth|proxy_auth)$"))
(assignment left: (attribute attribute: (identifier) @authkw) right: (tuple . (_) @authuser . [(string) (concatenated_string)] @authpw .) (#match? @authkw "^(auth|basic_auth|http_auth|proxy_auth)$"))
(assignment left: (identifier) @authkw right: (tuple . (string) @authuser . [(string) (concatenated_string)] @authpw .) (#match? @authkw "^(auth|basic_auth|http_auth|proxy_auth)$"))
(assignment left: [(identifier) (attribute)] @clhs right: [(dictionary) (list) (tuple)] @container)`;

export const BINDING_QUERY = `
(assignment left: [(identifier) (attribute) (subscript)] @lhs right: [(string) (concatenated_string) (binary_operator) (parenthesized_expression) (call function: (attribute attribute: (identifier) @join) (#eq? @join "join"))] @val)
(assignment left: [(identifier) (attribute) (subscript)] @lhs right: (boolean_operator operator: "or" right: [(string) (concatenated_string)] @val) @fallback)
(keyword_argument name: (identifier) @lhs value: [(string) (concatenated_string) (binary_operator) (parenthesized_expression) (call function: (attribute attribute: (identifier) @join) (#eq? @join "join"))] @val) @kw
(pair key: [(string) (concatenated_string)] @lhs value: [(string) (concatenated_string) (binary_operator) (parenthesized_expression)] @val)
(default_parameter name: (identifier) @lhs value: [(string) (concatenated_string)] @val)
(typed_default_parameter name: (identifier) @lhs value: [(string) (concatenated_string)] @val)
(comparison_operator [(identifier) (attribute) (subscript)] @lhs [(string) (concatenated_string)] @val) @cmp
`;


/** Name fragments of every name `nameStrength` calls strong (a bare `key` is weak: it needs a prefix word). */
export const STRONG_NAME_FRAGMENTS = `pass|pwd|pw|secret|token|cred|contras|(?:${[...KEY_PREFIXES].join('|')})[_.\\- ]?keys?`;

/** The secret-bearing name of a binding's left-hand side. */
export function lhsName(lhs: SyntaxNode): string | null {
  const n = unwrap(lhs);
  switch (n.type) {
    case 'identifier':
      return n.text;
    case 'attribute':
      return n.childForFieldName('attribute')?.text ?? null;
    case 'subscript':
      return stringValue(n.childForFieldName('subscript'));
    case 'string':
    case 'concatenated_string':
      return stringValue(n);
    default:
      return null;
  }
}

/** Decode a binding match; null when it is not `name <- constant string`. */
export function bindingFromCaptures(c: Record<string, SyntaxNode[]>): Binding | null {
  const lhs = c.lhs?.[0];
  const val = c.val?.[0];
  if (!lhs || !val) return null;
  if (c.cmp && !/^(==|!=|is|is not)$/.test(cmpOperator(c.cmp[0]) ?? '')) return null;
  const name = lhsName(lhs);
  if (!name || name.length > 80) return null;
  const value = constantText(val);
  if (value === null) return null;
  return {
    name,
    value,
    valueNode: val,
    // on demand: `.parent` is one of tree-sitter's dearest questions, and most bindings are judged without it
    get kind(): Binding['kind'] {
      if (c.kw) return 'keyword';
      if (c.cmp) return 'compare';
      const t = lhs.parent?.type;
      return t === 'pair' ? 'pair' : t === 'assignment' ? 'assignment' : 'default';
    },
  };
}

function cmpOperator(cmp: SyntaxNode): string | null {
  for (const ch of cmp.children) if (!ch.isNamed) return ch.text;
  return null;
}

/** `Secret(deploy_type=..., secret="k8s-secret-name", key="password")`: names a Kubernetes Secret. */
export function isKubernetesSecretCall(ctx: RuleContext, kw: SyntaxNode | undefined): boolean {
  const call = kw?.parent?.parent;
  if (!call || call.type !== 'call') return false;
  const fn = ctx.callee(call) ?? '';
  return /(^|\.)Secret$/.test(fn) && (fn === 'Secret' || /kubernetes|k8s/.test(fn));
}

/** Secret JSON embedded in a string (`extra='{"token": "..."}'`): flattened string-valued pairs. */
export function jsonStringPairs(value: string): [string, string][] {
  const v = value.trim();
  if (!v.startsWith('{') || !v.includes(':')) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(v.replace(/\\n/g, '\n').replace(/\\"/g, '"'));
  } catch {
    return [];
  }
  const out: [string, string][] = [];
  const walk = (o: unknown, depth: number): void => {
    if (depth > 4 || typeof o !== 'object' || o === null) return;
    for (const [k, x] of Object.entries(o as Record<string, unknown>)) {
      if (typeof x === 'string') out.push([k, x]);
      else walk(x, depth + 1);
    }
  };
  walk(parsed, 0);
  return out;
}

/** Location-independent identity of a secret for the fingerprint: a hash, so the key never holds the secret. */
export function secretKey(kind: string, value: string): string {
  return `${kind}:${createHash('sha256').update(value).digest('hex').slice(0, 24)}`;
}
