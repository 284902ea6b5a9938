import type { RuleContext } from '../../src/engine/context';
import { defineRule } from '../../src/engine/rule';
import { lineContext } from '../../src/engine/python';
import { redact } from '../../src/engine/redact';
import { findTokens } from './_tokens';
import { secretKey } from './_bindings';

export default defineRule({
  meta: {
    id: 'DG103',
    name: 'known-token-format',
    category: 'secret',
    severity: 'critical',
    message: '{label}{where}: {token}; revoke it and load it from a connection or secrets backend',
    docs: {
      what:
        'Finds credentials recognisable by their format, in any string literal (including docstrings and f-string text) and in comments: AWS access key ids (`AKIA…`, `ASIA…`) and 40-character AWS secret access keys under an AWS name, GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), GitLab (`glpat-`…), Slack tokens (`xoxb-`, `xoxp-`, `xapp-`…) and webhooks (`hooks.slack.com/services/…`, or the `T…/B…/…` path alone), Microsoft Teams and Discord webhooks, Google API keys (`AIza…`) and OAuth client secrets (`GOCSPX-`), private key blocks (`-----BEGIN … PRIVATE KEY-----` with a body, as in a Google service-account JSON `"private_key"`), JWTs (three base64url segments whose header decodes to JSON with `alg`/`typ`), Stripe live keys, SendGrid, Twilio, npm, PyPI, OpenAI, Anthropic, Hugging Face, Databricks, Azure storage account keys, Telegram bot tokens, Vault tokens.\n\n' +
        'Comments are scanned too (as detect-secrets does): a token pasted in a comment is just as leaked. Data files shipped with the DAGs (`.env`, YAML, JSON such as a service-account key file, SQL, shell, INI/TOML) are scanned the same way. Matches with too little entropy (`ghp_xxxx…`, `AKIAXXXXXXXXXXXXXXXX`) and AWS\'s documented example keys (`…EXAMPLE`) are ignored.',
      why:
        'These formats are what attackers and secret-scanning bots grep public and leaked repositories for; a match is almost always a live credential. Cloud keys in a DAG give the whole cloud account\'s reach to anyone who can read the repository, the image or the scheduler logs.',
      example:
        '```python\nAWS_ACCESS_KEY_ID = "AKIA2E0A8F3B244C9986"\nSLACK_WEBHOOK = "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/8n3sT2kYfQm1bP0xZr7Wc4Lh"\n```',
      useInstead:
        '```python\nfrom airflow.providers.amazon.aws.hooks.s3 import S3Hook\nfrom airflow.providers.slack.notifications.slack_webhook import send_slack_webhook_notification\n\nhook = S3Hook(aws_conn_id="aws_default")   # keys live in the connection / IAM role\nnotify = send_slack_webhook_notification(slack_webhook_conn_id="slack_alerts", text="failed")\n```',
    },
  },
  onFile(ctx) {
    scanTokens(ctx);
    scanSplitTokens(ctx);
  },
  onDataFile: scanTokens,
});

/**
 * Where two string literals meet with nothing but `+`, a line continuation or a line break between them
 * (`"ghp_" + "a1B2…"`, `("xoxb-"\n "1234-…")`), or items of a `"".join([…])` list: Python joins them, so a token
 * split over them is still one token.
 */
const GLUE = /(["'])[ \t]*(?:\+[ \t]*)?(?:\\?\r?\n[ \t]*)*(?:\+[ \t]*)?[rRuUfFbB]{0,2}(["'])/g;
/**
 * Two string literals separated by a comma, as the items of `"".join(["ghp_", "a1B2…"])`: counted as a join only when
 * a `join(` opens shortly before (a list of unrelated strings is not one value).
 */
const LIST_GLUE = /(["'])[ \t]*,[ \t]*(?:\r?\n[ \t]*)*[rRuUfFbB]{0,2}(["'])/g;
/** How far on each side of a join a token can reach (the longest formats: JWTs, keys). */
const REACH = 160;

/**
 * A token split over adjacent string pieces, which the raw-text scan cannot see: around each join, the text with
 * every join of the window removed is scanned again; a hit is reported only when it spans a join.
 */
function scanSplitTokens(ctx: RuleContext): void {
  const text = ctx.file.text;
  const joins: [number, number][] = [];
  for (const g of text.matchAll(GLUE)) if (g[1] === g[2]) joins.push([g.index!, g.index! + g[0].length]);
  if (text.includes('join(')) {
    for (const g of text.matchAll(LIST_GLUE)) {
      const j = text.lastIndexOf('join(', g.index!);
      if (g[1] === g[2] && j >= 0 && g.index! - j < REACH && !text.slice(j, g.index!).includes(')')) joins.push([g.index!, g.index! + g[0].length]);
    }
    joins.sort((a, b) => a[0] - b[0]);
  }
  const seen = new Set<string>();
  let lo = 0; // the first join that can reach into the window (windows move forward)
  for (let k = 0; k < joins.length; k++) {
    const from = Math.max(0, joins[k][0] - REACH);
    const to = Math.min(text.length, joins[k][1] + REACH);
    while (joins[lo][1] <= from) lo++;
    // the window's text without its joins, and where each kept piece starts in the file
    let joined = '';
    const pieces: { at: number; len: number }[] = [];
    let pos = from;
    for (let j = lo; j < joins.length && joins[j][0] < to; j++) {
      const [a, b] = joins[j];
      if (a > pos) {
        pieces.push({ at: pos, len: a - pos });
        joined += text.slice(pos, a);
      }
      pos = Math.max(pos, b);
    }
    if (to > pos) {
      pieces.push({ at: pos, len: to - pos });
      joined += text.slice(pos, to);
    }
    if (pieces.length < 2) continue;
    const original = (offset: number, end: boolean): number => {
      let o = offset;
      for (const p of pieces) {
        if (end ? o <= p.len : o < p.len) return p.at + o;
        o -= p.len;
      }
      return to;
    };
    for (const hit of findTokens(joined, true)) {
      const start = original(hit.index, false);
      const end = original(hit.index + hit.match.length, true);
      if (end - start === hit.match.length) continue; // in one piece: the raw-text scan reports it
      const id = `${start}:${hit.match}`;
      if (seen.has(id)) continue;
      seen.add(id);
      ctx.reportRange(start, end, { label: hit.format.label, where: ' split over joined strings', token: redact(hit.match) }, {
        key: secretKey(`DG103:${hit.format.id}`, hit.match),
        severity: hit.format.severity,
      });
    }
  }
}

function scanTokens(ctx: RuleContext): void {
  // A raw-text scan, as gitleaks and detect-secrets do: these formats need no syntax to be recognised, it covers
  // strings, f-strings, docstrings and comments alike, and costs one regex pass instead of a query capture per string.
  const text = ctx.file.text;
  const seen = new Set<string>();
  for (const hit of findTokens(text, !ctx.exhaustive)) {
    const id = `${hit.index}:${hit.match}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const lineStart = text.lastIndexOf('\n', hit.index) + 1;
    const inComment = lineContext(text.slice(lineStart, hit.index)) === 'comment';
    ctx.reportRange(
      hit.index,
      hit.index + hit.match.length,
      { label: hit.format.label, where: inComment ? ' in a comment' : '', token: redact(hit.match) },
      { key: secretKey(`DG103:${hit.format.id}`, hit.match), severity: hit.format.severity },
    );
  }
}
