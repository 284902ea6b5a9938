/**
 * Source context for text output (ruff-style): the finding's line with a caret underline. Showing source must not
 * print a secret in clear (README "Output"), so the shown line is masked the way findings redact (src/engine/redact.ts):
 * the span of a secret finding, every string literal without whitespace of 6+ characters (what passwords and keys
 * look like; shell commands and Jinja templates keep their text) and long letter+digit tokens keep a short prefix,
 * the rest becomes `*` of the same length, so the caret still points at the right column.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Finding } from '../report';

const MAX_WIDTH = 160;

function maskRun(s: string): string {
  const keep = s.length <= 8 ? 0 : Math.min(4, Math.floor(s.length / 6));
  return s.slice(0, keep) + '*'.repeat(s.length - keep);
}

export function maskLine(line: string, secretSpan?: [number, number]): string {
  let out = line.replace(/(["'])((?:\\.|(?!\1).)*)\1/g, (m, q: string, body: string) =>
    body.length >= 6 && !/\s/.test(body) ? `${q}${maskRun(body)}${q}` : m,
  );
  // A literal opened on this line and closed on a later one ("""…), or a token outside quotes.
  // Complete literals are consumed first, so that the quote closing one (`conf["arg"])(os)`) is not read as opening.
  out = out.replace(/(["'])(?:\\.|(?!\1).)*\1|(["'])([^"'\s]{6,})$/g, (m, _q, q: string | undefined, body: string) =>
    q ? `${q}${maskRun(body)}` : m,
  );
  out = out.replace(/[A-Za-z0-9+/=_.-]{20,}/g, (m) => (/[0-9]/.test(m) && /[A-Za-z]/.test(m) ? maskRun(m) : m));
  if (secretSpan) {
    const [a, b] = secretSpan;
    const span = out.slice(a, b);
    // Keep the quotes (and a string prefix such as f or b) so the line still reads as code.
    const m = /^([A-Za-z]*["']+)([\s\S]*?)(["']*)$/.exec(span);
    const masked = m ? m[1] + maskRun(m[2]) + m[3] : maskRun(span);
    out = out.slice(0, a) + masked + out.slice(b);
  }
  return out;
}

/** Lines of each file, read once per report. */
export class SourceCache {
  private files = new Map<string, string[] | null>();
  constructor(private readonly cwd: string) {}
  line(rel: string, n: number): string | null {
    let lines = this.files.get(rel);
    if (lines === undefined) {
      try {
        lines = fs.readFileSync(path.resolve(this.cwd, rel), 'utf8').split(/\r?\n/);
      } catch {
        lines = null; // gone since the scan, or a sandbox path: no context, the finding line stands alone
      }
      this.files.set(rel, lines);
    }
    return lines?.[n - 1] ?? null;
  }
}

/** `   3 | code` and `     |    ^^^^`, or [] when the line cannot be read. */
export function sourceContext(f: Finding, cache: SourceCache): string[] {
  const raw = cache.line(f.path, f.line);
  if (raw === null) return [];
  const start = Math.max(0, f.column - 1);
  const end = f.endLine === f.line && f.endColumn > f.column ? f.endColumn - 1 : raw.length;
  const masked = maskLine(raw.replace(/\t/g, ' '), f.category === 'secret' ? [start, Math.max(start + 1, end)] : undefined);
  let shown = masked;
  let from = start;
  let to = Math.max(start + 1, Math.min(end, masked.length));
  if (shown.length > MAX_WIDTH) {
    // Keep the flagged part in view: cut before it when it starts far right.
    const cut = Math.max(0, Math.min(start - 20, shown.length - MAX_WIDTH));
    shown = (cut ? '…' : '') + shown.slice(cut, cut + MAX_WIDTH) + '…';
    from = start - cut + (cut ? 1 : 0);
    to = Math.min(to - cut + (cut ? 1 : 0), shown.length);
  }
  const num = String(f.line);
  const pad = ' '.repeat(num.length);
  return [`  ${num} | ${shown}`, `  ${pad} | ${' '.repeat(from)}${'^'.repeat(Math.max(1, to - from))}`];
}
