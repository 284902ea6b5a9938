/**
 * Callee patterns: how a rule says which calls it wants, by qualified name — `subprocess.run`, `pickle.load*`
 * (`*` within one dotted segment), `**.exec_command` (`**` any number of segments, also none), `builtins.eval`.
 *
 * From each pattern the engine derives, without any help from the rule:
 *  - the WORDS a file must contain for a call to resolve to it (every literal piece of every segment: a call of
 *    `subprocess.run` resolves through `import subprocess`, `from subprocess import run as r`,
 *    `getattr(subprocess, "run")` or `__import__("subprocess").run`, and each of these spells both words);
 *  - how to FIND candidate calls in the text: by the callee's last name (`run(`), or the prefix of a globbed one
 *    (`load*` -> `load…(`), plus the local names an import binds to such a name (`r(` after `… import run as r`).
 * `builtins.` is implicit (`eval(…)` is a call of `builtins.eval`), so it is not a required word.
 */

export interface CalleePattern {
  source: string;
  /** Matches a qualified callee (`pickle.loads`) or the callee as written when it cannot be resolved. */
  test(fn: string): boolean;
  /** Words that every file holding a matching call contains: whole names (`pickle`), found as identifier tokens
   *  of the text (also inside strings: `__import__("pickle")`). */
  words: string[];
  /** Literal pieces of globbed segments (`load` of `load*`): contained in some token, found as substrings. */
  pieces: string[];
  /** Last segment: an exact name, a prefix (`load*`), or null when any last name matches (`os.*`). */
  last: { exact: string } | { prefix: string } | null;
}

const SEGMENT_CHARS = /^[\w*\u00C0-\uFFFF]+$/;

export class PatternError extends Error {}

export function compilePattern(source: string): CalleePattern {
  const segs = source.split('.');
  if (!segs.length || segs.some((s) => !s || !SEGMENT_CHARS.test(s) || (s.includes('**') && s !== '**'))) {
    throw new PatternError(`invalid callee pattern \`${source}\`: dotted names, \`*\` within a segment, \`**\` alone as a segment`);
  }
  // `builtins.eval` also matches a bare `eval` (what the engine sees for a builtin that no import rebinds).
  const body = segs[0] === 'builtins' ? segs.slice(1) : segs;
  const prefix = segs[0] === 'builtins' ? '^(?:builtins\\.)?' : '^';
  // `s`: a callee that could not be resolved is its text as written, line breaks included
  // (`Op.partial(⏎ task_id=…⏎).expand`): `**` spans them
  const regex = new RegExp(prefix + segmentsSource(body) + '$', 's');
  const words = body.filter((s) => s !== '**' && !s.includes('*'));
  const pieces = body.flatMap((s) => (s.includes('*') && s !== '**' ? s.split('*').filter(Boolean) : []));
  const lastSeg = body[body.length - 1];
  const last =
    lastSeg === '**' || lastSeg.startsWith('*')
      ? null
      : lastSeg.includes('*')
        ? { prefix: lastSeg.slice(0, lastSeg.indexOf('*')) }
        : { exact: lastSeg };
  return { source, test: (fn) => regex.test(fn), words: [...new Set(words)], pieces: [...new Set(pieces)], last };
}

/** Regex source for the dotted segments, `**` standing for any run of whole segments (none included). */
function segmentsSource(body: string[]): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const s = body[i];
    const first = i === 0;
    if (s === '**') {
      // `**.x` at the start: any prefix ending in a dot, or none; `a.**.x` / `a.**`: a dot and anything, or nothing.
      out += first ? '(?:.*\\.)?' : '(?:\\..*)?';
      continue;
    }
    const prevStar = i > 0 && body[i - 1] === '**';
    const sep = first || (prevStar && i - 1 === 0) ? '' : '\\.';
    out += sep + s.split('*').map(escape).join('[^.]*');
  }
  return out;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `compute` memoised by callee: callees repeat across the files of a run (`print`, `os.path.join`, `self.log.info`),
 * so each is tested against the patterns once. Starts over after `limit` distinct callees (bounds memory).
 */
export function calleeMemo<V>(compute: (fn: string) => V, limit = 50_000): (fn: string) => V {
  let memo = new Map<string, V>();
  return (fn) => {
    if (memo.has(fn)) return memo.get(fn)!;
    if (memo.size >= limit) memo = new Map();
    const v = compute(fn);
    memo.set(fn, v);
    return v;
  };
}
