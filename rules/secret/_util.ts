/**
 * Shared heuristics of the secret family (DG1xx): name classification, value filters (placeholders, templates,
 * references), Shannon entropy, known token formats and credential-bearing URIs.
 *
 * Written for dag-guard from the published behaviour of detect-secrets (Apache-2.0) and gitleaks (MIT); no code
 * copied. Everything here is pure string logic so it can be unit-checked without a tree.
 */
import { createHash } from 'node:crypto';
import type { SyntaxNode } from 'tree-sitter';
import { stringValue, unwrap } from '../../src/engine/python';
import type { RuleContext } from '../../src/engine/context';

// ---------------------------------------------------------------------------------------------------------------
// Names

/** `DB_PASSWORD` -> [db, password]; `clientSecret` -> [client, secret]; `X-API-Key` -> [x, api, key]. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .map((w) => w.replace(/\d+$/, ''))
    .filter(Boolean);
}

/** Words that by themselves name a secret value. */
const STRONG_WORDS = new Set([
  'password', 'passwd', 'passwort', 'pwd', 'pass', 'pw', 'passphrase', 'passcode', 'secret', 'secrets',
  'token', 'credential', 'credentials', 'creds', 'apikey', 'contrasena', 'contraseña',
]);
/** Concatenated forms (`DATABASEPASSWORD`, `accesstoken`, `clientsecret`) end with one of these. */
const STRONG_SUFFIXES = ['password', 'passwd', 'passphrase', 'secret', 'token', 'credentials', 'credential', 'apikey', 'secretkey', 'privatekey', 'accesskey', 'authkey', 'signingkey'];
/** `<word> key` is a secret for these words (`api_key`, `secret_access_key`, `fernet_key`...). */
const KEY_PREFIXES = new Set([
  'api', 'secret', 'private', 'priv', 'access', 'client', 'auth', 'signing', 'encryption', 'encrypt', 'master',
  'service', 'account', 'db', 'database', 'ssh', 'fernet', 'app', 'consumer', 'sas', 'hmac', 'jwt', 'crypto',
  'cipher', 'aes', 'rsa', 'csrf', 'oauth', 'openai', 'anthropic', 'stripe', 'sendgrid', 'mailgun', 'twilio', 'slack',
  'github', 'gitlab', 'datadog', 'dd', 'pagerduty', 'algolia', 'mapbox', 'google', 'gcp', 'azure', 'aws',
]);
/** Trailing qualifiers that keep a secret a secret: `password_b64`, `token_prod`, `secret_value`. */
const QUALIFIERS = new Set([
  'value', 'val', 'str', 'string', 'b', 'base', 'hex', 'raw', 'plain', 'plaintext', 'clear', 'cleartext',
  'enc', 'encoded', 'bytes', 'data', 'prod', 'production', 'dev', 'stg', 'staging', 'test', 'qa', 'uat', 'old',
  'new', 'default', 'override', 'orig', 'original', 'real', 'literal', 'here', 'text', 'hardcoded', 'static',
  'fixed', 'main', 'primary', 'secondary', 'backup', 'current', 'v',
]);
/** `next_token`, `page_token`: pagination cursors, not secrets (bandit#1350). */
const NOT_SECRET_BEFORE_TOKEN = new Set([
  'next', 'page', 'continuation', 'pagination', 'sync', 'cancel', 'cancellation', 'resume', 'start', 'end', 'stop',
  'max', 'min', 'num', 'count', 'marker', 'cursor', 'split', 'word', 'special', 'eos', 'bos', 'pad', 'unk', 'sep',
  'mask', 'cls', 'input', 'output', 'prompt', 'completion', 'total', 'batch', 'lexer', 'parse',
]);
/** Words that only weakly suggest a secret: reported only when the value looks random (DG104). */
const WEAK_WORDS = new Set([
  'key', 'auth', 'authorization', 'sig', 'signature', 'hmac', 'salt', 'cookie', 'bearer', 'cred', 'license',
  'licence', 'otp', 'totp', 'mfa', 'pin', 'sas', 'dsn', 'webhook', 'hook', 'session', 'nonce', 'cert', 'sid',
]);
/** `key` preceded by these is a lookup key, not a secret. */
const NOT_SECRET_BEFORE_KEY = new Set([
  'cache', 's', 'object', 'partition', 'primary', 'sort', 'foreign', 'dedup', 'dedupe', 'idempotency', 'lookup',
  'dict', 'map', 'hash', 'bucket', 'file', 'blob', 'gcs', 'row', 'column', 'join', 'group', 'shard', 'message',
  'xcom', 'metadata', 'task', 'dag', 'run', 'sensor', 'source', 'dest', 'destination', 'target', 'prefix', 'path',
  'redis', 'table', 'unique', 'composite', 'natural', 'surrogate', 'business', 'merge', 'config', 'setting', 'env',
  'json', 'field', 'record', 'item', 'index', 'state', 'lock', 'public', 'pub', 'sort', 'hash', 'range', 'cluster',
  'distribution', 'dist', 'event', 'output', 'input', 'result', 'return', 'param', 'params', 'arg', 'kwarg',
  'template', 'label', 'tag', 'annotation', 'password', 'token', 'variable', 'var', 'conf', 'mapping', 'name',
]);

/** `sample_token`, `fake_password`: test data by name. */
const FAKE_PREFIXES = new Set(['sample', 'fake', 'dummy', 'mock', 'mocked', 'example', 'placeholder', 'invalid', 'wrong', 'bad', 'expired']);

export type NameStrength = 'strong' | 'weak' | null;

/**
 * How strongly an assignment target, keyword or dict key names a secret. The last meaningful word decides:
 * `db_password` and `DATABASEPASSWORD` are strong, `password_env`, `password_field`, `secret_name`, `token_key`,
 * `PASSWORD_VAR`, `token_url` name something else. `signing_key`, `api_key` are strong; `key`, `auth` weak.
 */
export function nameStrength(name: string): NameStrength {
  if (name === 'Key' || name.length > 100) return null; // boto3's S3 object key: put_object(Bucket=..., Key=...)
  const words = nameWords(name);
  if (words.length > 1 && FAKE_PREFIXES.has(words[0])) return null;
  while (words.length > 1 && QUALIFIERS.has(words[words.length - 1])) words.pop();
  if (!words.length) return null;
  const last = words[words.length - 1];
  const prev = words.length > 1 ? words[words.length - 2] : '';
  if (last === 'token' || last === 'tokens') {
    if (NOT_SECRET_BEFORE_TOKEN.has(prev)) return null;
    return 'strong';
  }
  if (last === 'key' || last === 'keys') {
    if (!prev) return 'weak';
    if (NOT_SECRET_BEFORE_KEY.has(prev)) return null;
    if (KEY_PREFIXES.has(prev)) return 'strong';
    return 'weak';
  }
  if (STRONG_WORDS.has(last)) return 'strong';
  if (last.length > 6 && STRONG_SUFFIXES.some((s) => last.endsWith(s))) {
    if (last.endsWith('token') && NOT_SECRET_BEFORE_TOKEN.has(last.slice(0, -5))) return null;
    return 'strong';
  }
  if (WEAK_WORDS.has(last)) return 'weak';
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Values

const PLACEHOLDER_WORDS = new Set([
  'changeme', 'change-me', 'change_me', 'replaceme', 'replace-me', 'replace_me', 'todo', 'tbd', 'fixme', 'none',
  'null', 'nil', 'undefined', 'dummy', 'fake', 'sample', 'example', 'placeholder', 'redacted', 'masked', 'hidden',
  'secret', 'secrets', 'password', 'passwd', 'token', 'pass', 'pwd', 'n/a', 'na', 'default', 'notset', 'not-set',
  'not_set', 'unset', 'empty', 'blank', 'true', 'false', 'yes', 'no', 'on', 'off', 'required', 'optional',
  'mysecret', 'mypassword', 'mytoken', 'apikey', 'api_key', 'api-key', 'xxxx', 'abc', 'abc123', 'foo', 'bar', 'baz',
  'foobar', 'string', 'str', 'env', 'prompt', 'ask', 'vault', 'keyring', 'basic', 'bearer', 'oauth', 'oauth2',
  'kerberos', 'ldap', 'ntlm', 'digest', 'iam', 'jwt', 'login', 'anonymous', 'guest', 'secret_key', 'secret-key',
  'access_token', 'refresh_token', 'id_token', 'client_credentials', 'authorization_code', 'password_grant',
]);

/**
 * Values that are not a literal secret: empty, masked (`***`, `xxxx`), placeholders (`<password>`, `changeme`,
 * `your-api-key`), templates (Jinja `{{ ... }}`, `${VAR}`, `$VAR`, `%(password)s`, `{password}`, `%s`),
 * secret-manager references (`vault:`, `arn:`, `projects/.../secrets/...`), env var / field names
 * (`DB_PASSWORD`, `access_token`, `k8s-secret-name`) and file paths.
 */
export function isNotASecretValue(value: string, name?: string): boolean {
  const v = value.trim();
  if (v.length < 3 || v.length > MAX_SCAN) return true;
  const low = v.toLowerCase();
  if (PLACEHOLDER_WORDS.has(low)) return true;
  if (NEGATED_SECRET_WORD.test(v)) return true; // napassword, no-token
  if (/^(.)\1+$/.test(v)) return true; // xxxx, ****, 0000, ----
  if (/^[*x•.#?_-]{3,}/i.test(v) && /^[*x•.#?_-]+[a-z0-9]{0,4}$/i.test(v)) return true; // ****1234, xxx-xxx
  if (/\{\{.*\}\}|\{%.*%\}/s.test(v)) return true; // Jinja
  if (/\$\{[^}]*\}|\$\{\{|^\$[A-Za-z_][A-Za-z0-9_]*$|^%[A-Za-z_][A-Za-z0-9_]*%$/.test(v)) return true; // ${VAR} $VAR %VAR%
  if (/%\([A-Za-z_][A-Za-z0-9_]*\)[sdr]|^%[sdr]$|\{[A-Za-z_][A-Za-z0-9_.]*(![rs])?(:[^{}]*)?\}|\{\}/.test(v)) return true; // %(x)s {x} {}
  if (/^<[^<>]+>$|^\[[^[\]]+\]$|^\(\s*[^()]+\s*\)$/.test(v)) return true; // <password> [token]
  if (/^(your|my|insert|enter|put|add|paste|replace|some|the|a|an)[-_ ]?(own[-_ ]?)?[a-z_ -]*(password|passwd|pass|pwd|secret|token|key|api[-_ ]?key|credentials?)[-_ ]?(here)?$/i.test(v)) return true;
  if (/[-_ ](here|goes[-_ ]here)$/i.test(v) && /^[a-z_ -]+$/i.test(v)) return true;
  if (/^(vault|ssm|secretsmanager|secret|env|aws-sm|gcp-sm|sm|keyring|file|k8s|kubernetes|azure-kv|kv|op|doppler):/i.test(v)) return true;
  if (/^arn:aws[a-z-]*:/.test(v)) return true;
  if (/^[a-z][a-z0-9+.-]*:\/\/\S*$/i.test(v)) return true; // a URL: credentials inside it are DG102's / DG103's
  if (/^projects\/[^/]+\/secrets\//.test(v)) return true;
  if (/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(v)) return true; // env var name DB_PASSWORD
  // snake/kebab/dotted identifier naming a field, a Variable, a k8s Secret: `access_token`, `k8s-secret-name`.
  if (/^[a-z][a-z0-9]*([_.-][a-z][a-z0-9]*)+$/.test(v) && /(pass|pwd|secret|token|key|cred|auth|conn|var|env|name|field)/.test(low)) return true;
  if (/^[a-z]+([_-][a-z]+)+$/.test(v)) return true; // snake/kebab words: conn id, field, Variable key, `no-check`
  if (/made[-_ ]?up|not[-_ ]?a[-_ ]?real|fake|dummy|placeholder|example|sample|redacted|changeme|change[-_]me/i.test(v)) return true;
  if (name && normaliseName(v) === normaliseName(name)) return true;
  // paths to files holding the secret: /var/run/secrets/x, ~/.ssh/id_rsa, keys/sa.json, airflow/connections/db
  if (/^(~|\.{1,2})?\/[^\s]*$/.test(v) && !/[+=]/.test(v) && v.length < 200 && /[/.]/.test(v.slice(1))) return true;
  if (/^[\w.-]+\.(json|pem|key|p12|pfx|crt|cer|txt|ya?ml|ini|cfg|conf|env|jks|keytab|gpg|asc)$/i.test(v)) return true;
  if (/^[a-z0-9_.-]+(\/[a-z0-9_.-]+)+\/?$/.test(v)) return true; // lower-case secret-manager path
  if (/\s/.test(v) && v.split(/\s+/).length >= 4) return true; // a sentence: help text, prompt, error message
  return false;
}

/** `napassword`, `nopassword`, `no-token`, `test_secret`, `dummy-key`: "there is no secret here", spelled out. */
const NEGATED_SECRET_WORD = /^(?:n\/?a|no|not|non|none|null|nil|empty|unset|missing|dummy|fake|test|my|your)[-_ ]?(?:password|passwd|pwd|pass|secret|token|key|api[-_]?key|credentials?)$/i;

/** Secret words whose presence in a lookup's default value marks it as a placeholder (`"dev-password"`). */
const SECRET_WORD_IN_VALUE = /password|passwd|secret|token|api[-_]?key|credential/i;
/** Defaults that stand for "not configured": `n/a`, `none`, `test`, `dev123`, `xxx`, `changeme`, `dummy-key`. */
const PLACEHOLDER_DEFAULT = /^(?:n\/?a|na|no|none|null|nil|empty|unset|not[-_ ]?set|missing|unknown|default|dummy|fake|mock|test(?:ing)?|local|dev|changeme|change[-_]?me|todo|tbd|xx+|placeholder|sample|example)(?:\d{1,6}|[-_. ][a-z0-9]{1,12})?$/i;

/**
 * The fallback of a lookup (`Variable.get("DB_PASSWORD", "napassword")`, `os.getenv("API_TOKEN", "test")`) is
 * a placeholder when it says so: it contains the secret word itself, or it is an `n/a` / `none` / `test` /
 * `changeme` / `xxx` style word. A real password there is still reported (`os.getenv("DB_PASSWORD", "Summer24!")`).
 */
export function isPlaceholderDefault(value: string): boolean {
  const v = value.trim();
  return SECRET_WORD_IN_VALUE.test(v) || PLACEHOLDER_DEFAULT.test(v);
}

/** Password-class names (`password`, `DB_PASS`, `pwd`, `passphrase`): any literal under them is a password. */
export function isPasswordName(name: string): boolean {
  const words = nameWords(name);
  while (words.length > 1 && QUALIFIERS.has(words[words.length - 1])) words.pop();
  const last = words[words.length - 1] ?? '';
  return PASSWORD_WORDS.has(last) || (last.length > 6 && /(password|passwd|passphrase)$/.test(last));
}
const PASSWORD_WORDS = new Set(['password', 'passwd', 'passwort', 'pwd', 'pass', 'pw', 'passphrase', 'passcode', 'contrasena', 'contraseña']);

/**
 * A bare word or identifier (`address`, `tokenAddress`, `Value`): under `tokens`, `secret`, `api_key` it names a
 * column, a field or a kind, not a credential (a password can be any word; a token or key is not a word).
 */
export function isBareWord(value: string): boolean {
  return /^[A-Za-z][a-z]+(?:[A-Z][a-z]+)*$/.test(value.trim());
}

function normaliseName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** UUID, or a hex digest of a common length (md5, sha1/git commit, sha256, sha512). */
export function isHashOrId(v: string): boolean {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) return true;
  if (/^(sha\d*|md5|sha256|sha512)[:-]/i.test(v)) return true; // sha256:..., sha512-... (integrity)
  return /^[0-9a-f]+$/.test(v) && [40, 64, 128].includes(v.length);
}

// ---------------------------------------------------------------------------------------------------------------
// Entropy

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

// ---------------------------------------------------------------------------------------------------------------
// Known token formats (DG103)

export interface TokenFormat {
  id: string;
  label: string;
  re: RegExp;
  /** Minimum entropy of the match: drops `ghp_xxxxxxxx…` placeholders. */
  entropy?: number;
  severity?: 'critical' | 'high' | 'medium';
  /** Extra validation of the secret. */
  check?: (m: string) => boolean;
  /** Capture group holding the secret (default: the whole match). */
  group?: number;
}

export const TOKEN_FORMATS: TokenFormat[] = [
  { id: 'aws-access-key-id', label: 'AWS access key id', re: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}(?![A-Z0-9])/g, entropy: 3, check: (m) => !/EXAMPLE/.test(m) },
  {
    id: 'aws-secret-access-key', label: 'AWS secret access key',
    re: /(?:aws|secret_?access|boto|minio)[A-Za-z0-9_]{0,40}["']?\s*[:=]\s*[rbu]{0,2}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    group: 1, check: (v) => isAwsSecretKeyValue(v),
  },
  { id: 'github-token', label: 'GitHub token', re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])/g, entropy: 3 },
  { id: 'github-fine-grained-pat', label: 'GitHub fine-grained token', re: /github_pat_[A-Za-z0-9_]{60,255}/g, entropy: 3 },
  { id: 'gitlab-token', label: 'GitLab token', re: /(?<![A-Za-z0-9])gl(?:pat|dt|rt|cbt|ptt|oas)-[A-Za-z0-9_-]{20,100}/g, entropy: 3 },
  { id: 'slack-token', label: 'Slack token', re: /(?<![A-Za-z0-9])xox[abposre]-(?:\d{1,20}-){1,4}[A-Za-z0-9-]{10,200}|(?<![A-Za-z0-9])xapp-\d-[A-Z0-9]{1,20}-\d{1,20}-[a-z0-9]{20,100}/g, entropy: 3 },
  { id: 'slack-webhook', label: 'Slack webhook URL', re: /hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/_-]{30,200}/g, entropy: 3 },
  { id: 'teams-webhook', label: 'Microsoft Teams webhook URL', re: /\.webhook\.office\.com\/webhookb2\/[a-f0-9-]{36}@[a-f0-9-]{36}\/IncomingWebhook\/[A-Za-z0-9]{32}\/[a-f0-9-]{36}/g },
  { id: 'discord-webhook', label: 'Discord webhook URL', re: /discord(?:app)?\.com\/api\/webhooks\/\d{15,20}\/[A-Za-z0-9_-]{60,100}/g, entropy: 3 },
  { id: 'google-api-key', label: 'Google API key', re: /(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g, entropy: 3.5 },
  { id: 'google-oauth-secret', label: 'Google OAuth client secret', re: /GOCSPX-[A-Za-z0-9_-]{28}/g, entropy: 3 },
  {
    id: 'private-key', label: 'private key block',
    re: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |SSH2 ENCRYPTED |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----(?:\\[nr]|[\s"'()]|[A-Za-z0-9+/=:,-])*/g,
    check: (m) => (m.replace(/^-----BEGIN[^-]*-----/, '').replace(/\\[nr]/g, '').replace(/-----END[\s\S]*$/, '').match(/[A-Za-z0-9+/]/g)?.length ?? 0) >= 40,
    severity: 'critical',
  },
  { id: 'putty-key', label: 'PuTTY private key', re: /PuTTY-User-Key-File-[23]:/g, severity: 'critical' },
  {
    id: 'jwt', label: 'JSON Web Token', re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,8000}\.eyJ[A-Za-z0-9_-]{10,8000}\.[A-Za-z0-9_-]{16,2000}/g,
    check: (m) => isJwt(m), severity: 'high',
  },
  { id: 'stripe-key', label: 'Stripe live key', re: /(?<![A-Za-z0-9])(?:sk|rk)_live_[0-9A-Za-z]{24,200}/g, entropy: 3 },
  { id: 'sendgrid-key', label: 'SendGrid API key', re: /SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/g, entropy: 3 },
  { id: 'twilio-key', label: 'Twilio API key', re: /(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![A-Za-z0-9])/g, entropy: 3, severity: 'medium' },
  { id: 'npm-token', label: 'npm access token', re: /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g, entropy: 3 },
  { id: 'pypi-token', label: 'PyPI upload token', re: /pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,400}/g },
  { id: 'openai-key', label: 'OpenAI API key', re: /(?<![A-Za-z0-9])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}|(?<![A-Za-z0-9])sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,300}/g, entropy: 3.5 },
  { id: 'anthropic-key', label: 'Anthropic API key', re: /sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,300}/g, entropy: 3.5 },
  { id: 'huggingface-token', label: 'Hugging Face token', re: /(?<![A-Za-z0-9])hf_[A-Za-z]{34}(?![A-Za-z0-9])/g, entropy: 3.5 },
  { id: 'databricks-token', label: 'Databricks token', re: /(?<![A-Za-z0-9])dapi[0-9a-f]{32}(?:-\d)?(?![A-Za-z0-9])/g, entropy: 3 },
  { id: 'azure-storage-key', label: 'Azure storage account key', re: /AccountKey=[A-Za-z0-9+/]{86}==/g, entropy: 4 },
  { id: 'telegram-bot-token', label: 'Telegram bot token', re: /(?<![0-9])\d{8,10}:AA[0-9A-Za-z_-]{33}(?![A-Za-z0-9_-])/g, entropy: 3 },
  { id: 'vault-token', label: 'HashiCorp Vault token', re: /(?<![A-Za-z0-9])hvs\.[A-Za-z0-9_-]{90,300}/g, entropy: 3.5 },
  { id: 'datadog-key', label: 'Datadog application key', re: /(?<![A-Za-z0-9])ddapp_[A-Za-z0-9]{30,80}/g, entropy: 3 },
  { id: 'square-token', label: 'Square OAuth secret', re: /sq0csp-[0-9A-Za-z_-]{43}/g, entropy: 3 },
];

/**
 * Prefilter of `findTokens`: every match of every format above contains a match of this. One regex pass over the
 * file, written so that V8 stops only at rarer characters (upper case, `x`, `q`, `h`, `v`, `p`, `/`, `:`, `-`,
 * `=`) and checks common prefixes (`gh`, `np`, `sk-`, `ey`) looking back from there: about half the cost of an
 * alternation of the plain prefixes, which stops at every `s`, `d`, `g`, `e`. The `=` / `:` branches are the AWS
 * secret access key: a 40-character base64 value (its name is checked by the format itself).
 */
const AWS_SECRET_VALUE = String.raw`\s*[rRbBuU]{0,2}["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])`;
const TOKEN_HINT = new RegExp(
  [
    String.raw`A(?:KIA|SIA|BIA|CCA|3T[A-Z0-9]|Iza|ccountKey=|gE)`, // AWS key id, Google API key, Azure, PyPI
    String.raw`GOCSPX-`,
    String.raw`P(?:RIVATE KEY|uTTY-User)`,
    String.raw`S(?:G\.|K[0-9a-f]{32})`, // SendGrid, Twilio
    String.raw`T3BlbkFJ`, // OpenAI
    String.raw`IncomingWebhook/`, // Teams
    String.raw`x(?:ox[a-z]-|app-)`, // Slack
    String.raw`J(?<=eyJ)`, // JWT
    String.raw`q0csp-`, // Square
    String.raw`h(?:f_|vs\.|(?<=gh)[pousr]_|ooks\.slack\.com|(?<=gith)ub_pat_)`, // Hugging Face, Vault, GitHub, Slack webhook
    String.raw`v(?<=k_liv)e_`, // Stripe
    String.raw`p(?:(?<=np)m_|(?<=dap)i[0-9a-f]{32}|(?<=ddap)p_)`, // npm, Databricks, Datadog
    String.raw`/(?<=discord(?:app)?\.com/)api/webhooks`, // Discord
    String.raw`:(?:AA|(?=${AWS_SECRET_VALUE}))`, // Telegram, AWS secret
    String.raw`-(?:(?<=gl(?:pat|dt|rt|cbt|ptt|oas)-)|(?<=sk-)(?:proj|svcacct|admin|ant)-)`, // GitLab, OpenAI, Anthropic
    String.raw`=(?=${AWS_SECRET_VALUE})`, // AWS secret
  ].join('|'),
);

export function isJwt(token: string): boolean {
  const [header, payload] = token.split('.');
  try {
    const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof h !== 'object' || h === null || !('alg' in h || 'typ' in h)) return false;
    const p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    return typeof p === 'object' && p !== null;
  } catch {
    return false;
  }
}

export interface TokenHit {
  format: TokenFormat;
  match: string;
  index: number;
}

/**
 * Every known-format token in a text (string content or comment). `hint: false` skips the TOKEN_HINT shortcut
 * (exhaustive mode: the prefilter property test checks the shortcut never loses a token).
 */
export function findTokens(text: string, hint = true): TokenHit[] {
  const out: TokenHit[] = [];
  if (hint && !TOKEN_HINT.test(text)) return out;
  for (const f of TOKEN_FORMATS) {
    f.re.lastIndex = 0;
    for (const m of text.matchAll(f.re)) {
      const s = m[f.group ?? 0];
      if (f.check && !f.check(s)) continue;
      if (f.entropy !== undefined && shannonEntropy(s) < f.entropy) continue;
      if (f.id === 'aws-access-key-id' && shannonEntropy(s.slice(4)) < 2.5) continue;
      out.push({ format: f, match: s, index: (m.index ?? 0) + m[0].lastIndexOf(s) });
    }
  }
  return out;
}

/** A 40-character AWS secret access key value under an AWS-ish name (`aws_secret_access_key`, `AWS_SECRET`). */
export function isAwsSecretKeyBinding(name: string, value: string): boolean {
  const w = nameWords(name).join('_');
  return /aws|secret_access|s3|boto|minio/.test(w) && isAwsSecretKeyValue(value);
}

function isAwsSecretKeyValue(value: string): boolean {
  if (!/^[A-Za-z0-9/+]{40}$/.test(value) || /EXAMPLEKEY/.test(value)) return false;
  return shannonEntropy(value) >= 4 && /[0-9]/.test(value) && /[A-Z]/.test(value) && /[a-z]/.test(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Credentials in URIs and connection strings (DG102)

export interface UriCredential {
  kind: 'userinfo' | 'query' | 'cli' | 'sql';
  scheme?: string;
  /** The password / token part: never printed. */
  secret: string;
  host?: string;
  /** Offset and length of the match in the scanned text. */
  index: number;
  length: number;
}

/** Cheap test for a line that may hold any of the shapes below. */
export const URI_CRED_HINT = /:\/\/[^\s/:@]{0,300}:[^\s/@]{0,300}@|[?&;]\s{0,5}[\w-]{0,40}(pass|pwd|key|token|secret|sig)[\w-]{0,40}\s{0,5}=|\b(password|identified\s+by)\s+'|\spassword=[^\s'",()]|(^|[\s;&|("'=])(curl|wget|mysql\w*|mariadb\w*|psql|pg_dump\w*|pg_restore|mongo\w*|redis-cli|sqlcmd|bcp|lftp|sshpass|snowsql|ftp|smbclient|rsync|airflow)\b/i;

/** Shell-style `NAME_PASSWORD=value` (case-sensitive, so not part of URI_CRED_HINT). */
const ENV_HINT = /(PASSWORD|PASSWD|PWD|TOKEN|SECRET|API_KEY)[A-Z0-9_]{0,40}=[^\s'"$]/;
const URI_CRED_HINT_G = new RegExp(URI_CRED_HINT.source, 'gi');
const ENV_HINT_G = new RegExp(ENV_HINT.source, 'g');

/** Longest line / value the text heuristics look at: beyond it, a blob (data, minified JSON), not a credential. */
export const MAX_SCAN = 20000;

const QUERY_SECRET = /(?:^|[?&;]\s*)(password|passwd|pwd|pass|api_?key|apikey|access_?token|auth_?token|client_?secret|secret|token|sig|x-amz-signature|x-goog-signature)\s*=\s*([^&;\s'"#]+)/gi;
const CLI_ARG = /(?:^|\s)(-u|--user|--conn-password|--password|--pass|-p|-a)(?:[ =]|(?<=-p))['"]?([^\s'"]+)/g;
/** Shell environment assignments in a command string: `PGPASSWORD=s3cret psql …`, `export API_TOKEN=…`. */
const SHELL_ENV_SECRET = /(?<=^|[\s;&|"'])(?:export\s+)?([A-Z][A-Z0-9_]{0,40}?(?:PASSWORD|PASSWD|PWD|TOKEN|SECRET|API_KEY)[A-Z0-9_]{0,40})=(['"]?)([^\s'"$;&|]+)\2(?=[\s;&|'"]|$)/g;

/**
 * Credentials in a string: `scheme://user:pass@host`, query or ODBC parameters (`?password=`, `;PWD=`) and
 * `curl -u user:pass`. `text` is the string's content with f-string interpolations as written (`{x}`).
 */
export function findUriCredentials(text: string, hint = true): UriCredential[] {
  const out: UriCredential[] = [];
  if (text.length > MAX_SCAN || (hint && !(URI_CRED_HINT.test(text) || ENV_HINT.test(text)))) return out;
  const uri = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}):\/\/([^\s/?#'"<>]{0,500})/g;
  for (const m of text.matchAll(uri)) {
    const authority = m[2];
    const at = authority.lastIndexOf('@');
    if (at < 0) continue;
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon < 0) continue;
    const secret = decodeLoose(userinfo.slice(colon + 1));
    const host = authority.slice(at + 1).replace(/:\d+$/, '');
    if (!isCredentialValue(secret)) continue;
    if (/(^|\.)(example\.(com|org|net)|example|host|hostname|your[-_]?host|server)$/i.test(host)) continue;
    out.push({ kind: 'userinfo', scheme: m[1].toLowerCase(), secret, host, index: m.index ?? 0, length: m[0].length });
  }
  if (/[?&;]|^\s*\w+=/.test(text)) {
    for (const m of text.matchAll(QUERY_SECRET)) {
      // a bare `token=` / `key=` pair only counts inside a URL or an ODBC/JDBC connection string
      if (!/:\/\/|;|^jdbc:|^\?/i.test(text)) continue;
      const secret = decodeLoose(m[2]);
      if (!isCredentialValue(secret)) continue;
      out.push({ kind: 'query', secret, index: m.index ?? 0, length: m[0].length });
    }
  }
  if (/(?:^|[\s;&|("'=])(curl|wget|mysql\w*|mariadb\w*|psql|pg_dump\w*|pg_restore|mongo\w*|redis-cli|sqlcmd|bcp|lftp|sshpass|snowsql|ftp|smbclient|rsync|airflow)\b/.test(text)) {
    for (const m of text.matchAll(CLI_ARG)) {
      const flag = m[1];
      const arg = m[2];
      let secret = arg;
      if (flag === '-u' || flag === '--user') {
        const c = arg.indexOf(':');
        if (c < 0) continue;
        secret = arg.slice(c + 1);
      } else if (flag === '-p') {
        // `-pSecret` is mysql's password; `-p 5432` is psql's port
        if (!/(^|[\s;&|("'=])(mysql\w*|mariadb\w*|sshpass)\b/.test(text)) continue;
      } else if (flag === '-a' && !/redis-cli/.test(text)) continue;
      if (!isCredentialValue(secret)) continue;
      out.push({ kind: 'cli', secret, index: m.index ?? 0, length: m[0].length });
    }
  }
  for (const m of text.matchAll(SHELL_ENV_SECRET)) {
    // only inside a string literal (a shell command), not Python's own `f(API_TOKEN=token)`
    if (!insideQuotes(text.slice(0, m.index ?? 0))) continue;
    const secret = m[3];
    if (!isCredentialValue(secret)) continue;
    out.push({ kind: 'cli', secret, index: m.index ?? 0, length: m[0].length });
  }
  // libpq / ODBC keyword DSNs: "dbname=dwh user=etl password=x host=db"
  if (/(?:^|[\s'"])(?:dbname|host|user)=[^\s'",()]+\s/.test(text)) {
    for (const m of text.matchAll(LIBPQ_PASSWORD)) {
      const secret = m[1];
      if (!isCredentialValue(secret)) continue;
      out.push({ kind: 'query', secret, index: m.index ?? 0, length: m[0].length });
    }
  }
  // SQL run by SQL operators: CREATE/ALTER USER ... PASSWORD '...', IDENTIFIED BY '...'
  if (/\b(user|role|login)\b/i.test(text)) {
    for (const m of text.matchAll(SQL_PASSWORD)) {
      const secret = m[2];
      if (!isCredentialValue(secret)) continue;
      out.push({ kind: 'sql', secret, index: m.index ?? 0, length: m[0].length });
    }
  }
  return out;
}

/**
 * Start offsets of the lines of `text` on which `findUriCredentials` may find something: the lines its own hints
 * (URI_CRED_HINT, ENV_HINT) match, found with one pass of each over the whole text — the same definitions, so the
 * line selection cannot drift from the extractor.
 */
export function uriCredentialLines(text: string): number[] {
  const starts = new Set<number>();
  for (const hint of [URI_CRED_HINT_G, ENV_HINT_G]) {
    hint.lastIndex = 0;
    for (let m = hint.exec(text); m; m = hint.exec(text)) {
      const start = text.lastIndexOf('\n', m.index) + 1;
      starts.add(start);
      const end = text.indexOf('\n', m.index);
      if (end < 0) break;
      hint.lastIndex = end + 1;
    }
  }
  return [...starts].sort((x, y) => x - y);
}

const LIBPQ_PASSWORD = /(?<=[\s'"])password=([^\s'",()]+)(?=[\s'"]|$)/g;
const SQL_PASSWORD = /\b(password|identified\s+by)\s+'([^'\s]+)'/gi;

/** Does a line prefix end inside a quoted string? */
export function insideQuotes(prefix: string): boolean {
  let quote: string | null = null;
  for (let i = 0; i < prefix.length; i++) {
    const ch = prefix[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') return false;
  }
  return quote !== null;
}

function decodeLoose(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A password part that is actually a value (not a placeholder, template or interpolation). */
function isCredentialValue(secret: string): boolean {
  if (!secret) return false;
  if (/[{}]/.test(secret) || /^\$|^%|^<.*>$|^\*+$/.test(secret)) return false;
  if (PLACEHOLDER_WORDS.has(secret.toLowerCase())) return false;
  if (/^(.)\1*$/.test(secret)) return false; // x, xxx, ***
  if (/^(your|my)[-_]?\w*$/i.test(secret) || /^(pass(word)?|pwd|secret|token)\d?$/i.test(secret)) return false;
  if (/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(secret)) return false; // an env var name
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Bindings: name = "value" in its many Python shapes

export interface Binding {
  /** The name as written: identifier, attribute name, dict key, keyword. */
  name: string;
  /** Constant string value. */
  value: string;
  /** Node to report (the value). */
  valueNode: SyntaxNode;
  kind: 'assignment' | 'keyword' | 'pair' | 'default' | 'compare' | 'call';
}

/**
 * Query patterns anchoring every binding shape; captures `@lhs` and `@val` (and `@kw` for keyword arguments,
 * `@cmp` for comparisons). No name predicate: the rule's keywords bring it near a secret-ish name, and the rule
 * decides with `nameStrength`.
 */
/**
 * BINDING_QUERY plus requests' basic-auth tuples (`auth=("user", "password")`, `session.auth = (…)`), captured as
 * `@authpw`. DG101 and DG104 use this same query, so the engine runs it once for both.
 */
export const SECRET_BINDING_QUERY = () => `${BINDING_QUERY}
(keyword_argument name: (identifier) @authkw value: (tuple . (_) @authuser . [(string) (concatenated_string)] @authpw .) (#eq? @authkw "auth"))
(assignment left: (attribute attribute: (identifier) @authkw) right: (tuple . (_) @authuser . [(string) (concatenated_string)] @authpw .) (#eq? @authkw "auth"))`;

export const BINDING_QUERY = `
(assignment left: [(identifier) (attribute) (subscript)] @lhs right: [(string) (concatenated_string) (binary_operator)] @val)
(keyword_argument name: (identifier) @lhs value: [(string) (concatenated_string) (binary_operator)] @val) @kw
(pair key: [(string) (concatenated_string)] @lhs value: [(string) (concatenated_string) (binary_operator)] @val)
(default_parameter name: (identifier) @lhs value: [(string) (concatenated_string)] @val)
(typed_default_parameter name: (identifier) @lhs value: [(string) (concatenated_string)] @val)
(comparison_operator [(identifier) (attribute) (subscript)] @lhs [(string) (concatenated_string)] @val) @cmp
`;


/** Name fragments of every name `nameStrength` calls strong (a bare `key` is weak: it needs a prefix word). */
/** A word that every name STRONG_NAME_FRAGMENTS matches contains (the `<prefix>_key` forms all contain `key`). */
export const STRONG_NAME_KEYWORDS = ['pass', 'pw', 'secret', 'token', 'cred', 'contras', 'key'];
export const STRONG_NAME_FRAGMENTS = `pass|pwd|pw|secret|token|cred|contras|(?:${[...KEY_PREFIXES].join('|')})[_.\\- ]?keys?`;
/** Name fragments of every name `nameStrength` calls weak. */
export const WEAK_NAME_FRAGMENTS = 'key|auth|sig|hmac|salt|cookie|bearer|cred|licen|otp|mfa|pin|sas|dsn|hook|session|nonce|cert|sid';

/** The secret-bearing name of a binding's left-hand side. */
export function lhsName(lhs: SyntaxNode): string | null {
  const n = unwrap(lhs);
  switch (n.type) {
    case 'identifier':
      return n.text;
    case 'attribute':
      return n.childForFieldName('attribute')?.text ?? null;
    case 'subscript':
      return stringValue(n.childForFieldName('subscript'));
    case 'string':
    case 'concatenated_string':
      return stringValue(n);
    default:
      return null;
  }
}

/** Decode a binding match; null when it is not `name <- constant string`. */
export function bindingFromCaptures(c: Record<string, SyntaxNode[]>): Binding | null {
  const lhs = c.lhs?.[0];
  const val = c.val?.[0];
  if (!lhs || !val) return null;
  if (c.cmp && !/^(==|!=|is|is not)$/.test(cmpOperator(c.cmp[0]) ?? '')) return null;
  const name = lhsName(lhs);
  if (!name || name.length > 80) return null;
  const value = stringValue(val);
  if (value === null) return null;
  const kind = c.kw ? 'keyword' : c.cmp ? 'compare' : lhs.parent?.type === 'pair' ? 'pair' : lhs.parent?.type === 'assignment' ? 'assignment' : 'default';
  return { name, value, valueNode: val, kind };
}

function cmpOperator(cmp: SyntaxNode): string | null {
  for (const ch of cmp.children) if (!ch.isNamed) return ch.text;
  return null;
}

/** `Secret(deploy_type=..., secret="k8s-secret-name", key="password")`: names a Kubernetes Secret. */
export function isKubernetesSecretCall(ctx: RuleContext, kw: SyntaxNode | undefined): boolean {
  const call = kw?.parent?.parent;
  if (!call || call.type !== 'call') return false;
  const fn = ctx.callee(call) ?? '';
  return /(^|\.)Secret$/.test(fn) && (fn === 'Secret' || /kubernetes|k8s/.test(fn));
}

/** Secret JSON embedded in a string (`extra='{"token": "..."}'`): flattened string-valued pairs. */
export function jsonStringPairs(value: string): [string, string][] {
  const v = value.trim();
  if (!v.startsWith('{') || !v.includes(':')) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(v.replace(/\\n/g, '\n').replace(/\\"/g, '"'));
  } catch {
    return [];
  }
  const out: [string, string][] = [];
  const walk = (o: unknown, depth: number): void => {
    if (depth > 4 || typeof o !== 'object' || o === null) return;
    for (const [k, x] of Object.entries(o as Record<string, unknown>)) {
      if (typeof x === 'string') out.push([k, x]);
      else walk(x, depth + 1);
    }
  };
  walk(parsed, 0);
  return out;
}

/** Location-independent identity of a secret for the fingerprint: a hash, so the key never holds the secret. */
export function secretKey(kind: string, value: string): string {
  return `${kind}:${createHash('sha256').update(value).digest('hex').slice(0, 24)}`;
}
