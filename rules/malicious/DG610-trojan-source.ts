import { defineRule } from '../../src/engine/rule';

/** Embeddings, overrides and isolates: they reorder what is displayed. */
const REORDERING = /[\u202A-\u202E\u2066-\u2069]/g;
/** Directional marks: only change how neutral characters attach; legitimate in right-to-left text. */
const MARKS = /[\u200E\u200F\u061C]/g;
const NAMES: Record<string, string> = {
  '\u202A': 'LEFT-TO-RIGHT EMBEDDING',
  '\u202B': 'RIGHT-TO-LEFT EMBEDDING',
  '\u202C': 'POP DIRECTIONAL FORMATTING',
  '\u202D': 'LEFT-TO-RIGHT OVERRIDE',
  '\u202E': 'RIGHT-TO-LEFT OVERRIDE',
  '\u2066': 'LEFT-TO-RIGHT ISOLATE',
  '\u2067': 'RIGHT-TO-LEFT ISOLATE',
  '\u2068': 'FIRST STRONG ISOLATE',
  '\u2069': 'POP DIRECTIONAL ISOLATE',
  '\u200E': 'LEFT-TO-RIGHT MARK',
  '\u200F': 'RIGHT-TO-LEFT MARK',
  '\u061C': 'ARABIC LETTER MARK',
};
const MAX_PER_FILE = 50;

export default defineRule({
  meta: {
    id: 'DG610',
    name: 'trojan-source',
    category: 'malicious',
    severity: 'high',
    message: 'bidirectional control character U+{code} {name}: the code may not do what it displays',
    aliases: ['B613'],
    docs: {
      what:
        'Finds Unicode bidirectional control characters anywhere in the file — in code, strings and comments: embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069) are high; the directional marks U+200E, U+200F and U+061C, which are legitimate in right-to-left text, are low. Each occurrence is reported at its exact position.',
      why:
        'These characters reorder how a line is displayed in editors and code review without changing how Python reads it ("Trojan Source", CVE-2021-42574): a comment can appear to close before code that in fact is inside it, or a string can hide a statement. A DAG file reviewed on a web UI can thus run code the reviewer never saw.',
      example: '```python\n# shown in review as:   if access_level != "user":  # Check if admin\n# but the file holds U+202E/U+2066 inside the string, so Python reads the comment as part of the string\nif access_level != "user\\u202e \\u2066# Check if admin\\u2069 \\u2066":\n    grant_everything()\n```',
      useInstead: 'Remove the characters. Keep right-to-left text out of code (load it from data files), or write it with `\\u` escapes.',
    },
  },
  onFile(ctx) {
    const text = ctx.file.text;
    if (!/[\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069]/.test(text)) return;
    let n = 0;
    for (const [re, severity] of [
      [REORDERING, 'high'],
      [MARKS, 'low'],
    ] as const) {
      re.lastIndex = 0;
      for (let m = re.exec(text); m && n < MAX_PER_FILE; m = re.exec(text), n++) {
        const ch = m[0];
        const code = ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
        ctx.reportRange(m.index, m.index + 1, { code, name: NAMES[ch] ?? '' }, {
          severity,
          key: `U+${code}@${text.slice(Math.max(0, m.index - 20), m.index).replace(/\s+/g, ' ')}`,
        });
      }
    }
  },
});
