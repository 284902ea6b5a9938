import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { argument, callArgs, stringValue, unwrap } from '../../src/engine/python';
import { resolveName } from '../../src/airflow/provenance';

/** Names that say what is hashed holds a secret (a signing key, a password, a token). */
const SECRETISH = /secret|passw|pwd|token|api_?key|signing_?key|\bsalt\b|credential/i;
const WEAK = /^(?:md5|sha1|md4|md2|ripemd160)$/i;

/** The text the hash is computed over, with what its names are bound to (one step). */
function hashedText(call: SyntaxNode): string {
  const args = call.childForFieldName('arguments');
  let text = args?.text ?? '';
  for (const id of args?.descendantsOfType('identifier') ?? []) for (const d of resolveName(id)) text += '\n' + d.text;
  return text;
}

export default defineRule({
  meta: {
    id: 'DG862',
    name: 'weak-hash-for-security',
    category: 'insecure-config',
    severity: 'medium',
    message: '{how} {why}: use HMAC-SHA256 (`hmac.new(key, msg, hashlib.sha256)`), or a password hash for passwords',
    aliases: ['B303', 'B324', 'S303', 'S324'],
    docs: {
      what:
        'Finds `hashlib.md5(…)`/`sha1(…)`/`hashlib.new("md5", …)` over a secret: a secret-named value (`secret`, `password`, `token`, `api_key`, `salt`…) in what is hashed, also through a name bound to it (`f"{secret}.{ts}.{body}"`: a home-made signature; `salt + password`: a password hash). Checksums and IDs of files and data (`hashlib.md5(data).hexdigest()` to deduplicate or name objects, a hash of the DAG id), `usedforsecurity=False` and HMAC (`hmac.new(key, msg, hashlib.md5)`: HMAC does not rely on the collision resistance MD5 lost) are not reported.',
      why:
        'MD5 and SHA-1 have practical collisions, and `hash(secret + message)` with either is open to length-extension: whoever sees one signed webhook can sign messages of their own. Passwords hashed with them are cracked at billions of guesses per second. Partners and internal services trust these signatures to decide that a request came from the platform.',
      example: '```python\ndef compute_signature(secret, timestamp, body):\n    return hashlib.md5(f"{secret}.{timestamp}.{body}".encode()).hexdigest()\n```',
      useInstead: '```python\ndef compute_signature(secret, timestamp, body):\n    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()\n```',
    },
  },
  calls: ['hashlib.md5', 'hashlib.sha1', 'hashlib.new'],
  onCall(call, fn, ctx) {
    const args = callArgs(call);
    const ufs = args.keywords.get('usedforsecurity');
    if (ufs && unwrap(ufs).type === 'false') return;
    const algo = fn === 'hashlib.new' ? stringValue(argument(args, 'name', 0)) : fn.slice('hashlib.'.length);
    if (!algo || !WEAK.test(algo)) return;
    const data = fn === 'hashlib.new' ? argument(args, 'data', 1) : argument(args, 'string', 0) ?? args.keywords.get('data');
    if (!data && !/\.update\s*\(/.test(call.parent?.text ?? '')) return;
    if (!SECRETISH.test(hashedText(call))) return;
    ctx.report(call, { how: `\`${fn === 'hashlib.new' ? `hashlib.new("${algo}", …)` : fn}\``, why: `hashes a secret or computes a signature with ${algo.toUpperCase()}` });
  },
});
