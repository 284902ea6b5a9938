import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { argument, callArgs, isTruthyConstant, stringValue, unwrap } from '../../src/engine/python';
import { resolveName } from '../../src/airflow/provenance';
import type { RuleContext } from '../../src/engine/context';

/** Code sinks (first argument) and shell sinks that run a decoded string. */
const CODE_SINKS = new Set(['exec', 'eval', 'compile', 'builtins.exec', 'builtins.eval', 'builtins.compile']);
const SHELL_SINKS = new Set(['os.system', 'os.popen', 'subprocess.getoutput', 'subprocess.getstatusoutput']);
const SHELL_FLAG_SINKS = new Set(['subprocess.run', 'subprocess.call', 'subprocess.check_call', 'subprocess.check_output', 'subprocess.Popen']);

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
function decoding(node: SyntaxNode, ctx: RuleContext, depth = 0): string | null {
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
      if (CODE_SINKS.has(q)) {
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


export default defineRule({
  meta: {
    id: 'DG304',
    name: 'decoded-payload-exec',
    category: 'code-injection',
    severity: 'critical',
    parseTime: 'note',
    message: '`{fn}` runs a payload decoded with {how}: the signature of hidden malicious code',
    aliases: [],
    docs: {
      what:
        'Finds `exec`, `eval`, `compile`, `os.system`, `os.popen` and shell-mode `subprocess` calls whose argument is decoded on the way: `base64.*decode`, `binascii.unhexlify`, `bytes.fromhex`, `codecs.decode(…, "rot13"|"base64"|"hex"|"zlib")`, `zlib`/`gzip`/`bz2`/`lzma.decompress`, `marshal.loads`, `"".join(chr(…) …)`, reversed strings (`"…"[::-1]`) — directly or through a variable assigned earlier in the same scope (`code = base64.b64decode(BLOB); exec(code)`).',
      why:
        'Legitimate DAGs never need to run code they cannot show. Encoding a payload only serves to hide it from review and from scanners: this is how typosquatted packages and backdoored DAG files drop reverse shells and credential stealers. In a DAG file it runs in the scheduler/dag-processor at every parse, with access to the metadata DB and every connection.',
      example: '```python\nimport base64, zlib\nexec(zlib.decompress(base64.b64decode("eJzLKCkpKLbS1y8vL9fLTM4vyi8uSSxJBQBYjAfR")))\n```',
      useInstead: 'Remove it and investigate how it got there. If code really must be shipped, ship it as a reviewed module in the repository and import it.',
    },
  },
  calls: ['builtins.exec', 'builtins.eval', 'builtins.compile', ...SHELL_SINKS, ...SHELL_FLAG_SINKS],
  onCall(call, fn, ctx) {
    const args = callArgs(call);
    let payload: SyntaxNode | undefined;
    if (CODE_SINKS.has(fn)) payload = args.positional[0] ?? args.keywords.get('source');
    else if (SHELL_SINKS.has(fn)) payload = args.positional[0] ?? args.keywords.get('cmd') ?? args.keywords.get('command');
    else if (SHELL_FLAG_SINKS.has(fn) && isTruthyConstant(args.keywords.get('shell'))) payload = argument(args, 'args', 0);
    if (!payload) return;
    // exec(compile(decoded)) is reported once, on compile
    const pu = unwrap(payload);
    if (pu.type === 'call' && CODE_SINKS.has(ctx.callee(pu) ?? '')) return;
    const how = decoding(payload, ctx);
    if (!how) return;
    ctx.report(call, { fn: fn.replace('builtins.', ''), how: `\`${how}\`` });
  },
});
