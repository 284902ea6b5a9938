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
`;

export interface CompiledRules {
  rules: Rule[];
  byId: Map<string, Rule>;
  query: Parser.Query;
  /** Owner of each pattern index; null for internal patterns. */
  owners: (Rule | null)[];
  /** Upper-cased ids, names and aliases of every rule: codes we recognise in suppressions. */
  knownCodes: Set<string>;
}

export class RuleQueryError extends Error {}

/** Compile every rule's query into one, so a file is walked once whatever the number of rules. */
export function compileRules(rules: Rule[]): CompiledRules {
  const lang = getLanguage();
  const owners: (Rule | null)[] = [];
  const parts: string[] = [];
  const count = (src: string, who: string): number => {
    try {
      // The typings omit `predicates` (one entry per pattern): it is how we count a query's patterns.
      return (new Parser.Query(lang, src) as unknown as { predicates: unknown[] }).predicates.length;
    } catch (err) {
      throw new RuleQueryError(`rule ${who}: invalid tree-sitter query: ${(err as Error).message}`);
    }
  };
  const internal = count(INTERNAL_QUERY, 'internal');
  for (let i = 0; i < internal; i++) owners.push(null);
  parts.push(INTERNAL_QUERY);
  for (const rule of rules) {
    if (!rule.query) continue;
    const n = count(rule.query, rule.meta.id);
    for (let i = 0; i < n; i++) owners.push(rule);
    parts.push(rule.query);
  }
  const query = new Parser.Query(lang, parts.join('\n'));
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
  const warnings: Warning[] = [];
  const ruleErrors: string[] = [];
  const suppressions: Suppression[] = [];
  const lines = new LineIndex(text);

  const matches = compiled.query.matches(root);
  // Imports first, so that names used before a later import still resolve (as at run time, mostly).
  for (const m of matches) {
    if (compiled.owners[m.pattern] !== null) continue;
    for (const c of m.captures) {
      if (c.name === 'import') for (const rec of importRecords(c.node)) ctx.addImport(rec);
      else if (c.name === 'comment') {
        const s = parseSuppression(c.node.text, c.node.startPosition.row + 1, c.node.startPosition.column + 1);
        if (s) suppressions.push(s);
      }
    }
  }
  for (const m of matches) {
    const rule = compiled.owners[m.pattern];
    if (!rule || !rule.onMatch) continue;
    const caps: QueryCaptures = {};
    for (const c of m.captures) (caps[c.name] ??= []).push(c.node);
    ctx.rule = rule;
    try {
      rule.onMatch(caps, ctx);
    } catch (err) {
      ruleErrors.push(`internal error in rule ${rule.meta.id}: ${(err as Error).message}`);
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
