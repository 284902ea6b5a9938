/**
 * Values that are not secrets: placeholders, templates, references, lookup fallbacks, bare words, hashes and ids.
 */
import { QUALIFIERS, nameWords } from './_names';
import { MAX_SCAN } from './_uri-credentials';

export const PLACEHOLDER_WORDS = new Set([
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
  // a format's shape filled with filler: `T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX`, `sk_live_XXXXXXXX…`
  if (fillerShare(v) >= 0.7) return true;
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

/** The share of a value's letters and digits that are runs (4 or more) of one filler character: 0, x, X, *. */
function fillerShare(v: string): number {
  const alnum = v.replace(/[^A-Za-z0-9*]/g, '');
  if (alnum.length < 12) return 0;
  let filler = 0;
  for (const m of alnum.matchAll(/(0{4,}|x{4,}|X{4,}|\*{4,})/g)) filler += m[0].length;
  return filler / alnum.length;
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

/**
 * Passwords that local stacks ship with (docker-compose and Helm defaults, Airflow's quick-start): in a data file
 * they are reported at *info* — shown, never failing a run — as they say "development stack" rather than "leak".
 */
const DEV_DEFAULTS = new Set(['airflow', 'postgres', 'admin', 'insecure', 'password1', 'minioadmin', 'root', 'k3s', 'test', 'mysql', 'redis', 'rabbitmq', 'guest', 'local', 'localdev', 'dev', 'development']);

export function isDevDefault(value: string, user?: string): boolean {
  const v = value.trim().toLowerCase();
  return DEV_DEFAULTS.has(v) || (user !== undefined && v === user.trim().toLowerCase());
}
