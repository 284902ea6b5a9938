/**
 * Key/value pairs of a data file (src/data/kinds.ts), with their offsets: what the key/value secret rule (DG101)
 * looks at outside Python. YAML and JSON are parsed (the `yaml` package reads both, every document of a
 * multi-document file); Kubernetes `env` lists (`- name: DB_PASSWORD` / `value: …`) and compose-style `KEY=value`
 * list items count as pairs. Other kinds, and YAML/JSON that does not parse (a Helm template, a fragment), are read
 * line by line, so a broken file is still scanned.
 */
import type { Node } from 'yaml';
import { defineService, type RuleContext } from '../engine/context';
import type { DataKind } from './kinds';
import { linesWithOffsets } from './lines';

export interface DataPair {
  key: string;
  value: string;
  /** Offsets of the value in the file's text. */
  start: number;
  end: number;
}

/** Longest value looked at: beyond it, a blob (a certificate bundle, data), not a password. */
const MAX_VALUE = 4096;

/** The pairs of the current data file, computed once for all rules. */
export const DATA_PAIRS = defineService('data:pairs', (ctx: RuleContext): DataPair[] => {
  const kind = ctx.file.dataKind;
  return kind ? extractPairs(ctx.file.text, kind) : [];
});

export function extractPairs(text: string, kind: DataKind): DataPair[] {
  if (kind === 'yaml' || kind === 'json') {
    const parsed = structuredPairs(text);
    if (parsed) return parsed;
    return kind === 'json' ? jsonLinePairs(text) : linePairs(text, YAML_LINE);
  }
  if (kind === 'env' || kind === 'shell') return linePairs(text, ENV_LINE);
  if (kind === 'ini') return [...linePairs(text, INI_LINE), ...linePairs(text, SPACED_LINE)];
  if (kind === 'toml') return linePairs(text, INI_LINE);
  if (kind === 'pgpass') return pgpassPairs(text);
  if (kind === 'netrc') return netrcPairs(text);
  return [];
}

function structuredPairs(text: string): DataPair[] | null {
  // loaded on first use: most runs (a pre-commit hook on Python files) read no YAML
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { isScalar, parseAllDocuments, visit } = require('yaml') as typeof import('yaml');
  let docs;
  try {
    docs = parseAllDocuments(text, { uniqueKeys: false, strict: false });
  } catch {
    return null;
  }
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.some((d) => d.errors.length)) return null;
  const out: DataPair[] = [];
  const push = (key: unknown, node: Node | null | undefined): void => {
    if (typeof key !== 'string' || !node || !isScalar(node) || !node.range) return;
    const v = node.value;
    if (typeof v !== 'string' && typeof v !== 'number') return;
    const value = String(v);
    if (!value || value.length > MAX_VALUE) return;
    out.push({ key, value, start: node.range[0], end: node.range[1] });
  };
  for (const doc of list) {
    visit(doc, {
      Pair(_, pair) {
        const key = isScalar(pair.key) ? pair.key.value : null;
        push(key, pair.value as Node | null);
      },
      Map(_, map) {
        // Kubernetes env entries and the like: {name: DB_PASSWORD, value: "…"}
        const name = map.get('name', true);
        const value = map.get('value', true);
        if (isScalar(name) && typeof name.value === 'string' && value) push(name.value, value as Node);
      },
      Seq(_, seq) {
        // compose `environment: [DB_PASSWORD=…]`, argument lists `["--password=…"]` are text for DG102
        for (const item of seq.items) {
          if (!isScalar(item) || typeof item.value !== 'string' || !item.range) continue;
          const m = /^([A-Za-z_][\w.-]{0,80})=(.+)$/s.exec(item.value);
          if (!m) continue;
          const quoted = item.type === 'QUOTE_DOUBLE' || item.type === 'QUOTE_SINGLE' ? 1 : 0;
          const start = item.range[0] + quoted + m[1].length + 1;
          out.push({ key: m[1], value: m[2], start, end: start + m[2].length });
        }
      },
    });
  }
  return out;
}

/** `KEY=value`, `export KEY="value"` (dotenv, shell). */
const ENV_LINE = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][\w.-]{0,80})=(.*)$/gm;
/** `key = value`, `key: value`, `"key" = "value"` (INI, cfg, properties, TOML). */
const INI_LINE = /^[ \t]*["']?([A-Za-z_][\w. -]{0,80}?)["']?[ \t]*[=:][ \t]*(.*)$/gm;
/**
 * `spark.hadoop.fs.s3a.secret.key   value` (`spark-defaults.conf`, Java `.properties`): a dotted key separated from
 * its value by blanks only.
 */
const SPACED_LINE = /^[ \t]*([A-Za-z_][\w-]*(?:\.[\w-]+)+)[ \t]+(?![=:])(\S.*)$/gm;
/** `key: value`, `- key: value` (YAML that does not parse). */
const YAML_LINE = /^[ \t]*(?:-[ \t]+)?["']?([A-Za-z_][\w.-]{0,80})["']?[ \t]*:[ \t]+(.*)$/gm;
/** `"key": "value"` anywhere (JSON that does not parse). */
const JSON_PAIR = /"([A-Za-z_][\w.-]{0,80})"\s*:\s*"((?:[^"\\\n]|\\.){1,4096})"/g;

function linePairs(text: string, re: RegExp): DataPair[] {
  const out: DataPair[] = [];
  for (const m of text.matchAll(re)) {
    const raw = m[2];
    const rawStart = (m.index ?? 0) + m[0].length - raw.length;
    const v = unquote(raw);
    if (!v || !v.value || v.value.length > MAX_VALUE) continue;
    out.push({ key: m[1].trim(), value: v.value, start: rawStart + v.offset, end: rawStart + v.offset + v.value.length });
  }
  return out;
}

function jsonLinePairs(text: string): DataPair[] {
  const out: DataPair[] = [];
  for (const m of text.matchAll(JSON_PAIR)) {
    const start = (m.index ?? 0) + m[0].length - m[2].length - 1;
    out.push({ key: m[1], value: m[2], start, end: start + m[2].length });
  }
  return out;
}

/** A value as written after `=`/`:`: quoted (up to the closing quote) or bare (up to a ` #` comment). */
function unquote(raw: string): { value: string; offset: number } | null {
  const lead = raw.length - raw.trimStart().length;
  const s = raw.trimStart();
  const q = s[0];
  if (q === '"' || q === "'") {
    const close = s.indexOf(q, 1);
    if (close < 0) return null;
    return { value: s.slice(1, close), offset: lead + 1 };
  }
  const bare = s.replace(/[ \t]+[#;].*$/, '').trimEnd();
  return { value: bare, offset: lead };
}

/** `host:port:database:user:password` lines of a libpq password file (`\:` escapes a colon): the password. */
function pgpassPairs(text: string): DataPair[] {
  const out: DataPair[] = [];
  for (const { line, start: at } of linesWithOffsets(text)) {
    const fields = /^((?:[^:\\\n]|\\.)*:){4}/.exec(line);
    if (fields && !line.trimStart().startsWith('#')) {
      const value = line.slice(fields[0].length).replace(/\r$/, '');
      if (value && value.length <= MAX_VALUE) out.push({ key: 'password', value: value.replace(/\\(.)/g, '$1'), start: at + fields[0].length, end: at + fields[0].length + value.length });
    }
  }
  return out;
}

/** `machine h login u password p` tokens of a `.netrc`, on one line or several: the password (and `account`). */
function netrcPairs(text: string): DataPair[] {
  const out: DataPair[] = [];
  for (const m of text.matchAll(/(?:^|\s)(password|account)\s+(\S+)/g)) {
    const start = m.index! + m[0].length - m[2].length;
    out.push({ key: m[1], value: m[2], start, end: start + m[2].length });
  }
  return out;
}
