/**
 * Which files to check: everything Airflow can load or import from the checked tree, walked the way its DAG
 * processor walks it (symlinks followed, loops refused). Every `.py` file is scanned whatever `.airflowignore` says:
 * `.airflowignore` only chooses which of them the DAG processor (and our sandbox) imports as DAG files, and an ignored
 * helper is still importable by every DAG (the DAG folder is on sys.path). Zip archives (any file Python's
 * `zipfile.is_zipfile` accepts: DagBag loads those too) are listed apart; every path goes to the path rules
 * (rules/import-path) through `onEntry`. A symbolic link whose real target leaves the checked tree is never followed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ignore } from 'ignore';
import type micromatchType from 'micromatch';
import type { PathEntry } from './engine/rule';
import type { FileError } from './report';
import { UserError } from './exit-codes';
import { dataKindOf, type DataKind } from './data/kinds';

export type AirflowIgnoreSyntax = 'glob' | 'regexp';

/** Globs and the directory they are relative to (the config file's for config globs, cwd for flags). */
export interface GlobSet {
  patterns: string[];
  base: string;
}

export interface DiscoverOptions {
  paths: string[];
  cwd: string;
  include: GlobSet[];
  exclude: GlobSet[];
  airflowignore: boolean;
  airflowignoreSyntax: AirflowIgnoreSyntax;
  /** Also walk virtualenvs and vendored package folders (enforce mode: a committed one is loaded like the rest). */
  walkEverything?: boolean;
  /** Also list data files (src/data/kinds.ts) found by walking: their secrets are scanned too. */
  dataFiles?: boolean;
  /** Gets every file, folder and outside link found, for the path rules. */
  onEntry?: (e: PathEntry) => void;
}

export interface DiscoveredFile {
  abs: string;
  /** Relative to cwd, '/' separators: the path shown in reports. */
  rel: string;
  /** Named on the command line (the pre-commit case), not found by walking a directory. */
  explicit?: boolean;
  /** Matched by an `.airflowignore`: scanned, but not a DAG entry point (the sandbox does not import it). */
  airflowIgnored?: boolean;
  /** Set for data files (Discovery.dataFiles). */
  dataKind?: DataKind;
}

/** What each exclusion skipped: paths (a file or a whole folder count one). */
export interface Skipped {
  exclude: number;
  include: number;
  virtualenv: number;
}

export interface Discovery {
  /** Python source files to scan. */
  files: DiscoveredFile[];
  /** Zip archives: their members are scanned, DagBag imports them. */
  archives: DiscoveredFile[];
  /** Non-Python files that ship with the DAGs (SQL, YAML, JSON, shell, .env, INI): scanned for secrets. */
  dataFiles: DiscoveredFile[];
  errors: FileError[];
  /** dag-guard configuration files found inside the checked tree (absolute). */
  configFiles: string[];
  skipped: Skipped;
  /** `.py` files and archives matched by an `.airflowignore` (scanned all the same). */
  airflowIgnored: number;
  /** Real paths of the checked trees. */
  roots: string[];
}

/** Version-control metadata: never loaded by Airflow. */
const VCS_DIRS = new Set(['.git', '.hg', '.svn']);
/** Vendored packages, skipped unless `walkEverything` (counted as `virtualenv`). */
const VENDORED_DIRS = new Set(['node_modules', 'site-packages', 'dist-packages']);
/** Compiled or binary artefacts: reported by the path rules, never parsed as source even when named explicitly. */
const NOT_SOURCE = /\.(pyc|pyo|so|pyd|pth|egg-link)$/i;
/** A relative path that only climbs (`..`, `../..`): the folder is the working directory's ancestor. */
const UP_ONLY = /^\.\.(?:\/\.\.)*$/;
const CONFIG_NAMES = new Set(['.dag-guard.toml', 'dag-guard.toml']);

type IgnoreRule = { base: string; test: (absPath: string, isDir: boolean) => boolean };

export function toRel(cwd: string, abs: string): string {
  const r = path.relative(cwd, abs) || '.';
  return r.split(path.sep).join('/');
}

/** Is `p` (a real path) `root` or below it? */
export function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * The real paths of the trees a check covers: each directory named, and for a file named, its folder (or the working
 * directory when the file is below it: pre-commit names files of the repository it runs in).
 */
export function checkedRoots(paths: string[], cwd: string): string[] {
  const roots = new Set<string>();
  const realCwd = safeRealpath(cwd);
  for (const p of paths.length ? paths : ['.']) {
    const abs = path.resolve(cwd, p);
    let dir = abs;
    try {
      if (!fs.statSync(abs).isDirectory()) dir = within(cwd, abs) ? cwd : path.dirname(abs);
    } catch {
      dir = within(cwd, abs) ? cwd : path.dirname(abs);
    }
    roots.add(dir === cwd ? realCwd : safeRealpath(dir));
  }
  return [...roots];
}

export function discover(opts: DiscoverOptions): Discovery {
  const files: DiscoveredFile[] = [];
  const archives: DiscoveredFile[] = [];
  const dataFiles: DiscoveredFile[] = [];
  const errors: FileError[] = [];
  const configFiles: string[] = [];
  const skipped: Skipped = { exclude: 0, include: 0, virtualenv: 0 };
  let airflowIgnored = 0;
  const seen = new Set<string>();
  const include = opts.include.filter((g) => g.patterns.length);
  const exclude = opts.exclude.filter((g) => g.patterns.length);
  const excluded = (abs: string): boolean => exclude.some((g) => globMatch(g, abs));
  const included = (abs: string): boolean => include.length === 0 || include.some((g) => globMatch(g, abs));
  const onEntry = opts.onEntry ?? (() => undefined);
  const roots = checkedRoots(opts.paths, opts.cwd);

  /** `real`: the file's real path when the caller knows it (the walk does: its folder's real path + name). */
  const add = (list: DiscoveredFile[], abs: string, real: string, extra: Partial<DiscoveredFile>, rel = toRel(opts.cwd, abs)): void => {
    if (seen.has(real)) return;
    seen.add(real);
    const f: DiscoveredFile = { abs, rel };
    if (extra.explicit) f.explicit = true;
    if (extra.dataKind) f.dataKind = extra.dataKind;
    if (extra.airflowIgnored) {
      f.airflowIgnored = true;
      airflowIgnored++;
    }
    list.push(f);
  };

  const entry = (abs: string, kind: PathEntry['kind'], topLevel: boolean, target?: string, rel = toRel(opts.cwd, abs), name = path.basename(abs)): PathEntry =>
    new TreeEntry(abs, rel, name, kind, topLevel, target);

  /**
   * `rel` of `dir`'s entry `name` without path.relative (a third of the walk's time): joining is exact unless `dir`
   * is the working directory's parent or above it, where an entry can be the working directory itself.
   */
  const childRel = (relDir: string, dir: string, name: string): string =>
    relDir === '.' ? name : UP_ONLY.test(relDir) ? toRel(opts.cwd, joinName(dir, name)) : `${relDir}/${name}`;

  const outsideLink = (abs: string, topLevel: boolean): void => {
    let target = '';
    try {
      target = fs.readlinkSync(abs);
    } catch {
      /* not a link itself: a folder on the way is */
    }
    onEntry(entry(abs, 'outside-link', topLevel, target));
  };

  for (const p of opts.paths.length ? opts.paths : ['.']) {
    const abs = path.resolve(opts.cwd, p);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        if (isLink(abs)) {
          errors.push({ path: toRel(opts.cwd, abs), message: 'broken symbolic link: skipped' });
          continue;
        }
        throw new UserError(`path does not exist: ${p}`);
      }
      throw new UserError(`cannot access ${p}: ${(err as Error).message}`);
    }
    if (st.isFile()) {
      // Named explicitly (pre-commit passes staged files): scan whatever the extension, unless excluded.
      const rootOfFile = checkedRoots([p], opts.cwd)[0];
      const real = safeRealpath(abs);
      if (excluded(abs)) {
        skipped.exclude++;
        continue;
      }
      if (!within(rootOfFile, real)) {
        outsideLink(abs, false);
        continue;
      }
      onEntry(entry(abs, 'file', false));
      const kind = opts.dataFiles && !abs.endsWith('.py') ? dataKindOf(abs) : null;
      if (/\.zip$/i.test(abs) || (!abs.endsWith('.py') && isZipFile(abs, st.size))) add(archives, abs, real, { explicit: true });
      else if (kind) add(dataFiles, abs, real, { explicit: true, dataKind: kind });
      else if (!NOT_SOURCE.test(abs)) add(files, abs, real, { explicit: true });
      continue;
    }
    if (!st.isDirectory()) {
      errors.push({ path: toRel(opts.cwd, abs), message: 'not a regular file or directory: skipped' });
      continue;
    }
    const root = safeRealpath(abs);
    walk(abs, toRel(opts.cwd, abs), abs, [], new Set([root]), root, root, false);
  }


  // `realDir` is the real path of `dir`, so that files need no realpath(3) each (one syscall per file otherwise).
  // `ignoredDir`: an `.airflowignore` matched this folder or one above it (Airflow does not descend there; we do).
  function walk(
    dir: string,
    relDir: string,
    top: string,
    rules: IgnoreRule[],
    ancestors: Set<string>,
    realDir: string,
    root: string,
    ignoredDir: boolean,
    listing: fs.Dirent[] | Error = list(dir),
  ): void {
    if (listing instanceof Error) {
      errors.push({ path: toRel(opts.cwd, dir), message: `cannot read directory: ${(listing as NodeJS.ErrnoException).code ?? listing.message}` });
      return;
    }
    const entries = listing;
    let local = rules;
    if (opts.airflowignore && entries.some((e) => e.name === '.airflowignore')) {
      const rule = loadAirflowIgnore(path.join(dir, '.airflowignore'), dir, top, opts.airflowignoreSyntax, errors, opts.cwd);
      if (rule) local = [...rules, rule];
    }
    const topLevel = dir === top;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      // `dir` is normalized: joining by hand is path.join's result without its allocations (the walk's main garbage)
      const abs = joinName(dir, e.name);
      const rel = childRel(relDir, dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      let real = joinName(realDir, e.name);
      let size = -1;
      if (e.isSymbolicLink()) {
        try {
          real = fs.realpathSync.native(abs);
        } catch {
          errors.push({ path: toRel(opts.cwd, abs), message: 'broken symbolic link: skipped' });
          continue;
        }
        // Real path, not the link's text: `up -> ../..` then `x.py -> up/…` leaves the tree in two innocent steps.
        if (!within(root, real)) {
          outsideLink(abs, topLevel);
          continue;
        }
        try {
          const st = fs.statSync(abs);
          isDir = st.isDirectory();
          isFile = st.isFile();
          size = st.size;
        } catch {
          errors.push({ path: toRel(opts.cwd, abs), message: 'broken symbolic link: skipped' });
          continue;
        }
      }
      if (isDir) {
        if (VCS_DIRS.has(e.name)) continue;
        if (excluded(abs)) {
          skipped.exclude++;
          continue;
        }
        if (!opts.walkEverything && VENDORED_DIRS.has(e.name)) {
          skipped.virtualenv++;
          continue;
        }
        // The folder's listing, read once: it shows a virtualenv's pyvenv.cfg (one stat per folder less) and is walked.
        const listing = list(abs);
        if (!opts.walkEverything && !(listing instanceof Error) && listing.some((x) => x.name === 'pyvenv.cfg')) {
          skipped.virtualenv++;
          continue;
        }
        if (ancestors.has(real)) {
          errors.push({ path: toRel(opts.cwd, abs), message: 'symbolic link loop: skipped' });
          continue;
        }
        onEntry(entry(abs, 'dir', topLevel, undefined, rel, e.name));
        walk(abs, rel, top, local, new Set([...ancestors, real]), real, root, ignoredDir || local.some((r) => r.test(abs, true)), listing);
      } else if (isFile) {
        if (CONFIG_NAMES.has(e.name) || (e.name === 'pyproject.toml' && hasToolSection(abs))) configFiles.push(abs);
        if (e.name === '.airflowignore') continue;
        if (excluded(abs)) {
          skipped.exclude++;
          continue;
        }
        const isPy = e.name.endsWith('.py');
        const isArchive = !isPy && (/\.zip$/i.test(e.name) || isZipFile(abs, size));
        // dag-guard's own result cache is not a data file of the DAGs
        const kind = !isPy && !isArchive && opts.dataFiles && !(path.basename(dir) === '.dag-guard-cache' && /^results-[\w-]+\.json$/.test(e.name)) ? dataKindOf(e.name) : null;
        if ((isPy || isArchive || kind) && !included(abs)) {
          skipped.include++;
          continue;
        }
        onEntry(entry(abs, 'file', topLevel, undefined, rel, e.name));
        const ignored = ignoredDir || local.some((r) => r.test(abs, false));
        if (isPy) add(files, abs, real, { airflowIgnored: ignored }, rel);
        else if (isArchive) add(archives, abs, real, { airflowIgnored: ignored }, rel);
        else if (kind) add(dataFiles, abs, real, { dataKind: kind }, rel);
      }
    }
  }

  return { files, archives, dataFiles, errors, configFiles, skipped, airflowIgnored, roots };
}

function list(dir: string): fs.Dirent[] | Error {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    return err as Error;
  }
}

/** path.join(dir, name) for a normalized `dir` and a directory entry's `name`. */
function joinName(dir: string, name: string): string {
  return dir.endsWith(path.sep) ? dir + name : dir + path.sep + name;
}

/** A path of the checked tree, as the path rules see it (methods, not closures: one object per entry of the walk). */
class TreeEntry implements PathEntry {
  readonly inArchive = false;
  readonly target?: string;

  constructor(
    private readonly abs: string,
    readonly rel: string,
    readonly name: string,
    readonly kind: PathEntry['kind'],
    readonly topLevel: boolean,
    target?: string,
  ) {
    if (target !== undefined) this.target = target;
  }

  head(n: number): Buffer | null {
    return readHead(this.abs, n);
  }

  sibling(name: string): boolean {
    return fs.existsSync(path.join(path.dirname(this.abs), name));
  }

  child(name: string): boolean {
    return fs.existsSync(path.join(this.abs, name));
  }
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function readHead(abs: string, n: number): Buffer | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(abs, 'r');
    const buf = Buffer.alloc(n);
    const got = fs.readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** End-of-central-directory signature within the last 64 KiB + 22 bytes: what `zipfile.is_zipfile` looks for. */
const EOCD = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
function isZipFile(abs: string, size: number): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(abs, 'r');
    if (size < 0) size = fs.fstatSync(fd).size;
    if (size < 22) return false;
    const n = Math.min(size, 65557);
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, size - n);
    return buf.includes(EOCD);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function hasToolSection(file: string): boolean {
  try {
    return /^\s*\[tool\.dag-guard[\].]/m.test(fs.readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}

/** A glob without `/` matches the base name anywhere (like .gitignore); others match the path from `base`. */
export function globMatch(g: GlobSet, abs: string): boolean {
  if (!g.patterns.length) return false;
  const rel = path.relative(g.base, abs).split(path.sep).join('/');
  const isMatch = matcherOf(g.patterns);
  return isMatch(rel) || isMatch(path.posix.basename(rel));
}

/** Compiled once per pattern list: `micromatch.isMatch` compiles its patterns on every call (per file, per finding). */
const matchers = new Map<string, (s: string) => boolean>();

function matcherOf(patterns: string[]): (s: string) => boolean {
  const key = patterns.join('\0');
  let m = matchers.get(key);
  if (!m) {
    // Loaded on first use: most runs (a pre-commit hook on one file) have no globs to match.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const micromatch = require('micromatch') as typeof micromatchType;
    m = micromatch.matcher(patterns as unknown as string, { dot: true });
    matchers.set(key, m);
  }
  return m;
}

export function safeRealpath(p: string): string {
  try {
    // The native realpath(3): one system call, where the JavaScript one lstat()s every component of the path.
    return fs.realpathSync.native(p);
  } catch {
    return p;
  }
}

/**
 * `.airflowignore`, in Airflow's two syntaxes:
 * - `glob` (Airflow 3 default): gitignore rules relative to the file's directory, `!` negates.
 * - `regexp` (Airflow 2 default): each line an un-anchored regular expression searched in the path
 *   relative to the scanned root; `#` starts a comment.
 */
function loadAirflowIgnore(
  file: string,
  dir: string,
  top: string,
  syntax: AirflowIgnoreSyntax,
  errors: FileError[],
  cwd: string,
): IgnoreRule | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    errors.push({ path: toRel(cwd, file), message: `cannot read .airflowignore: ${(err as Error).message}` });
    return null;
  }
  if (syntax === 'glob') {
    // Loaded for the first glob-syntax .airflowignore: most trees have none.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ignore = require('ignore') as typeof import('ignore');
    const ig: Ignore = ignore().add(text);
    return {
      base: dir,
      test: (abs, isDir) => {
        const rel = path.relative(dir, abs).split(path.sep).join('/');
        return rel !== '' && !rel.startsWith('..') && ig.ignores(isDir ? `${rel}/` : rel);
      },
    };
  }
  const patterns: RegExp[] = [];
  for (const line of text.split('\n')) {
    const p = line.replace(/\s*#.*/, '').trim();
    if (!p) continue;
    try {
      patterns.push(new RegExp(p));
    } catch {
      errors.push({ path: toRel(cwd, file), message: `invalid regular expression in .airflowignore, ignored: ${p}` });
    }
  }
  return {
    base: dir,
    test: (abs) => {
      const rel = path.relative(top, abs).split(path.sep).join('/');
      return patterns.some((re) => re.test(rel));
    },
  };
}
