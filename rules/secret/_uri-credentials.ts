/**
 * Credentials in URIs, connection strings, command lines and SQL (DG102), and the lines that may hold them.
 */
import { lineContext } from '../../src/engine/python';
import { PLACEHOLDER_WORDS } from './_values';

export interface UriCredential {
  kind: 'userinfo' | 'query' | 'cli' | 'sql' | 'header' | 'netrc';
  scheme?: string;
  /** The password / token part: never printed. */
  secret: string;
  host?: string;
  /** Offset and length of the match in the scanned text. */
  index: number;
  length: number;
}

/** A `.netrc` entry's password: `machine host login user password pw` (any order of login/password after machine). */
const NETRC_PASSWORD = /\bmachine\s+\S+\s+(?:login\s+\S+\s+)?password\s+([^\s'"\\]+)/g;
/**
 * Cheap test for a line that may hold any of the shapes below. The `airflow` CLI counts when a subcommand follows
 * (`airflow connections add …`), not in `from airflow import …`: import lines were four in five of the lines hinted
 * on the real-repository corpus, and none can hold a credential flag.
 */
export const URI_CRED_HINT = /\bmachine\s+\S+\s+(?:login\s+\S+\s+)?password\s|:\/\/[^\s/:@]{0,300}:(?:[^\s/@]{0,300}|(?!\d)[^\s@]{0,300})@|[?&;]\s{0,5}[\w-]{0,40}(pass|pwd|key|token|secret|sig)[\w-]{0,40}\s{0,5}=|\b(password|identified\s+by)\s+['"]|\bidentified\s+by\s+[A-Za-z][\w#$]*\d|\spassword=[^\s'",()]|(^|[\s;&|("'=])(curl|wget|mysql\w*|mariadb\w*|psql|pg_dump\w*|pg_restore|mongo\w*|redis-cli|sqlcmd|bcp|osql|isql|lftp|sshpass|snowsql|ftp|smbclient|rsync|sqlplus|sqlldr|expdp|impdp|rman|docker|podman|az)\b|(^|[\s;&|("'=])airflow\s+(?!import\b)[\w-]|authorization\s*:|x-(?:api-key|auth-token|access-token)\s*:|\s--(?!no-)(?:[a-z0-9]+-){0,3}(?:token|api-?key|access-token|auth-token|client-secret|secret-key|password|passwd)[ =]/i;

/** Shell-style `NAME_PASSWORD=value` (case-sensitive, so not part of URI_CRED_HINT). */
const ENV_HINT = /(PASSWORD|PASSWD|PWD|TOKEN|SECRET|API_KEY)[A-Z0-9_]{0,40}=[^\s'"$]/;
const URI_CRED_HINT_G = new RegExp(URI_CRED_HINT.source, 'gi');
const ENV_HINT_G = new RegExp(ENV_HINT.source, 'g');

/** Longest line / value the text heuristics look at: beyond it, a blob (data, minified JSON), not a credential. */
export const MAX_SCAN = 20000;
/** `scheme://user:password@host` where the password holds characters that end a URI's authority (see findUriCredentials). */
const RAW_PASSWORD_URI = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}):\/\/([^\s/:@'"<>?#]{1,200}):(?!\d*[/?#])([^\s@'"<>]{1,300})@([A-Za-z0-9][A-Za-z0-9.-]{0,253})(?=[:/?\s'"]|$)/g;

const QUERY_SECRET = /(?:^|[?&;]\s*)(password|passwd|pwd|pass|api_?key|apikey|access_?token|auth_?token|client_?secret|secret|token|sig|x-amz-signature|x-goog-signature|accountkey|sharedaccesskey)\s*=\s*([^&;\s'"#]+)/gi;
const CLI_ARG = /(?:^|\s)(-u|--user|--conn-password|--password|--pass|-p|-P|-a|-U)(?:[ =]|(?<=-p))['"]?([^\s'"]+)/g;
/** A container started by a command line, whose `-u`/`--user` is `uid:gid`. */
const CONTAINER_RUN = /\b(?:docker|podman|nerdctl)\s+(?:container\s+)?(?:run|exec|create)\b/;
/** Oracle tools' `user/password@db` connect identifier (`sqlplus -s etl/pw@PROD`, `expdp system/pw@orcl`, `userid=u/pw@db`). */
const ORACLE_LOGIN = /(?:\b(?:sqlplus|sqlldr|expdp|impdp|rman)\b(?:\s+-\w+)*\s+|\buserid=)['"]?([A-Za-z][\w$#]{0,29})\/([^\s@'"/]+)@/gi;
/** Flags whose value is a credential whatever the program (`mytool --token abc…`, `--api-key=…`, `--password X`). */
const TOKEN_FLAG = /(?:^|\s)--(?!no-)((?:[a-z0-9]+-){0,3}(?:token|api-?key|access-token|auth-token|client-secret|secret-key|password|passwd))(?:[ =])['"]?([^\s'"]+)/gi;
/** HTTP headers carrying credentials, in a command (`curl -H "Authorization: Bearer …"`) or a header string. */
const AUTH_HEADER = /\b(?:proxy-)?authorization\s*:\s*(?:bearer|basic|token|apikey)\s+([A-Za-z0-9._~+/=-]{8,})|\bx-(?:api-key|auth-token|access-token)\s*:\s*([^\s'"]{8,})/gi;
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
    if (DOC_HOST.test(host)) continue;
    out.push({ kind: 'userinfo', scheme: m[1].toLowerCase(), secret, host, index: m.index ?? 0, length: m[0].length });
  }
  // A password holding `#`, `?` or `/` unescaped ends the authority above, yet SQLAlchemy reads everything up to the
  // `@` as the password (`postgresql://etl:Zr8#nVq@db/orders`): taken when a host name follows the `@`.
  if (/[#?/][^\s@]*@/.test(text)) {
    for (const m of text.matchAll(RAW_PASSWORD_URI)) {
      const secret = m[3];
      if (!/[#?/]/.test(secret) || !isCredentialValue(secret)) continue;
      if (out.some((u) => u.kind === 'userinfo' && u.index === m.index)) continue;
      const host = m[4];
      if (DOC_HOST.test(host)) continue;
      out.push({ kind: 'userinfo', scheme: m[1].toLowerCase(), secret, host, index: m.index ?? 0, length: m[0].length });
    }
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
  if (/(?:^|[\s;&|("'=])(curl|wget|mysql\w*|mariadb\w*|psql|pg_dump\w*|pg_restore|mongo\w*|redis-cli|sqlcmd|bcp|osql|isql|lftp|sshpass|snowsql|ftp|smbclient|rsync|airflow|sqlplus|sqlldr|expdp|impdp|rman|docker|podman|az)\b/.test(text)) {
    for (const m of text.matchAll(CLI_ARG)) {
      const flag = m[1];
      const arg = m[2];
      let secret = arg;
      // what a flag means depends on its program: the command it belongs to, not the whole text (`curl … &&
      // docker run -u 1000:1000 …`, `psql -p 5432 …; mysql …`)
      const cmd = commandBefore(text, m.index ?? 0);
      if (flag === '-u' || flag === '--user') {
        // `curl -u user:pw`, `lftp -u user,pw`; not a container's `uid:gid` (`docker run -u 1000:1000`)
        if (CONTAINER_RUN.test(cmd)) continue;
        const c = arg.indexOf(':') >= 0 ? arg.indexOf(':') : /\blftp\b/.test(cmd) ? arg.indexOf(',') : -1;
        if (c < 0) continue;
        secret = arg.slice(c + 1);
      } else if (flag === '-U') {
        // `smbclient -U 'user%pw'` (elsewhere -U is a user name: psql, sqlcmd)
        const c = arg.indexOf('%');
        if (c < 0 || !/\bsmbclient\b/.test(cmd)) continue;
        secret = arg.slice(c + 1);
      } else if (flag === '-p') {
        // `-pSecret` is mysql's password, `-p X` that of `docker login` / `az login` / `airflow users create`; `-p 5432`
        // is psql's port, `airflow webserver -p 8080` the webserver's
        if (!/(^|[\s;&|("'=])(mysql\w*|mariadb\w*|sshpass)\b|\b(?:docker|podman|az)\s+login\b|\bairflow\s+users\s+create\b/.test(cmd)) continue;
      } else if (flag === '-P') {
        // `-P` is the password of the SQL Server tools (sqlcmd, bcp, osql, isql) and the port of scp/sftp/ssh
        if (!/(^|[\s;&|("'=])(sqlcmd|bcp|osql|isql)\b/.test(cmd)) continue;
      } else if (flag === '-a' && !/redis-cli/.test(cmd)) continue;
      if (!isCredentialValue(secret)) continue;
      out.push({ kind: 'cli', secret, index: m.index ?? 0, length: m[0].length });
    }
  }
  if (/sqlplus|sqlldr|expdp|impdp|rman|userid=/i.test(text)) {
    for (const m of text.matchAll(ORACLE_LOGIN)) {
      if (!isCredentialValue(m[2])) continue;
      out.push({ kind: 'cli', secret: m[2], index: m.index ?? 0, length: m[0].length });
    }
  }
  for (const m of text.matchAll(TOKEN_FLAG)) {
    const secret = m[2];
    if (secret.startsWith('-') || !isCredentialValue(secret)) continue;
    // a known client's `--password X` is found above (CLI_ARG): one finding per flag
    if (out.some((o) => o.kind === 'cli' && o.secret === secret)) continue;
    out.push({ kind: 'cli', secret, index: m.index ?? 0, length: m[0].length });
  }
  for (const m of text.matchAll(AUTH_HEADER)) {
    const secret = m[1] ?? m[2];
    if (!isCredentialValue(secret)) continue;
    out.push({ kind: 'header', secret, index: m.index ?? 0, length: m[0].length });
  }
  for (const m of text.matchAll(SHELL_ENV_SECRET)) {
    // only inside a string literal (a shell command), not Python's own `f(API_TOKEN=token)`
    if (lineContext(text.slice(0, m.index ?? 0)) !== 'string') continue;
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
  // .netrc entries (written by a task for wget/curl/ftp): `machine host login user password pw`
  if (/\bmachine\s/.test(text)) {
    for (const m of text.matchAll(NETRC_PASSWORD)) {
      const secret = m[1];
      if (!isCredentialValue(secret)) continue;
      out.push({ kind: 'netrc', secret, index: m.index ?? 0, length: m[0].length });
    }
  }
  // SQL run by SQL operators: CREATE/ALTER USER ... PASSWORD '...', IDENTIFIED BY '...'
  // (`IDENTIFIED BY` needs no `USER` beside it: the statement is often split over lines, and the text here may be one)
  const userContext = /\b(user|role|login)\b/i.test(text);
  if (userContext || /\bidentified\s+by\b/i.test(text)) {
    for (const m of text.matchAll(SQL_PASSWORD)) {
      if (!userContext && !/^identified/i.test(m[1] ?? m[4] ?? '')) continue;
      const secret = m[2] ?? m[3] ?? m[5];
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
      // a match may start at the line break before its line (`\s` of `(^|\s)curl`): its line ends at the next one
      const end = text.indexOf('\n', m.index + 1);
      if (end < 0) break;
      // resume at the line break, not after it: the next line's hint may need it
      hint.lastIndex = end;
    }
  }
  return [...starts].sort((x, y) => x - y);
}

/**
 * Hosts of documentation examples (`user:pass@example.com`, `@host`, `@your-host`). A name under the reserved
 * `.example` TLD is not one of them: it is how real internal names are anonymised in code shared outside (a
 * realistic password next to `dwh-prod.internal.example` is as likely real as next to any other name).
 */
const DOC_HOST = /(^|\.)(example\.(com|org|net)|host|hostname|your[-_]?host|server)$|^example$/i;

const LIBPQ_PASSWORD = /(?<=[\s'"])password=([^\s'",()]+)(?=[\s'"]|$)/g;
// Oracle quotes a password with special characters in double quotes (`IDENTIFIED BY "Tabl3au#ro"`), or leaves a
// plain one bare (`IDENTIFIED BY tiger2024`: only with a digit, so that `IDENTIFIED BY VALUES`/`EXTERNALLY` are words)
const SQL_PASSWORD = /\b(password|identified\s+by)\s+(?:'([^'\s]+)'|"([^"\s]+)")|\b(identified\s+by)\s+([A-Za-z][\w#$]*\d[\w#$]*)/gi;


function decodeLoose(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A password part that is actually a value (not a placeholder, template or interpolation). */
/**
 * The command a flag at `index` belongs to: the text back to the nearest command separator (`;`, `&&`, `||`, `|`,
 * a line break, `$(`, a backquote) — or to the start of the string literal, in Python source.
 */
function commandBefore(text: string, index: number): string {
  let i = index;
  while (i > 0) {
    const c = text[i - 1];
    // a line break ends the command unless escaped (`mysql -h db \⏎ -pSecret` is one command)
    if (c === '\n' && !/\\\r?$/.test(text.slice(Math.max(0, i - 3), i - 1))) break;
    if (c === ';' || c === '|' || c === '`' || (c === '&' && text[i - 2] === '&') || (c === '(' && text[i - 2] === '$')) break;
    i--;
  }
  return text.slice(i, index);
}

function isCredentialValue(secret: string): boolean {
  if (!secret) return false;
  if (/[{}]/.test(secret) || /^\$|^%|^<.*>$|^\*+$/.test(secret)) return false;
  if (PLACEHOLDER_WORDS.has(secret.toLowerCase())) return false;
  if (/^(.)\1*$/.test(secret)) return false; // x, xxx, ***
  if (/^(your|my)[-_]?[a-z_-]*(pass(word)?|pwd|secret|token|key|pw)[-_]?(here)?$/i.test(secret) || /^(your|my)[-_]?[a-z]+$/.test(secret) || /^(pass(word)?|pwd|secret|token)\d?$/i.test(secret)) return false;
  if (/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(secret)) return false; // an env var name
  return true;
}
