import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { argument, callArgs, isTruthyConstant, unwrap } from '../../src/engine/python';
import { decoding } from './_decoding';
import { isNativeLibrary } from '../malicious/_facts';

/** Code sinks (first argument) and shell sinks that run a decoded string. */
const CODE_SINKS = new Set(['exec', 'eval', 'compile', 'builtins.exec', 'builtins.eval', 'builtins.compile']);
const SHELL_SINKS = new Set(['os.system', 'os.popen', 'subprocess.getoutput', 'subprocess.getstatusoutput']);
const SHELL_FLAG_SINKS = new Set(['subprocess.run', 'subprocess.call', 'subprocess.check_call', 'subprocess.check_output', 'subprocess.Popen']);

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
        'Finds `exec`, `eval`, `compile`, `os.system`, `os.popen`, shell-mode `subprocess` calls and the C library\'s `system`/`popen` through ctypes (`ctypes.CDLL(None).system(…)`, also a helper returning the library) whose argument is decoded on the way: `base64.*decode`, `binascii.unhexlify`, `bytes.fromhex`, `codecs.decode(…, "rot13"|"base64"|"hex"|"zlib")`, `zlib`/`gzip`/`bz2`/`lzma.decompress`, `marshal.loads`, `"".join(chr(…) …)`, reversed strings (`"…"[::-1]`) — directly or through a variable assigned earlier in the same scope (`code = base64.b64decode(BLOB); exec(code)`).',
      why:
        'Legitimate DAGs never need to run code they cannot show. Encoding a payload only serves to hide it from review and from scanners: this is how typosquatted packages and backdoored DAG files drop reverse shells and credential stealers. In a DAG file it runs in the scheduler/dag-processor at every parse, with access to the metadata DB and every connection.',
      example: '```python\nimport base64, zlib\nexec(zlib.decompress(base64.b64decode("eJzLKCkpKLbS1y8vL9fLTM4vyi8uSSxJBQBYjAfR")))\n```',
      useInstead: 'Remove it and investigate how it got there. If code really must be shipped, ship it as a reviewed module in the repository and import it.',
    },
  },
  // the C library's `system`/`popen` through ctypes (`ctypes.CDLL(None).system(bytes.fromhex(…))`)
  calls: ['builtins.exec', 'builtins.eval', 'builtins.compile', ...SHELL_SINKS, ...SHELL_FLAG_SINKS, '**.system', '**.popen'],
  onCall(call, fn, ctx) {
    const args = callArgs(call);
    let payload: SyntaxNode | undefined;
    const f = call.childForFieldName('function');
    if (!CODE_SINKS.has(fn) && !SHELL_SINKS.has(fn) && !SHELL_FLAG_SINKS.has(fn)) {
      if (f?.type !== 'attribute' || !isNativeLibrary(f.childForFieldName('object')!, ctx)) return;
      payload = args.positional[0];
    } else if (CODE_SINKS.has(fn)) payload = args.positional[0] ?? args.keywords.get('source');
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
