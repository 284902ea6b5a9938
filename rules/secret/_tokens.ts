/**
 * Known vendor token formats (DG103): the formats, a one-pass hint, JWT check, AWS secret access keys. Written
 * from the published behaviour of gitleaks (MIT) and detect-secrets (Apache-2.0); no code copied.
 */
import { nameWords } from './_names';
import { shannonEntropy } from './_entropy';

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
  // the path alone, kept apart from `https://hooks.slack.com/services/` in another constant: team id, bot id, secret
  { id: 'slack-webhook-path', label: 'Slack webhook path', re: /(?<![A-Za-z0-9]|hooks\.slack\.com\/services\/)T[A-Z0-9]{8,12}\/B[A-Z0-9]{8,12}\/[A-Za-z0-9]{24}(?![A-Za-z0-9])/g, entropy: 3.5 },
  { id: 'teams-webhook', label: 'Microsoft Teams webhook URL', re: /\.webhook\.office\.com\/webhookb2\/[a-f0-9-]{36}@[a-f0-9-]{36}\/IncomingWebhook\/[A-Za-z0-9]{32}\/[a-f0-9-]{36}/g },
  { id: 'discord-webhook', label: 'Discord webhook URL', re: /discord(?:app)?\.com\/api\/webhooks\/\d{15,20}\/[A-Za-z0-9_-]{60,100}/g, entropy: 3 },
  { id: 'google-api-key', label: 'Google API key', re: /(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g, entropy: 3.5 },
  { id: 'google-oauth-secret', label: 'Google OAuth client secret', re: /GOCSPX-[A-Za-z0-9_-]{28}/g, entropy: 3 },
  {
    id: 'private-key', label: 'private key block',
    // line breaks as written in the source: real ones, `\n` in a string, `\\n` in JSON inside a string (a
    // service-account key in a connection's `extra`)
    re: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |SSH2 ENCRYPTED |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----(?:\\{1,2}[nr]|[\s"'()]|[A-Za-z0-9+/=:,-])*/g,
    check: (m) => (m.replace(/^-----BEGIN[^-]*-----/, '').replace(/\\{1,2}[nr]/g, '').replace(/-----END[\s\S]*$/, '').match(/[A-Za-z0-9+/]/g)?.length ?? 0) >= 40,
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
    String.raw`/(?:(?<=discord(?:app)?\.com/)api/webhooks|(?<=T[A-Z0-9]{8,12}/)B[A-Z0-9]{8,12}/)`, // Discord, Slack webhook path
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
