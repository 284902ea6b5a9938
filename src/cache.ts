/**
 * Per-file result cache, like ruff's: the scan output of a file is reused when nothing that decides it changed —
 * the file's bytes, its path and fingerprint path, the dag-guard version and code, and the settings the scan ran
 * with. Findings that depend on more than one file (path rules, archives, the sandbox) and everything applied
 * after the scan (per-file ignores, severity overrides, baselines) are never cached.
 *
 * The committer is the attacker (SECURITY.md): a cache file inside the checked tree could be planted. Each cache
 * file is authenticated with an HMAC whose key lives outside the tree, in the user's cache folder, so a planted or
 * edited file fails verification and is ignored; a symlinked cache folder is refused; enforce mode uses no cache
 * inside the checked tree.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ScanInput, ScanJob, ScanOutput } from './scan';

const FORMAT = 2;
/** Result files kept per cache folder (one per configuration): the oldest go first. */
const MAX_RESULT_FILES = 8;

export interface CacheOptions {
  dir: string;
  /** Where the HMAC key is kept (default: `$XDG_CACHE_HOME/dag-guard`, else `~/.cache/dag-guard`). */
  keyDir?: string;
}

/**
 * `[h, size, mtimeMs, ctimeMs, ino, output?]`: the sha256 of the file's bytes, and its size, mtime, ctime and inode
 * when `h` was computed — while all four are unchanged, `h` is not recomputed (ctime cannot be set back by `touch`,
 * so a rewrite that keeps size and mtime still shows). The output is left out when the file had nothing to report
 * (most files): a list, not an object, because reading this file is most of a warm run's cost.
 */
type Entry = [string, number, number, number, number, ScanOutput?];

/** The output of a file with nothing to report, shared (frozen: nothing may add to it). */
const NOTHING: ScanOutput = Object.freeze({
  findings: Object.freeze([]) as unknown as ScanOutput['findings'],
  warnings: Object.freeze([]) as unknown as ScanOutput['warnings'],
  errors: Object.freeze([]) as unknown as ScanOutput['errors'],
  suppressed: 0,
  bytes: 0,
});

export class ResultCache {
  private readonly entries: Record<string, Entry>;
  /** Keys of the stored entries this run used unchanged (a list: the warm path's one write per file). */
  private readonly kept: string[] = [];
  /** Entries this run wrote or updated. */
  private readonly fresh = new Map<string, Entry>();
  /** Hash and stat of each file looked up and missed, for `set`. */
  private readonly pending = new Map<string, Entry>();
  /** How many entries were stored (a run that reused them all, unchanged, writes nothing). */
  private readonly stored: number;
  hits = 0;
  misses = 0;

  private constructor(
    private readonly dir: string,
    private readonly file: string,
    private readonly key: Buffer,
    entries: Record<string, Entry>,
    /** Why the stored results were not used, if they were not (shown once). */
    readonly note: string | null,
  ) {
    this.entries = entries;
    this.stored = Object.keys(entries).length;
  }

  /**
   * Opens the cache for this run's configuration, or returns a reason why there is none (a symlinked or unusable
   * folder, no key). Never throws: a broken cache only costs time.
   */
  static open(opts: CacheOptions, job: ScanJob, context: object = {}): ResultCache | { disabled: string } {
    try {
      const key = hmacKey(opts.keyDir ?? defaultKeyDir());
      const st = lstatOrNull(opts.dir);
      if (st && (st.isSymbolicLink() || !st.isDirectory())) return { disabled: `${opts.dir} is not a plain folder (a symbolic link?): cache not used` };
      const id = createHash('sha256').update(JSON.stringify({ format: FORMAT, code: codeFingerprint(), job, context })).digest('hex').slice(0, 20);
      const file = path.join(opts.dir, `results-${id}.json`);
      const { entries, note } = readVerified(file, key);
      return new ResultCache(opts.dir, file, key, entries, note);
    } catch (e) {
      return { disabled: `cache not used: ${(e as Error).message}` };
    }
  }

  /** Were results stored for this configuration (so that a run may find every file cached)? */
  get warm(): boolean {
    return this.stored > 0;
  }

  /**
   * The cached output for this file, if its content is the one cached: trusted from the stat when size, mtime,
   * ctime and inode are unchanged, else by hashing the bytes `read` returns (null: unreadable or too big, never
   * cached). The findings are copies: the run adjusts them (severity overrides) after the scan.
   */
  get(input: ScanInput, st: fs.Stats, read: () => Buffer | null): ScanOutput | null {
    const k = entryKey(input);
    const e = this.entries[k];
    const valid = Array.isArray(e) && e.length >= 5;
    // On a warm run this is every file: no allocation unless something changed.
    if (valid && e[1] === st.size && e[2] === st.mtimeMs && e[3] === st.ctimeMs && e[4] === st.ino) {
      this.kept.push(k);
      return this.hit(e[5]);
    }
    const b = read();
    const h = b ? hashBytes(b) : null;
    const fresh: Entry = [h ?? '', st.size, st.mtimeMs, st.ctimeMs, st.ino];
    if (valid && h === e[0]) {
      if (e[5]) fresh.push(e[5]);
      this.fresh.set(k, fresh);
      return this.hit(e[5]);
    }
    if (h) this.pending.set(k, fresh);
    this.misses++;
    return null;
  }

  private hit(o: ScanOutput | undefined): ScanOutput {
    this.hits++;
    return o ? copyOutput(o) : NOTHING;
  }

  /** Remember a fresh output (not one with errors: a read error or a rule crash is not a result). */
  set(input: ScanInput, out: ScanOutput): void {
    const k = entryKey(input);
    const p = this.pending.get(k);
    if (!p || out.errors.length) return;
    const e: Entry = [p[0], p[1], p[2], p[3], p[4]];
    if (out.findings.length || out.warnings.length || out.suppressed) {
      e.push(copyOutput(out));
    }
    this.fresh.set(k, e);
  }

  /**
   * Writes what this run used or produced (entries of files not seen in this run are dropped), atomically: a
   * temporary file renamed over the old one. Errors (read-only folder, full disk) are returned, not thrown.
   */
  save(): string | null {
    if (this.fresh.size === 0 && this.kept.length === this.stored) return null;
    try {
      const created = !fs.existsSync(this.dir);
      fs.mkdirSync(this.dir, { recursive: true });
      const st = fs.lstatSync(this.dir);
      if (st.isSymbolicLink() || !st.isDirectory()) return `${this.dir} is not a plain folder: cache not written`;
      if (created) fs.writeFileSync(path.join(this.dir, '.gitignore'), '# written by dag-guard: the cache is local\n*\n');
      const next: Record<string, Entry> = {};
      for (const k of this.kept) next[k] = this.entries[k];
      for (const [k, e] of this.fresh) next[k] = e;
      const body = JSON.stringify({ format: FORMAT, entries: next });
      const mac = createHmac('sha256', this.key).update(body).digest('hex');
      const tmp = path.join(this.dir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        fs.writeSync(fd, `${mac}\n${body}`);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.file);
      prune(this.dir, this.file);
      return null;
    } catch (e) {
      return `cache not written: ${(e as Error).message}`;
    }
  }
}

/** A copy whose findings and warnings the run may adjust in place (severity overrides) without touching the cache. */
function copyOutput(o: ScanOutput): ScanOutput {
  return { ...o, findings: o.findings.map((f) => ({ ...f })), warnings: o.warnings.map((w) => ({ ...w })) };
}

/** Report path, fingerprint path (when another) and whether the file was named on the command line. */
function entryKey(input: ScanInput): string {
  const x = input.explicit ? 1 : 0;
  return input.id === undefined || input.id === input.rel ? `${input.rel}\0${x}` : `${input.rel}\0${input.id}\0${x}`;
}

function hashBytes(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

function readVerified(file: string, key: Buffer): { entries: Record<string, Entry>; note: string | null } {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch {
    return { entries: {}, note: null };
  }
  // The MAC over the bytes as written (the file is UTF-8): no decode and re-encode of the body to check it.
  const nl = raw.indexOf(0x0a);
  const mac = Buffer.from(raw.subarray(0, Math.max(0, nl)).toString('latin1'), 'hex');
  const want = createHmac('sha256', key).update(raw.subarray(nl + 1)).digest();
  if (nl < 0 || mac.length !== want.length || !timingSafeEqual(mac, want)) {
    return { entries: {}, note: `${path.basename(file)} failed verification (not written by this user's dag-guard): ignored` };
  }
  try {
    const parsed = JSON.parse(raw.toString('utf8', nl + 1)) as { format?: number; entries?: Record<string, Entry> };
    if (parsed.format !== FORMAT || typeof parsed.entries !== 'object' || parsed.entries === null) return { entries: {}, note: null };
    return { entries: parsed.entries, note: null };
  } catch {
    return { entries: {}, note: `${path.basename(file)} is not valid JSON: ignored` };
  }
}

function defaultKeyDir(): string {
  const base = process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME) ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'dag-guard');
}

/** The user's HMAC key (32 random bytes, mode 0600), created on first use. */
function hmacKey(dir: string): Buffer {
  const file = path.join(dir, 'cache.key');
  try {
    const k = fs.readFileSync(file);
    if (k.length === 32) return k;
  } catch {
    // created below
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const k = randomBytes(32);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, k, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(tmp, file); // first writer wins; a concurrent run reads the winner's key
  } catch {
    // exists already
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const got = fs.readFileSync(file);
  if (got.length !== 32) throw new Error(`${file} is not a dag-guard cache key`);
  return got;
}

let codeFp: string | null = null;

/**
 * What identifies the analysis code: the package version and the size and modification time of every built
 * module (and JSON file: the rule manifest) of the engine and the rules, so that a rebuilt checkout never reuses
 * results of older code.
 */
export function codeFingerprint(): string {
  if (codeFp) return codeFp;
  const h = createHash('sha256');
  const root = path.resolve(__dirname, '..');
  try {
    h.update(JSON.parse(fs.readFileSync(path.resolve(root, '..', 'package.json'), 'utf8')).version ?? '');
  } catch {
    h.update('?');
  }
  const walk = (d: string, rel: string): void => {
    let list: fs.Dirent[];
    try {
      list = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    // code-unit order: localeCompare would load ICU's collator, the slowest step of a cached run
    for (const e of list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = `${d}${path.sep}${e.name}`;
      if (e.isDirectory()) walk(p, `${rel}/${e.name}`);
      else if (e.name.endsWith('.js') || e.name.endsWith('.json')) {
        const st = fs.statSync(p);
        h.update(`${rel}/${e.name}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  walk(path.join(root, 'src'), 'src');
  walk(path.join(root, 'rules'), 'rules');
  return (codeFp = h.digest('hex'));
}

/** Keeps the newest result files of the folder (besides the one just written). */
function prune(dir: string, keep: string): void {
  const files = fs
    .readdirSync(dir)
    .filter((n) => /^results-[0-9a-f]+\.json$/.test(n))
    .map((n) => path.join(dir, n))
    .filter((p) => p !== keep)
    .map((p) => ({ p, t: fs.statSync(p).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const f of files.slice(MAX_RESULT_FILES - 1)) fs.rmSync(f.p, { force: true });
}
