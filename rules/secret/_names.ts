/**
 * Names that say "secret": how strongly a variable, key or keyword names a secret (DG101 strong, DG104 weak).
 */


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
export const KEY_PREFIXES = new Set([
  'api', 'secret', 'private', 'priv', 'access', 'client', 'auth', 'signing', 'encryption', 'encrypt', 'master',
  'service', 'account', 'db', 'database', 'ssh', 'fernet', 'app', 'consumer', 'sas', 'hmac', 'jwt', 'crypto',
  'cipher', 'aes', 'rsa', 'csrf', 'oauth', 'openai', 'anthropic', 'stripe', 'sendgrid', 'mailgun', 'twilio', 'slack',
  'github', 'gitlab', 'datadog', 'dd', 'pagerduty', 'algolia', 'mapbox', 'google', 'gcp', 'azure', 'aws',
]);
/** Trailing qualifiers that keep a secret a secret: `password_b64`, `token_prod`, `secret_value`. */
export const QUALIFIERS = new Set([
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
/**
 * Keywords of the rules that judge names (keywordMatch `name-word-end`/`name-word`): every name `nameStrength` calls
 * strong ends a word with one of STRONG_NAME_WORDS (`DB_PASSWORD`, `databasepassword`, `api_key`, `password_b64`
 * after its qualifier), and every weak one holds one of WEAK_NAME_WORDS as a word (`routing_key`, `userPin`).
 * (`contraseña` is left out: nameWords splits it at `ñ`, so no name is strong by it.)
 */
export const STRONG_NAME_WORDS: readonly string[] = [...[...STRONG_WORDS].filter((w) => /^[a-z]+$/.test(w)), 'tokens', 'key', 'keys'];
export const WEAK_NAME_WORDS: readonly string[] = ['key', 'keys', ...WEAK_WORDS];

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
