/**
 * Shell one-liners of the malicious family, found in string literals: reverse shells (DG608) and
 * download-and-execute (DG609). Text first, then located in the tree.
 */
import type { SyntaxNode } from 'tree-sitter';
import { defineService, type RuleContext } from '../../src/engine/context';
import { blankLineContinuations } from '../../src/airflow/shell';

/** Shell shapes of download-and-execute: `curl … | sh`, `wget … && chmod +x …`. */
export const SHELL_DOWNLOAD_EXEC = new RegExp(
  [
    String.raw`\b(curl|wget)\b[^\n|;&]*\|\s*(sudo\s+)?(ba|da|z|k)?sh\b`,
    String.raw`\b(curl|wget)\b[^\n|;&]*\|\s*(sudo\s+)?python[0-9.]*\b`,
    String.raw`\b(curl|wget)\b[\s\S]*?\bchmod\s+(\+x|[0-7]?[1357][0-7]{2})\b`,
    String.raw`\b(iwr|Invoke-WebRequest|DownloadString)\b[\s\S]*?\b(iex|Invoke-Expression)\b`,
    // the download as the code itself: `eval "$(curl …)"`, `python -c "$(curl …)"`, `bash <(curl …)`, `source <(wget …)`
    String.raw`\b(?:eval|(?:ba|da|z|k)?sh\s+-c|python[0-9.]*\s+-c|perl\s+-e|ruby\s+-e|node\s+-e)\s+\\?["']?\$\(\s*(?:curl|wget)\b`,
    String.raw`(?:\b(?:(?:ba|da|z|k)?sh|source|python[0-9.]*)|(?:^|[\s;&|])\.)\s+<\(\s*(?:curl|wget)\b`,
    // downloaded to a file, then run: `curl -o /tmp/x.sh URL && bash /tmp/x.sh`
    String.raw`\b(?:curl|wget)\b[^\n]*?\s(?:-o|-O|--output|--output-document)[ =]?\s*["']?(?<dl>\/[^\s"';&|]+)[^\n]*?(?:&&|;|\|\|)\s*(?:sudo\s+)?(?:(?:ba|da|z|k)?sh|python[0-9.]*|source|\.)\s+["']?\k<dl>(?![\w./-])`,
    // a Python one-liner that runs what it fetched: `exec(urllib.request.urlopen(URL).read())`
    String.raw`\b(?:exec|eval)\s*\(\s*(?:[\w.]+\.)?urlopen\s*\(`,
  ].join('|'),
  'i',
);

/**
 * Cheap test before SHELL_DOWNLOAD_EXEC, which no DAG file matches but every file would pay for: a word each of
 * its shapes contains. Case-sensitive (a case-insensitive alternation cannot skip ahead): `CURL`/`WGET` do not run
 * on Linux; PowerShell is case-insensitive, so its words are tested in their usual spellings.
 */
const DOWNLOAD_HINT = /[cC]url|[wW]get|[iI]wr|IWR|nvoke-|NVOKE-|ownload[Ss]tring|OWNLOADSTRING|urlopen/;
export const mayDownloadExec = (text: string): boolean => DOWNLOAD_HINT.test(text);

/** Cheap test before SHELL_REVERSE: `/dev/tcp`, `mkfifo`, `socat`, `>&`, the ` -e`/` -c` every `nc` shape needs, or a word of the interpreter one-liners. */
const REVERSE_HINT = /\/dev\/|mkfifo|socat|>&|\s-[ecEC]|dup2|pty\.spawn|Socket|fsockopen/;
export const mayReverseShell = (text: string): boolean => REVERSE_HINT.test(text);

/**
 * Shell shapes of reverse shells. `/dev/tcp/host/port` alone is not one: `</dev/tcp/db/5432` and
 * `echo > /dev/tcp/db/5432` are how Bash scripts wait for a port. It is when a shell's input or output is attached
 * to it: `>& /dev/tcp/…` (stdout and stderr), `sh < /dev/tcp/…`, `… /dev/tcp/… | sh`, `0>&1`/`0<&N` with it, or
 * `exec N<>/dev/tcp/…` whose descriptor feeds a shell (`sh <&N`, `0<&N`, a `while read` loop).
 */
const TCP = String.raw`\/dev\/(?:tcp|udp)\/`;
const SH = String.raw`(?:\/(?:usr\/)?bin\/)?\b(?:ba|z|k|da)?sh\b`;
export const SHELL_REVERSE = new RegExp(
  [
    String.raw`>&\s*${TCP}`,
    String.raw`${SH}\s+(?:-i\s+)?<\s*${TCP}`,
    String.raw`${TCP}\S+[^\n]*\|\s*${SH}`,
    String.raw`${TCP}[^\s/]+\/\d+[^\n]*\b0\s*[<>]&\s*\d`,
    String.raw`<>\s*${TCP}(?=[^\n]*(?:${SH}\s*<&|\b0<&|\bwhile\s+read\b))`,
    String.raw`\b0<&\s*\d+[^\n]*<>\s*${TCP}`,
    String.raw`\b(nc|ncat|netcat)\b[^\n]*\s-(e|c)\s`,
    String.raw`\bmkfifo\b[^\n]*\|\s*(nc|ncat|netcat)\b`,
    String.raw`\bsocat\b[^\n]*\bexec:`,
    String.raw`\bbash\s+-i\s*>&`,
    String.raw`\bsh\s+-i\s*>&`,
    // interpreter one-liners (`python3 -c '…'`, `perl -e '…'`, a script in a string): a socket connected, then its
    // descriptors handed to a shell
    String.raw`\bsocket\b[\s\S]{0,300}?(?:\.connect(?:_ex)?|create_connection)\s*\([\s\S]{0,400}?(?:\bdup2\s*\(|\bpty\.spawn\s*\(|\bsubprocess\.(?:call|Popen|run)\s*\(\s*\[?\s*\\?["']${SH})`,
    String.raw`\buse\s+Socket\b[^\n]{0,400}?\bexec\s*\(?\s*\\?["']${SH}`,
    String.raw`\b(?:TCPSocket|fsockopen)\b[^\n]{0,400}?\b(?:exec|system|spawn|shell_exec|passthru|proc_open|popen)\b[^\n]{0,40}${SH}`,
  ].join('|'),
  'i',
);

/** An interactive shell started as a process: the shell alone, or with `-i` (not a shell running a script). */
export const SHELL_BINARY =
  /^\s*((\/usr)?\/bin\/)?(ba|z|da|k)?sh(\s+-i)?\s*$|(^|\s)((\/usr)?\/bin\/)?(ba|z|da|k)?sh\s+-i\b|^\s*(cmd(\.exe)?|powershell(\.exe)?)\s*$/;

/**
 * Text-first matching: the string-literal node holding `index` of the file text (climbing from the leaf), or null
 * when that offset is not inside a string (a comment, code). Avoids a tree-wide `(string)` query.
 */
export function stringAt(root: SyntaxNode, index: number): SyntaxNode | null {
  let n: SyntaxNode | null = root.descendantForIndex(index, index + 1);
  while (n && n.type !== 'string') {
    if (n.type === 'module' || n.type === 'block' || n.type.endsWith('statement')) return null;
    n = n.parent;
  }
  return n;
}

/** The file's text with its line continuations blanked (computed once per file for the shape rules). */
const JOINED_LINES = defineService('malicious: text with line continuations blanked', (ctx) => blankLineContinuations(ctx.file.text));

/**
 * Each string literal of the file that holds a whole match of `shape` (a shell one-liner), once per literal: found in
 * the text (after the cheap `hint`; line continuations joined), then located in the tree — cheaper than a query over
 * every string.
 */
export function stringsWithShape(ctx: RuleContext, hint: (text: string) => boolean, shape: RegExp, each: (s: SyntaxNode) => void): void {
  const text = ctx.use(JOINED_LINES);
  if (!hint(text) || !shape.test(text)) return;
  const done = new Set<number>();
  const g = new RegExp(shape.source, shape.flags.includes('g') ? shape.flags : shape.flags + 'g');
  let tries = 0;
  for (let m = g.exec(text); m && tries < 200; m = g.exec(text), tries++) {
    const s = stringAt(ctx.root, m.index);
    if (!s) {
      g.lastIndex = m.index + 1;
      continue;
    }
    // the whole shape must sit in one string literal. A match that runs on into another string (`curl` here,
    // `chmod +x` three strings below) may hide one that does not (another alternative, from the same start): the
    // string's own text decides, and the search goes on after it
    if (m.index + m[0].length > s.endIndex) {
      g.lastIndex = Math.max(m.index + 1, s.endIndex);
      if (!shape.test(text.slice(s.startIndex, s.endIndex))) continue;
    }
    if (m[0].length === 0) g.lastIndex++;
    if (done.has(s.id)) continue;
    done.add(s.id);
    each(s);
  }
}

/** Start offsets of every match of `re` in `text`, capped; `ends` (if given) receives the end offsets. */
export function offsets(re: RegExp, text: string, cap = 50, ends?: number[]): number[] {
  const out: number[] = [];
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  for (let m = g.exec(text); m && out.length < cap; m = g.exec(text)) {
    out.push(m.index);
    ends?.push(m.index + m[0].length);
    if (m[0].length === 0) g.lastIndex++;
  }
  return out;
}


/**
 * Data files (shell scripts, configuration documents): the first match of `shape` on each line of the text that is not
 * a `#` comment line, capped; `each` gets its offsets.
 */
export function shapesInText(text: string, hint: (text: string) => boolean, shape: RegExp, each: (start: number, end: number, m: RegExpExecArray) => void): void {
  if (!hint(text)) return;
  const g = new RegExp(shape.source, shape.flags.includes('g') ? shape.flags : shape.flags + 'g');
  let n = 0;
  for (let m = g.exec(text); m && n < 20; m = g.exec(text)) {
    if (m[0].length === 0) {
      g.lastIndex++;
      continue;
    }
    const lineStart = text.lastIndexOf('\n', m.index) + 1;
    if (/^\s*#/.test(text.slice(lineStart, m.index))) continue;
    n++;
    each(m.index, m.index + m[0].length, m);
    // one finding per line: alternatives of a shape overlap
    const eol = text.indexOf('\n', m.index + m[0].length);
    g.lastIndex = eol < 0 ? text.length : eol;
  }
}
