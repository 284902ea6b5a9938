/**
 * Runs the path rules (rules/import-path, `onPath`) over the checked tree's paths and its archives' members.
 * Their findings sit on line 1 of the path; the fingerprint hashes rule, path and message, so a baseline keeps them.
 */
import { fingerprint } from './fingerprint';
import * as path from 'node:path';
import type { ArchiveMember } from './archive';
import type { PathEntry, PathReport, Rule } from './engine/rule';
import type { Finding } from './report';
import { fillTemplate } from './engine/template';

export class PathScanner {
  readonly findings: Finding[] = [];
  readonly errors: { path: string; message: string }[] = [];
  /** One reporter per rule, made once: visit() runs every path rule on every entry of the walk. */
  private readonly reporters: PathReport[];
  private current: PathEntry | null = null;

  /** `idOf`: the report path -> the path hashed into fingerprints (relative to the identity root). */
  constructor(
    private readonly rules: Rule[],
    private readonly idOf: (rel: string) => string,
  ) {
    this.reporters = rules.map((rule) => (fields, o) => {
      const e = this.current!;
      const template = o?.message ? rule.meta.messages?.[o.message] : rule.meta.message;
      if (template === undefined) throw new Error(`no message \`${o?.message}\``);
      const message = fillTemplate(template, fields, `rule ${rule.meta.id}`);
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
        fingerprint: fingerprint(rule.meta.id, this.idOf(e.rel), message),
      });
    });
  }

  get active(): boolean {
    return this.rules.length > 0;
  }

  visit(e: PathEntry): void {
    this.current = e;
    for (let i = 0; i < this.rules.length; i++) {
      try {
        this.rules[i].onPath!(e, this.reporters[i]);
      } catch (err) {
        this.errors.push({ path: e.rel, message: `internal error in rule ${this.rules[i].meta.id}: ${(err as Error).message}` });
      }
    }
    this.current = null;
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
