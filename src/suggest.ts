/**
 * "Did you mean …?" for unknown rule selectors and config keys, as commander does for commands and options:
 * the closest candidates by edit distance (case-insensitive), only when close enough to be a plausible typo.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[t.length];
}

/** Up to three of the nearest candidates, within a distance of max(1, 40% of the word's length). */
export function suggestions(word: string, candidates: Iterable<string>): string[] {
  const limit = Math.max(1, Math.floor(word.length * 0.4));
  const scored: Array<[string, number]> = [];
  for (const c of new Set(candidates)) {
    const d = editDistance(word, c);
    if (d <= limit && c.toLowerCase() !== word.toLowerCase()) scored.push([c, d]);
  }
  if (!scored.length) return [];
  // Only the nearest: `DG1O1` suggests DG101, not every DG10x one more edit away.
  const best = Math.min(...scored.map(([, d]) => d));
  return scored.filter(([, d]) => d === best).sort((x, y) => x[0].localeCompare(y[0])).slice(0, 3).map(([c]) => c);
}

/** ` (did you mean X or Y?)`, or '' when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const s = suggestions(word, candidates);
  if (!s.length) return '';
  return ` (did you mean ${s.map((x) => `\`${x}\``).join(' or ')}?)`;
}
