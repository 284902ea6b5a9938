/**
 * Code kept in a string constant that does what a DAG file never needs to hide there (DG301, DG306): start processes,
 * reach the network, call native code, decode another payload, import by name, run more code, read the environment.
 */
const HIDDEN: [RegExp, string][] = [
  [/\.\s*(?:system|popen)\s*\(|\b(?:os\s*\.\s*(?:system|popen|exec\w*|spawn\w*|fork)|subprocess|pty\s*\.\s*spawn|commands\s*\.)/, 'starts processes'],
  [/\b(?:socket|urllib|requests|http\.client|urlopen|httpx)\b/, 'reaches the network'],
  [/\b(?:ctypes|cffi)\b/, 'calls native code'],
  [/\b(?:b64decode|b32decode|b16decode|unhexlify|fromhex|decompress|marshal\s*\.\s*loads|codecs\s*\.\s*decode)\b/, 'decodes another payload'],
  [/__import__\s*\(|\bimport_module\s*\(/, 'imports modules by name'],
  [/\b(?:exec|eval)\s*\(/, 'runs more code from a string'],
  [/\benviron\b|\bgetenv\b/, 'reads the environment'],
  [/\bos\s*\.\s*(?:kill|killpg|_exit|abort)\b/, 'kills processes'],
];

/** Eight escape sequences in a row: code spelled `"\x69\x6d\x70…"` so that no word of it can be read or searched. */
const ESCAPED_RUN = /(?:\\x[0-9a-fA-F]{2}|\\[0-7]{3}|\\u[0-9a-fA-F]{4}){8}/;

/** What the code does that makes a string a hiding place for it, or null. (`code` is as written: escapes undecoded.) */
export function hiddenPayload(code: string): string | null {
  const text = code.includes('\\') ? decodeEscapes(code) : code;
  for (const [re, does] of HIDDEN) if (re.test(text)) return does;
  if (ESCAPED_RUN.test(code)) return 'is spelled in escape sequences';
  return null;
}

/** `\xNN`, `\uNNNN`, `\NNN` (octal) decoded; other escapes kept as written. */
function decodeEscapes(s: string): string {
  return s.replace(/\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|([0-7]{1,3}))/g, (_, x, u, o) => String.fromCharCode(parseInt(x ?? u ?? o, x || u ? 16 : 8)));
}
