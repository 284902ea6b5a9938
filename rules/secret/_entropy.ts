/**
 * Shannon entropy and "looks random" for values under weak names (DG104).
 */
import { isHashOrId } from './_values';

export function shannonEntropy(s: string): number {
  if (!s) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * Does this look like a random machine-generated secret? detect-secrets' limits (base64 4.5, hex 3.0), scaled down
 * for short strings (a 24-char random string cannot reach 4.5 bits: log2(24) = 4.58).
 */
export function looksRandom(raw: string): boolean {
  const v = raw.trim();
  if (v.length > 1000) return false;
  if (isHashOrId(v)) return false;
  if (/^[0-9a-fA-F]{16,}$/.test(v)) {
    let h = shannonEntropy(v);
    if (/^\d+$/.test(v)) h -= 1.2 / Math.log2(v.length); // detect-secrets' all-digit penalty
    return h >= 3.0;
  }
  if (/^[A-Za-z0-9+/=_.~-]{16,}$/.test(v)) {
    if (!/[0-9]/.test(v)) return false; // words joined (CamelCase, snake_case): an identifier
    if (/^[a-z]+([._-][a-z]+)+$/i.test(v)) return false;
    if (/^[a-z0-9]+([_.-][a-z0-9]+)+$/.test(v)) return false; // lower-case identifier with digits: iav2_graph_date
    if (/(^|\/)[a-z][a-z_-]{2,40}\//.test(v)) return false; // a path: emr-logs/j-1NAO.../stderr
    const limit = Math.min(4.5, Math.log2(v.length) - 0.9);
    return shannonEntropy(v) >= limit;
  }
  return false;
}
