/**
 * Runs the path rules (rules/import-path, `onPath`) over the checked tree's paths and its archives' members.
 * Their findings sit on line 1 of the path; the fingerprint hashes rule, path and message, so a baseline keeps them.
 */
import { fingerprint } from './fingerprint';
import * as path from 'node:path';
import type { ArchiveMember } from './archive';
import type { PathEntry, Rule } from './engine/rule';
import type { Finding } from './report';
import { fillTemplate } from './engine/template';

export class PathScanner {
  readonly findings: Finding[] = [];
  readonly errors: { path: string; message: string }[] = [];

  /** `idOf`: the report path -> the path hashed into fingerprints (relative to the identity root). */
  constructor(
    private readonly rules: Rule[],
    private readonly idOf: (rel: string) => string,
  ) {}

  get active(): boolean {
    return this.rules.length > 0;
  }

  visit(e: PathEntry): void {
    for (const rule of this.rules) {
      try {
        rule.onPath!(e, (fields, o) => {
          const template = o?.message ? rule.meta.messages?.[o.message] : rule.meta.message;
          if (template === undefined) throw new Error(`no message \`${o?.message}\``);
          const message = fillTemplate(template, fields, `rule ${rule.meta.id}`);
          const id = this.idOf(e.rel);
          this.findings.push({
            ruleId: rule.meta.id,
            category: rule.meta.category,
            severity: o?.severity ?? rule.meta.severity,
            path: e.rel,
            line: 1,
            column: 1,
            endLine: 1,
            endColumn: 1,
            message,
            source: 'static',
            fingerprint: fingerprint(rule.meta.id, id, message),
          });
        });
      } catch (err) {
        this.errors.push({ path: e.rel, message: `internal error in rule ${rule.meta.id}: ${(err as Error).message}` });
      }
    }
  }
}

/** The path entries of an archive's members (folders implied by member names included), reported as `a.zip!m.py`. */
export function archiveEntries(archiveRel: string, members: ArchiveMember[]): PathEntry[] {
  const files = new Map<string, ArchiveMember>();
  const dirs = new Set<string>();
  for (const m of members) {
    if (!m.name || m.name === '.' || m.name.startsWith('../')) continue;
    if (m.isDir) dirs.add(m.name);
    else files.set(m.name, m);
    for (let d = path.posix.dirname(m.name); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  }
  const exists = (n: string): boolean => files.has(n) || dirs.has(n);
  const entry = (name: string, kind: 'file' | 'dir'): PathEntry => {
    const dir = path.posix.dirname(name);
    return {
      rel: `${archiveRel}!${name}`,
      name: path.posix.basename(name),
      kind,
      topLevel: dir === '.',
      inArchive: true,
      head: (n) => files.get(name)?.data?.subarray(0, n) ?? null,
      sibling: (s) => exists(path.posix.normalize(path.posix.join(dir, s))),
      child: (s) => exists(path.posix.join(name, s)),
    };
  };
  return [...[...dirs].sort().map((d) => entry(d, 'dir')), ...[...files.keys()].sort().map((f) => entry(f, 'file'))];
}
