import { defineRule } from '../../src/engine/rule';

/** Characters that render as nothing (or as blank) but are part of the text. */
const INVISIBLE = /[\u200B\u200C\u200D\u2060\u2061\u2062\u2063\u2064\u180E\u00AD\u115F\u1160\u3164\uFFA0\uFEFF]/g;
const LATIN = /[A-Za-z]/;
/** Scripts with letters that look like Latin ones. */
const CONFUSABLE = /[\u0370-\u03FF\u0400-\u04FF\u0500-\u052F\u0530-\u058F\u13A0-\u13FF\uFF21-\uFF3A\uFF41-\uFF5A]/;

export default defineRule({
  meta: {
    id: 'DG611',
    name: 'invisible-or-confusable-identifier',
    category: 'malicious',
    severity: 'medium',
    message: 'invisible character or look-alike letters in the source: it is not what it appears to be',
    docs: {
      what:
        'Finds invisible characters anywhere in the file (zero-width space/joiners, word joiner, invisible operators, soft hyphen, Hangul fillers, a byte-order mark after the start), and identifiers — and words in strings and comments, such as host names — that mix Latin letters with look-alike letters from Greek, Cyrillic, Armenian, Cherokee or full-width forms (`p\u0430ssword` with a Cyrillic `\u0430`); each distinct word once per file. Words written wholly in another script are fine.',
      why:
        'Python accepts many Unicode letters in names and normalises some of them (NFKC), so two names that look identical in review can be different variables — or the same one while looking different. Attackers use this to shadow a trusted function (`r\u0435quests`), hide an extra argument, or make a condition always true. Invisible characters inside strings change URLs, commands and comparisons without showing.',
      example: '```python\nimport requests\ndef r\u0435quests_get(url):  # Cyrillic "\u0435"\n    ...\n```',
      useInstead: 'Use ASCII identifiers (or names wholly in one script), and `\\u` escapes for any invisible character a string really needs.',
    },
  },
  onFile(ctx) {
    const text = ctx.file.text;
    // Words (identifiers, and words inside strings and comments: `https://g\u043e\u043egle.com` is as bad) that mix
    // Latin with look-alike letters. Text-only: a tree-wide identifier query would cost more than all rules together.
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7F]/.test(text)) {
      const seen = new Set<string>();
      const words = /[\p{L}\p{M}\p{N}_]+/gu;
      for (let m = words.exec(text); m && seen.size < 50; m = words.exec(text)) {
        const w = m[0];
        if (seen.has(w) || !LATIN.test(w) || !CONFUSABLE.test(w)) continue;
        seen.add(w);
        const odd = [...w].filter((ch) => CONFUSABLE.test(ch)).map((ch) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
        ctx.reportRange(m.index, m.index + w.length, `\`${w}\` mixes Latin letters with look-alike letters (${odd.join(', ')}): it is not the name it appears to be`, {
          severity: 'high',
          key: w,
        });
      }
    }
    INVISIBLE.lastIndex = 0;
    let n = 0;
    for (let m = INVISIBLE.exec(text); m && n < 50; m = INVISIBLE.exec(text)) {
      if (m.index === 0 && m[0] === '\uFEFF') continue; // a BOM at the start is an encoding marker
      n++;
      const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
      ctx.reportRange(m.index, m.index + 1, `invisible character U+${code} in the source: it changes what the code means without showing`, {
        key: `U+${code}@${text.slice(Math.max(0, m.index - 20), m.index).replace(/\s+/g, ' ')}`,
      });
    }
  },
});
