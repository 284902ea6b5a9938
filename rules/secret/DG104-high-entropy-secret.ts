import { defineRule } from '../../src/engine/rule';
import { redact } from '../../src/engine/redact';
import { SECRET_BINDING_QUERY, bindingFromCaptures, lhsName, secretKey } from './_bindings';
import { findTokens, isAwsSecretKeyBinding } from './_tokens';
import { findUriCredentials } from './_uri-credentials';
import { isNotASecretValue } from './_values';
import { looksRandom } from './_entropy';
import { nameStrength, nameWords, WEAK_NAME_WORDS } from './_names';

/** `Authorization: Bearer <token>` / `Basic <b64>` / `Token <t>` header values: the credential part. */
function credentialPart(name: string, value: string): string {
  const w = nameWords(name);
  if (w.includes('authorization') || w.includes('auth') || w.includes('bearer')) {
    const m = /^(?:bearer|basic|token|digest|apikey|api-key|sharedaccesssignature|sas|key)\s+(\S+)$/i.exec(value.trim());
    if (m) return m[1];
  }
  return value.trim();
}

/** `Basic <base64 of user:password>`: a credential whatever its entropy. */
function isBasicAuth(value: string): boolean {
  const m = /^basic\s+([A-Za-z0-9+/]+={0,2})$/i.exec(value.trim());
  if (!m) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  return /^[\x20-\x7e]+:[\x20-\x7e]+$/.test(decoded);
}

/**
 * `{"Authorization": "Bearer sk-proj-…"}`: a credential after an auth scheme in an Authorization header is one
 * whatever its entropy (hand-made API keys are not random-looking); 8 characters at least, letters and digits.
 */
function isSchemeCredential(name: string, value: string, cred: string): boolean {
  return cred !== value.trim() && nameWords(name).includes('authorization') && cred.length >= 8 && /[A-Za-z]/.test(cred) && /\d/.test(cred);
}

export default defineRule({
  meta: {
    id: 'DG104',
    name: 'high-entropy-secret',
    category: 'secret',
    severity: 'medium',
    message: 'random-looking value in `{name}` is probably a credential: {value}',
    docs: {
      what:
        'Finds random-looking string literals (Shannon entropy at or above detect-secrets\' limits: 4.5 bits per character for base64-like text, 3.0 for hex, lowered for short strings) bound to names that only weakly suggest a secret: `key`, `auth`, `signature`, `hmac`, `salt`, `cookie`, `session`, `dsn`, `webhook`, `routing_key`, `Authorization` headers (`{"Authorization": "Bearer …"}`)…\n\n' +
        'Names that clearly say "secret" (`password`, `token`, `api_key`…) are DG101\'s, whatever the entropy; this rule covers the generic case where only the value\'s randomness tells a credential from a lookup key. A credential after the scheme of an `Authorization` header (`Bearer …`, `Token …`) is reported whatever its entropy when it has letters and digits. Lookup keys (`cache_key`, `s3_key`, `partition_key`), UUIDs, hex digests of hash length (md5 is the exception: 32 hex is also a common API-key shape), commit SHAs and readable identifiers are ignored.',
      why:
        'Machine-generated credentials (HMAC keys, signing salts, bearer tokens, PagerDuty routing keys, Sentry DSNs) rarely carry a vendor prefix, so format rules miss them. Committed to a DAG repository they are readable by everyone with access to it and stay in git history.',
      example:
        '```python\nheaders = {"Authorization": "Bearer 9f8Kq2LmZx7Wv3RtYp1Nc6Hb4Gd0Js5A"}\nsigning_salt_key = "x7Qp2L9vKd3mZr8W"\nPagerDutyNotifier(routing_key="4f1c9e0b7a2d48c3b6e5f9a0d1c2b3e4")\n```',
      useInstead:
        '```python\nfrom airflow.hooks.base import BaseHook\n\ntoken = BaseHook.get_connection("partner_api").password\nheaders = {"Authorization": f"Bearer {token}"}   # inside the task\n```',
    },
  },
  // Bindings of a key/auth-ish name to a random-looking string, found from the binding's `=` / `:` in the text.
  // the same query as DG101 (run once for both); the basic-auth tuples it also captures are DG101's
  query: SECRET_BINDING_QUERY(),
  // a weak name holds one of these as a word of its own (`routing_key`, not `monkey`; `api_pin`, not `mapping`)
  keywords: WEAK_NAME_WORDS,
  keywordMatch: 'name-word',
  onMatch(c, ctx) {
    // the name first: most bindings near a weak word are not weak names, and their value need not be decoded
    const name = c.lhs?.[0] ? lhsName(c.lhs[0]) : null;
    if (!name || nameStrength(name) !== 'weak') return;
    // (a strong name is DG101's: it reports it unless the value was dismissed as a reference, which a random value
    // never is)
    const b = bindingFromCaptures(c);
    if (!b) return;
    const cred = credentialPart(b.name, b.value);
    if (isNotASecretValue(cred, b.name) || !(looksRandom(cred) || isBasicAuth(b.value) || isSchemeCredential(b.name, b.value, cred))) return;
    if (findTokens(b.value).length || findUriCredentials(b.value).length || isAwsSecretKeyBinding(b.name, cred)) return;
    ctx.report(b.valueNode, { name: b.name, value: redact(cred) }, {
      key: secretKey(`DG104:${b.name.toLowerCase()}`, cred),
    });
  },
});
