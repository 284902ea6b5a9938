/** Reading a Python file as Python would decode it: UTF-8 by default, PEP 263 coding cookie honoured. */
import * as fs from 'node:fs';
import { TextDecoder } from 'node:util';

export type SourceResult = { text: string } | { error: string };

const LATIN1 = new Set(['latin-1', 'latin1', 'iso-8859-1', 'iso8859-1', 'l1', 'iso-ir-100', 'cp819']);
const COOKIE = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/;

export function readSource(abs: string, maxBytes: number): SourceResult {
  let buf: Buffer;
  try {
    // one open, one fstat, one read: the size check without a second lookup of the path
    const fd = fs.openSync(abs, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size > maxBytes) {
        return {
          error: `file is ${Math.ceil(size / 1024)} KiB, over the ${Math.floor(maxBytes / 1024)} KiB limit (max-file-size-kb): not scanned`,
        };
      }
      buf = fs.readFileSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { error: `cannot read file: ${e.code === 'EACCES' ? 'permission denied' : e.code ?? e.message}` };
  }
  return decodeSource(buf);
}

/** Bytes -> text as Python decodes a source file (BOM, PEP 263 cookie), or why it cannot be. */
export function decodeSource(buf: Buffer): SourceResult {
  const probe = buf.subarray(0, 8192);
  if (probe.includes(0)) return { error: 'binary file (contains NUL bytes): not valid Python source, not scanned' };
  let encoding = 'utf-8';
  let body = buf;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) body = buf.subarray(3);
  else {
    // PEP 263: the cookie may sit on line 1 or 2.
    const head = buf.subarray(0, 512).toString('latin1').split('\n').slice(0, 2);
    for (const line of head) {
      const m = COOKIE.exec(line);
      if (m) {
        encoding = m[1].toLowerCase().replace(/_/g, '-');
        break;
      }
      if (!/^[ \t\f]*(#.*)?\r?$/.test(line)) break;
    }
  }
  // Python's codec names differ from WHATWG labels; latin-1 is exactly bytes 0-255 (not windows-1252).
  if (LATIN1.has(encoding)) return { text: body.toString('latin1') };
  if (encoding === 'utf8' || encoding === 'utf-8-sig') encoding = 'utf-8';
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding, { fatal: true });
  } catch {
    return { error: `unknown source encoding "${encoding}" in the coding declaration: not scanned` };
  }
  try {
    return { text: decoder.decode(body) };
  } catch {
    return { error: `not valid ${encoding} text (Python would refuse to import it): not scanned` };
  }
}
