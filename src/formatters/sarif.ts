/**
 * SARIF 2.1.0, as GitHub code scanning ingests it (`github/codeql-action/upload-sarif`):
 * one run, `tool.driver.rules` carrying each rule's doc, results pointing at rules by id and index, paths relative to
 * the working directory under `%SRCROOT%`, and `partialFingerprints` from the line-independent finding fingerprint
 * so alerts follow code that moves. Scan errors and warnings become tool execution notifications.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RuleMeta } from '../engine/rule';
import type { Finding, Report, Severity } from '../report';
import { renderRuleDoc, ruleDocUrl } from '../rule-docs';
import { showTemplate } from '../engine/template';
import type { Formatter } from './types';

/** dag-guard's version, from the package.json above this file (dist/src/formatters or src/formatters). */
function ownVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dag-guard' && pkg.version) return pkg.version;
    } catch {
      /* keep looking */
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}
const VERSION = ownVersion();

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
export const INFORMATION_URI = 'https://github.com/dag-guard/dag-guard';
/** Key of our fingerprint in `partialFingerprints`; bump the suffix if the fingerprint's recipe changes. */
export const FINGERPRINT_KEY = 'dagGuardFingerprint/v1';
const SRCROOT = '%SRCROOT%';

type Level = 'error' | 'warning' | 'note';
const LEVEL: Record<Severity, Level> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
/** GitHub buckets `security-severity`: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '1.0' };

/** A relative, '/'-separated path as a URI reference (each segment percent-encoded). */
export function relativeUri(p: string): string {
  return p
    .split(/[\\/]/)
    .map((seg) => encodeURIComponent(seg))
    .join('/');
}

function ruleDescriptor(m: RuleMeta): Record<string, unknown> {
  const doc = renderRuleDoc(m);
  const what = m.docs?.what?.trim() || showTemplate(m.message);
  return {
    id: m.id,
    name: m.name,
    shortDescription: { text: showTemplate(m.message) },
    fullDescription: { text: what },
    help: { text: doc, markdown: doc },
    helpUri: ruleDocUrl(m),
    defaultConfiguration: { level: LEVEL[m.severity] ?? 'warning' },
    properties: {
      category: m.category,
      tags: ['security', m.category],
      precision: 'high',
      'problem.severity': LEVEL[m.severity] === 'note' ? 'recommendation' : LEVEL[m.severity],
      'security-severity': SECURITY_SEVERITY[m.severity] ?? '5.5',
      ...(m.aliases?.length ? { aliases: m.aliases } : {}),
    },
  };
}

function placeholderDescriptor(f: Finding): Record<string, unknown> {
  return {
    id: f.ruleId,
    name: f.ruleId,
    shortDescription: { text: f.ruleId },
    properties: { category: f.category, tags: ['security', f.category], 'security-severity': SECURITY_SEVERITY[f.severity] },
  };
}

function region(f: Finding): Record<string, number> {
  const r: Record<string, number> = { startLine: Math.max(1, f.line), startColumn: Math.max(1, f.column) };
  if (f.endLine >= f.line) {
    r.endLine = f.endLine;
    if (f.endColumn >= 1 && (f.endLine > f.line || f.endColumn > f.column)) r.endColumn = f.endColumn;
  }
  return r;
}

export const sarif: Formatter = (report: Report, ctx) => {
  // Every known rule is described (GitHub shows rules with no result as "no alerts"), plus any unknown id a result uses.
  const descriptors: Record<string, unknown>[] = [];
  const index = new Map<string, number>();
  for (const m of ctx.rules) {
    if (index.has(m.id)) continue;
    index.set(m.id, descriptors.length);
    descriptors.push(ruleDescriptor(m));
  }
  for (const f of report.findings) {
    if (index.has(f.ruleId)) continue;
    index.set(f.ruleId, descriptors.length);
    descriptors.push(placeholderDescriptor(f));
  }

  const results = report.findings.map((f) => ({
    ruleId: f.ruleId,
    ruleIndex: index.get(f.ruleId)!,
    level: LEVEL[f.severity],
    message: { text: f.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: relativeUri(f.path), uriBaseId: SRCROOT },
          region: region(f),
        },
      },
    ],
    ...(f.fingerprint ? { partialFingerprints: { [FINGERPRINT_KEY]: f.fingerprint } } : {}),
    properties: { severity: f.severity, category: f.category, source: f.source },
  }));

  const notifications = [
    ...report.errors.map((e) => ({
      level: 'error' as const,
      message: { text: e.message },
      locations: [{ physicalLocation: { artifactLocation: { uri: relativeUri(e.path), uriBaseId: SRCROOT } } }],
    })),
    ...(report.warnings ?? []).map((w) => ({
      level: 'warning' as const,
      message: { text: w.message },
      descriptor: { id: w.code },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: relativeUri(w.path), uriBaseId: SRCROOT },
            region: { startLine: Math.max(1, w.line), startColumn: Math.max(1, w.column) },
          },
        },
      ],
    })),
  ];

  let root = pathToFileURL(ctx.cwd).href;
  if (!root.endsWith('/')) root += '/';
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'dag-guard',
            version: VERSION,
            semanticVersion: VERSION,
            informationUri: INFORMATION_URI,
            rules: descriptors,
          },
        },
        originalUriBaseIds: { [SRCROOT]: { uri: root } },
        invocations: [
          {
            executionSuccessful: report.errors.length === 0,
            toolExecutionNotifications: notifications,
          },
        ],
        columnKind: 'utf16CodeUnits',
        results,
        properties: { summary: report.summary },
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
};
