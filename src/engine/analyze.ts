import { createHash } from 'node:crypto';
import Parser = require('tree-sitter');
import type { SyntaxNode } from 'tree-sitter';
import type { Finding, Warning } from '../report';
import { RuleContext, type RawFinding } from './context';
import { importRecords } from './imports';
import type { QueryCaptures, Rule } from './rule';
import type { Settings } from './settings';
import { ownCodes, parseSuppression, suppressionCovers, type Suppression } from './suppressions';
import { getLanguage, parse } from '../parse';

/** Patterns the analyzer itself needs, compiled into the same single query as the rules'. */
const INTERNAL_QUERY = `
(import_statement) @import
(import_from_statement) @import
(future_import_statement) @import
((comment) @comment (#match? @comment "nosec|dag-guard|noqa|NOSEC"))
(function_definition body: (block) @deferred)
(lambda body: (_) @deferred)
(if_statement condition: (comparison_operator) @maincond consequence: (block) @mainbody)
`;

export interface CompiledRules {
  rules: Rule[];
  byId: Map<string, Rule>;
  query: Parser.Query;
  /** Rules owning each pattern index (several rules may share one identical query); null for internal patterns. */
  owners: (Rule[] | null)[];
  /** Upper-cased ids, names and aliases of every rule: codes we recognise in suppressions. */
  knownCodes: Set<string>;
}

export class RuleQueryError extends Error {}

/**
 * Compile every rule's query into one, so a file is walked once whatever the number of rules. Rules with the
 * very same query text share its patterns: the match is computed and marshalled once, then given to each.
 */
export function compileRules(rules: Rule[]): CompiledRules {
  const lang = getLanguage();
  const groups = new Map<string, Rule[]>();
  for (const rule of rules) {
    if (!rule.query) continue;
    const g = groups.get(rule.query);
    if (g) g.push(rule);
    else groups.set(rule.query, [rule]);
  }
  const parts: { text: string; owners: Rule[] | null; start: number }[] = [];
  let source = '';
  const add = (text: string, owners: Rule[] | null): void => {
    parts.push({ text, owners, start: source.length });
    source += text + '\n';
  };
  add(INTERNAL_QUERY, null);
  for (const [text, owners] of groups) add(text, owners);

  let query: Parser.Query;
  try {
    query = new Parser.Query(lang, source);
  } catch (err) {
    // Name the culprit: compile the parts one by one (only on this error path).
    for (const p of parts) {
      try {
        new Parser.Query(lang, p.text);
      } catch (e) {
        const who = p.owners ? p.owners.map((r) => r.meta.id).join(', ') : 'internal';
        throw new RuleQueryError(`rule ${who}: invalid tree-sitter query: ${(e as Error).message}`);
      }
    }
    throw new RuleQueryError(`invalid combined tree-sitter query: ${(err as Error).message}`);
  }
  // Map each pattern to its part by the pattern's offset in the combined source (offsets are in bytes).
  const byteStarts = parts.map((p) => Buffer.byteLength(source.slice(0, p.start)));
  const patternCount = (query as unknown as { predicates: unknown[] }).predicates.length;
  const owners: (Rule[] | null)[] = [];
  let part = 0;
  for (let i = 0; i < patternCount; i++) {
    const at = query.startIndexForPattern(i);
    while (part + 1 < parts.length && byteStarts[part + 1] <= at) part++;
    owners.push(parts[part].owners);
  }
  const knownCodes = new Set<string>();
  const byId = new Map<string, Rule>();
  for (const r of rules) {
    byId.set(r.meta.id, r);
    knownCodes.add(r.meta.id.toUpperCase());
    knownCodes.add(r.meta.name.toUpperCase());
    for (const a of r.meta.aliases ?? []) knownCodes.add(a.toUpperCase());
  }
  return { rules, byId, query, owners, knownCodes };
}

const MAIN_GUARD = /^__name__\s*==\s*["']__main__["']$|^["']__main__["']\s*==\s*__name__$/;

export interface FileAnalysis {
  findings: Finding[];
  warnings: Warning[];
  /** Internal errors of a rule (a bug in dag-guard, reported rather than hidden). */
  ruleErrors: string[];
  suppressed: number;
}

/**
 * `identityPath` is the path hashed into fingerprints: relative to a stable root (config folder or repository
 * top), so that the same repository checked from another directory keeps its baselines. Defaults to `path`.
 */
export function analyzeSource(
  path: string,
  text: string,
  compiled: CompiledRules,
  settings: Settings,
  identityPath: string = path,
): FileAnalysis {
  const tree = parse(text);
  const root = tree.rootNode;
  const raw: RawFinding[] = [];
  const ctx = new RuleContext({ path, text }, settings, raw);
  ctx.root = root;
  const warnings: Warning[] = [];
  const ruleErrors: string[] = [];
  const suppressions: Suppression[] = [];
  const lines = new LineIndex(text);

  const matches = compiled.query.matches(root);
  // Imports first, so that names used before a later import still resolve (as at run time, mostly).
  const deferred: [number, number][] = [];
  for (const m of matches) {
    if (compiled.owners[m.pattern] !== null) continue;
    for (const c of m.captures) {
      if (c.name === 'deferred') deferred.push([c.node.startIndex, c.node.endIndex]);
      else if (c.name === 'maincond') {
        if (MAIN_GUARD.test(c.node.text)) {
          const body = m.captures.find((x) => x.name === 'mainbody')!.node;
          deferred.push([body.startIndex, body.endIndex]);
        }
      } else if (c.name === 'import') for (const rec of importRecords(c.node)) ctx.addImport(rec);
      else if (c.name === 'comment') {
        const s = parseSuppression(c.node.text, c.node.startPosition.row + 1, c.node.startPosition.column + 1);
        if (s) suppressions.push(s);
      }
    }
  }
  ctx.setDeferredRanges(deferred);
  for (const m of matches) {
    const owners = compiled.owners[m.pattern];
    if (!owners) continue;
    const caps: QueryCaptures = {};
    for (const c of m.captures) (caps[c.name] ??= []).push(c.node);
    for (const rule of owners) {
      if (!rule.onMatch) continue;
      ctx.rule = rule;
      try {
        rule.onMatch(caps, ctx);
      } catch (err) {
        ruleErrors.push(`internal error in rule ${rule.meta.id}: ${(err as Error).message}`);
      }
    }
  }
  for (const rule of compiled.rules) {
    if (!rule.onFile) continue;
    ctx.rule = rule;
    try {
      rule.onFile(ctx);
    } catch (err) {
      ruleErrors.push(`internal error in rule ${rule.meta.id}: ${(err as Error).message}`);
    }
  }

  if (root.hasError) {
    const bad = firstError(root);
    if (bad) {
      const p = lines.position(bad.startIndex);
      warnings.push({
        code: 'DG000',
        path,
        line: p.line,
        column: p.column,
        message: 'syntax error: Python would refuse this file; findings after this point may be incomplete',
      });
    }
  }

  const findings: Finding[] = [];
  let suppressed = 0;
  const seen = new Map<string, number>();
  raw.sort((a, b) => a.startIndex - b.startIndex || a.ruleId.localeCompare(b.ruleId));
  for (const f of raw) {
    const rule = compiled.byId.get(f.ruleId)!;
    const sup = suppressions.find((s) => s.line >= f.stmtStart && s.line <= f.stmtEnd && suppressionCovers(s, rule));
    if (sup && (sup.kind === 'dag-guard' || settings.honourNosec)) {
      sup.used = true;
      if (!settings.requireSuppressionReason || sup.reason) {
        suppressed++;
        continue;
      }
    }
    const start = lines.position(f.startIndex);
    const end = lines.position(f.endIndex);
    const identity = `${f.ruleId}\0${identityPath}\0${f.key}`;
    const occurrence = seen.get(identity) ?? 0;
    seen.set(identity, occurrence + 1);
    const fingerprint = createHash('sha256').update(`${identity}\0${occurrence}`).digest('hex').slice(0, 32);
    findings.push({
      ruleId: f.ruleId,
      category: rule.meta.category,
      severity: f.severity,
      path,
      line: start.line,
      column: start.column,
      endLine: end.line,
      endColumn: end.column,
      message: f.message,
      source: 'static',
      fingerprint,
    });
  }

  for (const s of suppressions) {
    if (s.used) {
      if (settings.requireSuppressionReason && !s.reason) {
        warnings.push({
          code: 'DG002',
          path,
          line: s.line,
          column: s.column,
          message: 'suppression has no reason (`-- why`), which this configuration requires: it was not applied',
        });
      }
      continue;
    }
    const own = ownCodes(s, compiled.knownCodes);
    if (s.kind === 'nosec' && s.codes.length === 0) own.push('nosec');
    if (own.length === 0) continue;
    warnings.push({
      code: 'DG001',
      path,
      line: s.line,
      column: s.column,
      message: `unused suppression: no ${own.join(', ')} finding on this statement`,
    });
  }
  return { findings, warnings, ruleErrors, suppressed };
}

function firstError(node: SyntaxNode): SyntaxNode | null {
  if (node.type === 'ERROR' || node.isMissing) return node;
  for (const c of node.children) {
    if (c.hasError || c.isMissing || c.type === 'ERROR') {
      const r = firstError(c);
      if (r) return r;
    }
  }
  return null;
}

/** Maps string indices to 1-based line/column, lazily. */
class LineIndex {
  private starts: number[] | null = null;
  constructor(private readonly text: string) {}
  position(index: number): { line: number; column: number } {
    if (!this.starts) {
      const s = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) s.push(i + 1);
      this.starts = s;
    }
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: index - s[lo] + 1 };
  }
}
