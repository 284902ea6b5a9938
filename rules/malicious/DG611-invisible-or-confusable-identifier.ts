import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';

/** Characters that render as nothing (or as blank) but are part of the text. */
const INVISIBLE = /[\u200B\u200C\u200D\u2060\u2061\u2062\u2063\u2064\u180E\u00AD\u115F\u1160\u3164\uFFA0\uFEFF]/g;
const LATIN = /[A-Za-z]/;
/** Scripts with letters that look like Latin ones. */
const CONFUSABLE = /[\u0370-\u03FF\u0400-\u04FF\u0500-\u052F\u0530-\u058F\u13A0-\u13FF\uFF21-\uFF3A\uFF41-\uFF5A]/;

const WORD_CHAR = /^[\p{L}\p{M}\p{N}_]$/u;

/** Is the character (or surrogate pair) ending just before `i` / starting at `i` a word character? */
function charBefore(text: string, i: number): number {
  if (i <= 0) return 0;
  const c = text.charCodeAt(i - 1);
  const len = c >= 0xdc00 && c <= 0xdfff && i >= 2 ? 2 : 1;
  return WORD_CHAR.test(text.slice(i - len, i)) ? len : 0;
}
function charAt(text: string, i: number): number {
  if (i >= text.length) return 0;
  const c = text.charCodeAt(i);
  const len = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
  return WORD_CHAR.test(text.slice(i, i + len)) ? len : 0;
}

/** The word (`[\p{L}\p{M}\p{N}_]+`) around offset `i`. */
function wordAround(text: string, i: number): [number, number] {
  let start = i;
  for (let n = charBefore(text, start); n; n = charBefore(text, start)) start -= n;
  let end = i;
  for (let n = charAt(text, end); n; n = charAt(text, end)) end += n;
  return [start, end];
}

/** Look-alike scripts that unit symbols and formulas never use (Greek does: `μs`, `kΩ`, `Δt`). */
const CYRILLIC_LIKE = /[\u0400-\u052F\u0530-\u058F\u13A0-\u13FF\uFF21-\uFF3A\uFF41-\uFF5A]/;

/** Is the word at `start` (part of) an identifier, rather than text in a string, docstring or comment? */
function isIdentifierAt(root: SyntaxNode, start: number): boolean {
  const n = root.descendantForIndex(start);
  return n.type === 'identifier' || n.parent?.type === 'identifier';
}

/**
 * In strings and comments a word is only suspect when a look-alike letter sits inside Latin letters (`g\u043e\u043egle`,
 * `p\u03bfrt`), or a Cyrillic-like one in a word of three Latin letters or more (`\u0430dmin`): `"μs"`, `"5 kΩ"`, `"Δt"` are units.
 */
function looksSpoofed(word: string): boolean {
  const chars = [...word];
  const latin = chars.filter((ch) => LATIN.test(ch)).length;
  if (latin >= 3 && chars.some((ch) => CYRILLIC_LIKE.test(ch))) return true;
  if (latin < 2) return false;
  const first = chars.findIndex((ch) => LATIN.test(ch));
  let last = -1;
  chars.forEach((ch, i) => {
    if (LATIN.test(ch)) last = i;
  });
  return chars.some((ch, i) => i > first && i < last && CONFUSABLE.test(ch));
}

export default defineRule({
  meta: {
    id: 'DG611',
    name: 'invisible-or-confusable-identifier',
    category: 'malicious',
    severity: 'medium',
    message: '`{word}` mixes Latin letters with look-alike letters ({letters}): it is not the name it appears to be',
    messages: { invisible: 'invisible character U+{code} in the source: it changes what the code means without showing' },
    docs: {
      what:
        'Finds invisible characters anywhere in the file (zero-width space/joiners, word joiner, invisible operators, soft hyphen, Hangul fillers, a byte-order mark after the start), and identifiers that mix Latin letters with look-alike letters from Greek, Cyrillic, Armenian, Cherokee or full-width forms (`p\u0430ssword` with a Cyrillic `\u0430`), and words in strings and comments, such as host names, where a look-alike letter sits inside Latin letters (`g\u043e\u043egle.com`) or a Cyrillic-like letter in a word of three Latin letters or more; each distinct word once per file. Words written wholly in another script are fine, and so are unit symbols in text (`"μs"`, `"5 kΩ"`, `"Δt"`).',
      why:
        'Python accepts many Unicode letters in names and normalises some of them (NFKC), so two names that look identical in review can be different variables — or the same one while looking different. Attackers use this to shadow a trusted function (`r\u0435quests`), hide an extra argument, or make a condition always true. Invisible characters inside strings change URLs, commands and comparisons without showing.',
      example: '```python\nimport requests\ndef r\u0435quests_get(url):  # Cyrillic "\u0435"\n    ...\n```',
      useInstead: 'Use ASCII identifiers (or names wholly in one script), and `\\u` escapes for any invisible character a string really needs.',
    },
  },
  onFile(ctx) {
    const text = ctx.file.text;
    // Every character this rule looks for is non-ASCII: most files stop here (the UTF-8 length is computed natively,
    // far faster than a regex scan).
    if (Buffer.byteLength(text, 'utf8') === text.length) return;
    // Words (identifiers, and words inside strings and comments: `https://g\u043e\u043egle.com` is as bad) that mix
    // Latin with look-alike letters. Text-only, and only around look-alike letters: each is widened to its word.
    const seen = new Set<string>();
    const confusable = new RegExp(CONFUSABLE.source, 'g');
    for (let m = confusable.exec(text); m && seen.size < 50; m = confusable.exec(text)) {
      const [start, end] = wordAround(text, m.index);
      confusable.lastIndex = end; // the rest of this word is judged with it
      const w = text.slice(start, end);
      if (seen.has(w) || !LATIN.test(w)) continue;
      if (!isIdentifierAt(ctx.root, start) && !looksSpoofed(w)) continue;
      seen.add(w);
      const odd = [...w].filter((ch) => CONFUSABLE.test(ch)).map((ch) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
      ctx.reportRange(start, end, { word: w, letters: odd.join(', ') }, {
        severity: 'high',
        key: w,
      });
    }
    INVISIBLE.lastIndex = 0;
    let n = 0;
    for (let m = INVISIBLE.exec(text); m && n < 50; m = INVISIBLE.exec(text)) {
      if (m.index === 0 && m[0] === '\uFEFF') continue; // a BOM at the start is an encoding marker
      n++;
      const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
      ctx.reportRange(m.index, m.index + 1, { code }, {
        message: 'invisible',
        key: `U+${code}@${text.slice(Math.max(0, m.index - 20), m.index).replace(/\s+/g, ' ')}`,
      });
    }
  },
});
