/**
 * Where the words the prefilters ask about occur in a file, found in one pass over its lower-cased text.
 *
 * The prefilters ask "does the file contain one of this rule's keywords?" (any letter case, anywhere) and "does it
 * hold this name as a whole token?" (the words of callee patterns: `subprocess`, `Variable`), and the query
 * windows need where the keywords are. Searching ~70 keywords with `indexOf` read every file ~70 times (most are
 * absent, so each search reads the whole text), and splitting every file into a token set cost as much again:
 * ~0.7 s of CPU on the 16 MB corpus. Here each position of the text is looked up once in a table of the words'
 * first two characters (and a mask of their third), and only the few words starting so are compared.
 */

/** How a word is looked for. */
export type WordKind =
  /** Anywhere, any letter case (a rule keyword). */
  | 'substring'
  /** As written, as a whole identifier-shaped token (`[A-Za-z_][A-Za-z0-9_]*`, strings and comments included). */
  | 'token'
  /** Any letter case, as a whole word of a name (see `Rule.keywordMatch`): `pin` in `api_pin`, `userPin`, `X-PIN2`. */
  | 'name-word'
  /** Any letter case, ending a word of a name: `password` in `DB_PASSWORD`, `databasepassword`. */
  | 'name-word-end';

export class KeywordScanner {
  private readonly words: { text: string; lower: string; kind: WordKind; codes: number[]; lowerCodes: number[] }[] = [];
  private readonly ids = new Map<string, number>();
  // Per table (0: substring and name-word kinds, 1: token): bigram of two ASCII characters (7 bits each) -> 1 + index into `buckets`
  // (0: no word starts so), and the mask of the third characters (folded to 5 bits) its words continue with, so
  // that most hits of common pairs (`se`, `co`, `re`…) stop without comparing any word.
  private tables: Int32Array[] | null = null;
  /** Bigrams some word of either kind starts with (one lookup for the common case, no word here). */
  private any: Uint8Array | null = null;
  private thirds: Int32Array[] = [];
  private buckets: number[][] = [];
  private fallback: number[] = [];

  /** Id of a word in `scan`'s result (the same word and kind is added once). Only before the first `scan`. */
  add(word: string, kind: WordKind): number {
    if (!word) throw new Error('empty keyword');
    const key = `${kind}\0${word}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      if (this.tables) throw new Error('KeywordScanner: add after scan');
      const lower = word.toLowerCase();
      id = this.words.push({ text: word, lower, kind, codes: codesOf(word), lowerCodes: codesOf(lower) }) - 1;
      this.ids.set(key, id);
    }
    return id;
  }

  get size(): number {
    return this.words.length;
  }

  /** A word, by id. */
  word(id: number): string {
    return this.words[id].text;
  }

  private build(): void {
    // Words the tables cannot index (one character, a character that is not ASCII, a lower case of another length)
    // are searched with `indexOf`.
    const tables = [new Int32Array(128 * 128), new Int32Array(128 * 128)];
    const thirds = [new Int32Array(128 * 128), new Int32Array(128 * 128)];
    this.words.forEach((w, id) => {
      const a = w.lower.charCodeAt(0);
      const b = w.lower.charCodeAt(1);
      if (w.lower.length < 2 || NON_ASCII.test(w.text) || NON_ASCII.test(w.lower) || w.lower.length !== w.text.length) {
        this.fallback.push(id);
        return;
      }
      const kind = w.kind === 'token' ? 1 : 0;
      const key = (a << 7) | b;
      if (!tables[kind][key]) tables[kind][key] = this.buckets.push([]);
      this.buckets[tables[kind][key] - 1].push(id);
      thirds[kind][key] |= w.lower.length < 3 ? -1 : 1 << (w.lower.charCodeAt(2) & 31);
    });
    this.tables = tables;
    this.thirds = thirds;
    this.any = Uint8Array.from({ length: 128 * 128 }, (_, k) => (tables[0][k] || tables[1][k] ? 1 : 0));
  }

  /** Start offsets of each word (by id), ascending; overlapping occurrences included. */
  scan(text: string): number[][] {
    if (!this.tables) this.build();
    // Most files are ASCII: their bytes (latin-1: one per character) are read several times faster than the
    // characters of a string. Other text is read as UTF-16 code units, unless lower-casing changes its length
    // (`İ`), which would misalign the two: then every word is searched on its own.
    if (!NON_ASCII.test(text)) return this.scanCodes(text, Buffer.from(text, 'latin1'), Buffer.from(text.toLowerCase(), 'latin1'));
    const lower = text.toLowerCase();
    if (lower.length !== text.length) return this.words.map((w) => findAll(text, lower, w.text, w.kind));
    // Every word in the tables is ASCII and every test below is on ASCII codes, so any other code unit may read as
    // one byte that is none of them (0xFF). Bytes, not UTF-16 units: a second array type here made V8 throw the
    // optimised loop away and recompile it for every file that switched kinds.
    return this.scanCodes(text, asciiBytes(text), asciiBytes(lower));
  }

  /** `codes`/`lower`: the text's characters and those of its lower-cased copy, aligned, one byte each (asciiBytes). */
  private scanCodes(text: string, codes: Buffer, lower: Buffer): number[][] {
    const out: number[][] = new Array<number[]>(this.words.length).fill(NONE);
    const [subTable, tokTable] = this.tables!;
    const [subThird, tokThird] = this.thirds;
    const { buckets, words } = this;
    const any = this.any!;
    const n = lower.length;
    let c0 = n ? lower[0] : 0;
    let c1 = n > 1 ? lower[1] : 0;
    for (let i = 0; i + 1 < n; i++) {
      const ascii = (c0 | c1) < 128;
      const key = (c0 << 7) | c1;
      c0 = c1;
      c1 = i + 2 < n ? lower[i + 2] : 0;
      if (!ascii || !any[key]) continue;
      const bit = 1 << (c1 & 31);
      const s = subTable[key];
      if (s && subThird[key] & bit) {
        const bucket = buckets[s - 1];
        for (let k = 0; k < bucket.length; k++) {
          const w = words[bucket[k]];
          if (startsWithCodes(lower, i, w.lowerCodes) && (w.kind === 'substring' || isNameWord(codes, i, i + w.lowerCodes.length, w.kind))) add(out, bucket[k], i);
        }
      }
      // a token starts only after a character that cannot continue one (or after digits: `9os`, see tokenBefore)
      const t = tokTable[key];
      if (t && tokThird[key] & bit && (i === 0 || !isLetterOrUnderscore(codes[i - 1]))) {
        // only words as long as the token here can be it
        let j = i + 2;
        while (j < n && isTokenChar(codes[j])) j++;
        const len = j - i;
        const bucket = buckets[t - 1];
        for (let k = 0; k < bucket.length; k++) {
          const w = words[bucket[k]];
          if (w.codes.length === len && startsWithCodes(codes, i, w.codes) && tokenBefore(codes, i)) add(out, bucket[k], i);
        }
      }
    }
    if (this.fallback.length) {
      const lowerText = text.toLowerCase();
      for (const id of this.fallback) out[id] = findAll(text, lowerText, words[id].text, words[id].kind);
    }
    return out;
  }
}

/** The result of a word that does not occur (shared: never pushed to, see `add`). */
const NONE: number[] = Object.freeze([]) as unknown as number[];

function add(out: number[][], id: number, i: number): void {
  if (out[id] === NONE) out[id] = [i];
  else out[id].push(i);
}

const NON_ASCII = /[^\x00-\x7f]/;

function codesOf(word: string): number[] {
  return Array.from(word, (ch) => ch.charCodeAt(0));
}

function startsWithCodes(codes: Buffer, i: number, word: number[]): boolean {
  if (i + word.length > codes.length) return false;
  for (let k = 0; k < word.length; k++) if (codes[i + k] !== word[k]) return false;
  return true;
}

/** One byte per UTF-16 code unit: ASCII as it is, anything else 0xFF. */
function asciiBytes(text: string): Buffer {
  return Buffer.from(text.replace(NON_ASCII_ALL, '\xff'), 'latin1');
}

const NON_ASCII_ALL = new RegExp(NON_ASCII.source, 'g');

/** The UTF-16 code units of a string. */
function codeUnits(text: string): Uint16Array {
  const out = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function isLetterOrUnderscore(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

/** isTokenAt's look back: only digits, not preceded by a letter or `_`, may precede a token. */
function tokenBefore(codes: Buffer, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && codes[j] >= 48 && codes[j] <= 57) j--;
  return j < 0 || !isTokenChar(codes[j]);
}

function findAll(text: string, lower: string, word: string, kind: WordKind): number[] {
  const out: number[] = [];
  if (kind === 'substring') {
    const w = word.toLowerCase();
    for (let i = lower.indexOf(w); i >= 0; i = lower.indexOf(w, i + 1)) out.push(i);
  } else if (kind !== 'token') {
    // case-insensitive search in the original text itself (its lower-cased copy may not be aligned with it)
    const re = new RegExp(word, 'gi'); // name-word keywords are letters (checked in compileRules)
    const codes = codeUnits(text);
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (isNameWord(codes, m.index, m.index + m[0].length, kind)) out.push(m.index);
      re.lastIndex = m.index + 1;
    }
  } else out.push(...tokenPositions(text, word));
  return out;
}

/** Where `word` stands in the text as a whole token (see isTokenAt). */
export function tokenPositions(text: string, word: string): number[] {
  const out: number[] = [];
  for (let i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + 1)) if (isTokenAt(text, i, word.length)) out.push(i);
  return out;
}

/**
 * Is the keyword found at [i, end) a word of a name as `nameWords` (rules/secret/_names.ts) splits names — split at
 * anything but letters and digits and before a capital that follows a small letter or digit, trailing digits
 * ignored? Over-approximated, never under: a word starts after anything but a small letter or digit, or at a
 * capital; it ends where no small letter follows (after any digits).
 */
function isNameWord(codes: ArrayLike<number>, i: number, end: number, kind: WordKind): boolean {
  if (kind === 'name-word' && i > 0 && isSmallOrDigit(codes[i - 1]) && !isCapital(codes[i])) return false;
  let j = end;
  while (j < codes.length && isDigit(codes[j])) j++;
  return !(j < codes.length && isSmall(codes[j]));
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isSmall(c: number): boolean {
  return c >= 97 && c <= 122;
}

function isCapital(c: number): boolean {
  return c >= 65 && c <= 90;
}

function isSmallOrDigit(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

function isTokenChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/**
 * Is text[i, i + len) a whole token as `/[A-Za-z_][A-Za-z0-9_]*\/g` splits the text? It is when no token character
 * follows, and none precedes — or only digits do, themselves preceded by no letter or `_` (`9os` holds the token
 * `os`: a token cannot start with a digit).
 */
export function isTokenAt(text: string, i: number, len: number): boolean {
  if (isTokenChar(text.charCodeAt(i + len))) return false;
  let j = i - 1;
  while (j >= 0 && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j--;
  if (j >= 0 && isTokenChar(text.charCodeAt(j))) return false;
  return true;
}
