/**
 * Which decoding produced a value (base64, hex, rot13, zlib, chr codes, reversed strings…), following names assigned
 * earlier: what DG304 looks for in code it runs and DG310 in names it looks up.
 */
import type { SyntaxNode } from 'tree-sitter';
import { argument, callArgs, stringValue, unwrap } from '../../src/engine/python';
import { resolveName } from '../../src/airflow/provenance';
import type { RuleContext } from '../../src/engine/context';

/** Calls that turn an opaque blob into text or code. */
const DECODERS = new Set([
  ...['b64decode', 'b32decode', 'b32hexdecode', 'b16decode', 'b85decode', 'a85decode', 'urlsafe_b64decode', 'standard_b64decode', 'decodebytes', 'decodestring'].map((f) => `base64.${f}`),
  ...['unhexlify', 'a2b_hex', 'a2b_base64', 'a2b_uu', 'a2b_qp'].map((f) => `binascii.${f}`),
  'zlib.decompress', 'gzip.decompress', 'bz2.decompress', 'lzma.decompress', 'marshal.loads',
  'bytes.fromhex', 'bytearray.fromhex',
]);
/** `codecs.decode(x, <encoding>)` encodings that hide text. */
const OBFUSCATING_CODECS = /^(rot[_-]?13|base64|base_64|base64_codec|hex|hex_codec|zlib|zip|zlib_codec|bz2|bz2_codec|uu|uu_codec|quopri)$/i;

/** Which decoding produced this value, if any (following names assigned earlier in the enclosing blocks). */
export function decoding(node: SyntaxNode, ctx: RuleContext, depth = 0): string | null {
  if (depth > 6) return null;
  const n = unwrap(node);
  switch (n.type) {
    case 'identifier': {
      for (const d of resolveName(n)) {
        const r = decoding(d, ctx, depth + 1);
        if (r) return r;
      }
      return null;
    }
    case 'subscript': {
      // "…"[::-1]
      const slice = n.namedChildren[1];
      if (slice?.type === 'slice' && /^::\s*-1$/.test(slice.text.replace(/\s/g, ''))) return 'reversed string';
      return null;
    }
    case 'binary_operator':
      return n.childForFieldName('operator')?.type === '+'
        ? (decoding(n.childForFieldName('left')!, ctx, depth + 1) ?? decoding(n.childForFieldName('right')!, ctx, depth + 1))
        : null;
    case 'call': {
      const q = ctx.callee(n) ?? '';
      if (DECODERS.has(q)) return q;
      const args = callArgs(n);
      if (q === 'codecs.decode' || q === 'codecs.encode') {
        const enc = stringValue(argument(args, 'encoding', 1));
        if (enc && OBFUSCATING_CODECS.test(enc)) return `${q}(…, "${enc}")`;
      }
      const f = n.childForFieldName('function')!;
      if (f.type === 'attribute') {
        const attr = f.childForFieldName('attribute')!.text;
        const obj = f.childForFieldName('object')!;
        if (attr === 'fromhex') return 'bytes.fromhex';
        if (attr === 'decode') {
          const enc = stringValue(argument(args, 'encoding', 0));
          if (enc && OBFUSCATING_CODECS.test(enc)) return `.decode("${enc}")`;
          return decoding(obj, ctx, depth + 1);
        }
        if (attr === 'join') {
          const arg = args.positional[0];
          if (arg && /(^|[^\w.])chr\s*\(|map\s*\(\s*chr\b/.test(arg.text)) return 'chr() join';
          return arg ? decoding(arg, ctx, depth + 1) : null;
        }
        if (attr === 'translate' || attr === 'replace') return decoding(obj, ctx, depth + 1);
      }
      if (q === 'str' || q === 'bytes') {
        const a = args.positional[0];
        return a ? decoding(a, ctx, depth + 1) : null;
      }
      if (q === 'exec' || q === 'eval' || q === 'compile' || q === 'builtins.exec' || q === 'builtins.eval' || q === 'builtins.compile') {
        // exec(compile(decoded, …))
        const a = args.positional[0];
        return a ? decoding(a, ctx, depth + 1) : null;
      }
      return null;
    }
    default:
      return null;
  }
}
