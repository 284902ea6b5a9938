import type { RuleContext } from '../../src/engine/context';
import { defineRule } from '../../src/engine/rule';
import { redact } from '../../src/engine/redact';
import { stringValue } from '../../src/engine/python';
import { findTokens } from './_tokens';
import { findUriCredentials, uriCredentialLines, type UriCredential } from './_uri-credentials';
import { blankLineContinuations } from '../../src/airflow/shell';
import { foldedText } from '../../src/airflow/strings';
import { isDevDefault } from './_values';
import { secretKey } from './_bindings';

/** A line ending inside a URI's userinfo, continued by an implicitly concatenated string on the next line. */
const SPLIT_URI = /:\/\/[^\s/@'"]{0,200}:?[^\s/@'"]{0,200}["']\s*$/;
const SPLIT_URI_LINES = new RegExp(SPLIT_URI.source, 'gm');

export default defineRule({
  meta: {
    id: 'DG102',
    name: 'credentials-in-uri',
    category: 'secret',
    severity: 'high',
    message: 'password embedded in a {where}: {secret}; use an Airflow connection instead',
    docs: {
      what:
        'Finds credentials written into connection strings: `scheme://user:password@host` URIs (SQLAlchemy and Airflow connection URIs such as `postgresql://`, `mysql+pymysql://`, `redis://`, `amqp://`, `mongodb+srv://`, `https://`, `ftp://`, values of `AIRFLOW_CONN_*` and `Connection(uri=…)`), passwords and tokens in query or ODBC/JDBC parameters (`?password=`, `?api_key=`, `;PWD=…;`, Azure `;AccountKey=…;` / `;SharedAccessKey=…`), `curl -u user:password` or `mysql -p…` style command lines, and SQL that sets a password (`CREATE USER … PASSWORD \'…\'`, `IDENTIFIED BY \'…\'`) as run by SQL operators. f-strings count when the password part is literal text. The scan is line-based over the raw text, so comments and docstrings are covered too (a working password in a comment is as leaked as one in code), as is a URI split over two implicitly concatenated lines. Data files shipped with the DAGs (`.sql`, `.sh`, `.env`, YAML, JSON, INI/TOML) are scanned the same way; there a URI whose password is its user name or a local stack\'s default (`airflow:airflow@postgres`) is reported at *info*, as it is in Python when the host is the local machine or a compose service (`localhost`, `postgres`, `redis`…).\n\n' +
        'A password part that is interpolated (`{password}`), templated (`{{ conn.db.password }}`, `${DB_PASSWORD}`), masked (`***`) or a placeholder (`user:password@`, `<password>`) is not reported, nor are documentation hosts (`example.com`, `your-host`; a name under the reserved `.example` TLD, `db.internal.example`, is reported: it is how real names are anonymised).',
      why:
        'Connection URIs are copied into logs, task instance rendering, XCom and error messages, and a DAG file is readable by everyone with repository access. The embedded password grants direct access to the database or broker, bypassing the Airflow connection store and its audit trail.',
      example:
        '```python\nimport os\nos.environ["AIRFLOW_CONN_WAREHOUSE"] = "postgresql://etl:Sup3rS3cret@db.internal:5432/dwh"\nengine = create_engine("mysql+pymysql://app:pa55w0rd@mysql:3306/app")\n```',
      useInstead:
        '```python\nfrom airflow.providers.postgres.hooks.postgres import PostgresHook\n# define the connection in a secrets backend / AIRFLOW_CONN_* set by the deployment, not the DAG\nengine = PostgresHook(postgres_conn_id="warehouse").get_sqlalchemy_engine()\n```',
    },
  },
  // A URI assembled from pieces — implicit concatenation over several lines, `+` of literals — as Python folds it
  // (the text scan below sees the pieces one line at a time).
  // … and URIs formatted from names and arguments bound to literals (`f"postgresql://{u}:{p}@{h}/db"` with
  // `p = "…"`, `"mongodb://{}:{}@h".format("user", "…")`): the password is literal, only not where the URI is written.
  // (Separate top-level patterns: a predicate inside an alternation branch would reject the other branches.)
  query: `[(concatenated_string) (binary_operator)] @s
(string (interpolation)) @fs
(call function: (attribute object: (string) attribute: (identifier) @fmt (#eq? @fmt "format"))) @fmtcall`,
  keywords: ['://'],
  // the assembled value holds `user:password@`, and stringValue joins literal pieces only: the `@` is in the text
  andKeywords: ['@'],
  onMatch(c, ctx) {
    if (c.fs || c.fmtcall) {
      const node = (c.fs ?? c.fmtcall)[0];
      const folded = foldedText(node);
      if (!folded || !folded.includes('://')) return;
      const cred = findUriCredentials(folded, !ctx.exhaustive).find((u) => u.kind === 'userinfo' && !/[{}]/.test(u.secret) && !findTokens(u.secret).length);
      // a password written in the string itself is the line scan's
      const written = c.fs ? node.namedChildren.filter((x) => x.type === 'string_content').map((x) => x.text).join('') : (stringValue(node.childForFieldName('function')!.childForFieldName('object')) ?? '');
      if (!cred || written.includes(cred.secret)) return;
      // `airflow:airflow@localhost`: a local stack, at info as in the line scan
      const dev = isLocalStackDefault(cred, folded, false);
      ctx.report(node, { where: `\`${cred.scheme}://\` URI formatted from literals${cred.host ? ` for host \`${cred.host.replace(/\{[^}]*\}/g, '{…}')}\`` : ''}`, secret: redact(cred.secret) }, {
        key: secretKey('DG102', cred.secret),
        ...(dev ? { severity: 'info' as const } : {}),
      });
      return;
    }
    const s = c.s[0];
    const p = s.parent?.type;
    if (p === 'concatenated_string' || p === 'binary_operator' || p === 'parenthesized_expression' && s.parent?.parent?.type === 'binary_operator') return;
    const value = stringValue(s);
    if (!value || !value.includes('://')) return;
    const cred = findUriCredentials(value, !ctx.exhaustive).find((u) => u.kind === 'userinfo' && !findTokens(u.secret).length);
    if (!cred) return;
    ctx.ruleState(() => new Set<number>()).add(s.startPosition.row);
    ctx.report(s, { where: `\`${cred.scheme}://\` URI assembled from pieces${cred.host ? ` for host \`${cred.host.replace(/\{[^}]*\}/g, '{…}')}\`` : ''}`, secret: redact(cred.secret) }, { key: secretKey('DG102', cred.secret) });
  },
  onFile: scanLines,
  onDataFile: scanLines,
});

/**
 * A local stack's default credential (user = password, or a stack default: `airflow:airflow@…`), reported at info: in
 * a data file whatever the host (a compose file's `@postgres`), in Python when the host is the local machine or a
 * compose service (`@localhost`). `text`: what `cred`'s offsets index.
 */
function isLocalStackDefault(cred: UriCredential, text: string, dataFile: boolean): boolean {
  const user = cred.kind === 'userinfo' ? /:\/\/([^:@/\s]*):/.exec(text.slice(cred.index, cred.index + cred.length))?.[1] : undefined;
  return isDevDefault(cred.secret, user) && (dataFile || (cred.host !== undefined && LOCAL_HOST.test(cred.host)));
}



/** The local machine or a service of a local compose stack. */
const LOCAL_HOST = /^(localhost|127\.0\.0\.1|0\.0\.0\.0|\[?::1\]?|host\.docker\.internal|postgres(ql)?|mysql|mariadb|redis|rabbitmq|minio|airflow-db|metadata-db)(:\d+)?$/i;

function scanLines(ctx: RuleContext): void {
  // lines whose URI was reported whole by onMatch
  const assembled = ctx.ruleState(() => new Set<number>());
  // A raw-text scan: URIs need no syntax to be recognised, f-strings and comments are covered. The lines worth a
  // look are those the extractor's own hints match, and URIs split over two lines.
  const text = ctx.file.text;
  // exhaustive (tests): every line, without the hints
  const starts = new Set(ctx.exhaustive ? [0, ...[...text.matchAll(/\n/g)].map((m) => m.index! + 1)] : uriCredentialLines(text));
  for (const m of text.matchAll(SPLIT_URI_LINES)) starts.add(text.lastIndexOf('\n', m.index) + 1);
  let consumed = -1;
  for (const start of [...starts].sort((a, b) => a - b)) {
    if (start < consumed) continue;
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    // a shell command continued over lines (`mysql -h db \⏎  -pSecret`) is read as one: the escaped line breaks
    // blanked in place, so that offsets stay those of the file
    while (end < text.length && /\\\r?$/.test(text.slice(Math.max(start, end - 2), end))) {
      const next = text.indexOf('\n', end + 1);
      end = next < 0 ? text.length : next;
    }
    consumed = end;
    let line = blankLineContinuations(text.slice(start, end));
    if (assembled.size && assembled.has(text.slice(0, start).split('\n').length - 1)) continue;
    if (SPLIT_URI.test(line)) {
      // implicit concatenation across lines: "postgresql://etl:pw"\n    "@db.internal/dwh"
      const next = text.slice(end + 1, text.indexOf('\n', end + 1) < 0 ? text.length : text.indexOf('\n', end + 1));
      line = line.replace(/["']\s*$/, '') + next.replace(/^\s*[rbuf]*["']/i, '');
    }
    for (const cred of findUriCredentials(line, !ctx.exhaustive)) {
      if (findTokens(cred.secret).length) continue; // a vendor token: DG103 reports it, more precisely
      if (cred.kind === 'netrc' && ctx.file.dataKind === 'netrc') continue; // a `.netrc` file's pairs are DG101's
      const where =
        cred.kind === 'userinfo'
          ? `\`${cred.scheme}://\` URI${cred.host ? ` for host \`${cred.host.replace(/\{[^}]*\}/g, '{…}')}\`` : ''}`
          : cred.kind === 'query'
            ? 'connection-string parameter'
            : cred.kind === 'sql'
              ? 'SQL statement'
              : cred.kind === 'header'
                ? 'HTTP authorization header'
                : cred.kind === 'netrc'
                  ? '`.netrc` entry'
                  : 'command line';
      const dev = isLocalStackDefault(cred, line, Boolean(ctx.file.dataKind));
      ctx.reportRange(start + cred.index, start + cred.index + cred.length, { where, secret: redact(cred.secret) }, {
        key: secretKey('DG102', cred.secret),
        ...(dev ? { severity: 'info' as const } : {}),
      });
      break; // one finding per line
    }
  }
}
