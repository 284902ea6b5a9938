/**
 * Which files to scan: what Airflow's DAG processor would read, walking directories the way it does
 * (`.airflowignore` in every directory, applying to it and below; symlinks followed, loops refused).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import type micromatchType from 'micromatch';
import type { FileError } from './report';
import { UserError } from './exit-codes';

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
}

export interface DiscoveredFile {
  abs: string;
  /** Relative to cwd, '/' separators: the path shown in reports. */
  rel: string;
  /** Named on the command line (the pre-commit case), not found by walking a directory. */
  explicit?: boolean;
}

const SKIP_DIRS = new Set(['__pycache__', 'node_modules', 'site-packages', 'dist-packages']);

type IgnoreRule = { base: string; test: (absPath: string, isDir: boolean) => boolean };

export function toRel(cwd: string, abs: string): string {
  const r = path.relative(cwd, abs) || '.';
  return r.split(path.sep).join('/');
}

/** `excluded`: files and folders left out by include/exclude globs or .airflowignore (counted, so a run says so). */
export function discover(opts: DiscoverOptions): { files: DiscoveredFile[]; errors: FileError[]; excluded: number } {
  let excludedCount = 0;
  const files: DiscoveredFile[] = [];
  const errors: FileError[] = [];
  const seen = new Set<string>();
  const include = opts.include.filter((g) => g.patterns.length);
  const exclude = opts.exclude.filter((g) => g.patterns.length);
  const excluded = (abs: string): boolean => exclude.some((g) => globMatch(g, abs));
  const included = (abs: string): boolean => include.length === 0 || include.some((g) => globMatch(g, abs));

  /** `real`: the file's real path when the caller knows it (the walk does: its folder's real path + name). */
  const add = (abs: string, real: string = safeRealpath(abs), explicit = false): void => {
    if (seen.has(real)) return;
    seen.add(real);
    files.push(explicit ? { abs, rel: toRel(opts.cwd, abs), explicit } : { abs, rel: toRel(opts.cwd, abs) });
  };

  for (const p of opts.paths.length ? opts.paths : ['.']) {
    const abs = path.resolve(opts.cwd, p);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(`path does not exist: ${p}`);
      throw new UserError(`cannot access ${p}: ${(err as Error).message}`);
    }
    if (st.isFile()) {
      // Named explicitly (pre-commit passes staged files): scan whatever the extension, unless excluded.
      if (!excluded(abs)) add(abs, undefined, true);
      else excludedCount++;
      continue;
    }
    if (!st.isDirectory()) {
      errors.push({ path: toRel(opts.cwd, abs), message: 'not a regular file or directory: skipped' });
      continue;
    }
    const real = safeRealpath(abs);
    walk(abs, abs, [], new Set([real]), real);
  }

  // `realDir` is the real path of `dir`, so that files need no realpath(3) each (one syscall per file otherwise).
  function walk(dir: string, root: string, rules: IgnoreRule[], ancestors: Set<string>, realDir: string): void {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      errors.push({ path: toRel(opts.cwd, dir), message: `cannot read directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return;
    }
    let local = rules;
    if (opts.airflowignore && entries.some((e) => e.name === '.airflowignore')) {
      const rule = loadAirflowIgnore(path.join(dir, '.airflowignore'), dir, root, opts.airflowignoreSyntax, errors, opts.cwd);
      if (rule) local = [...rules, rule];
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          const st = fs.statSync(abs);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          errors.push({ path: toRel(opts.cwd, abs), message: 'broken symbolic link: skipped' });
          continue;
        }
      }
      if (isDir) {
        if (e.name.startsWith('.') || SKIP_DIRS.has(e.name) || fs.existsSync(path.join(abs, 'pyvenv.cfg'))) continue;
        if (excluded(abs) || local.some((r) => r.test(abs, true))) {
          excludedCount++;
          continue;
        }
        const real = safeRealpath(abs);
        if (ancestors.has(real)) {
          errors.push({ path: toRel(opts.cwd, abs), message: 'symbolic link loop: skipped' });
          continue;
        }
        walk(abs, root, local, new Set([...ancestors, real]), real);
      } else if (isFile && e.name.endsWith('.py')) {
        if (excluded(abs) || !included(abs) || local.some((r) => r.test(abs, false))) {
          excludedCount++;
          continue;
        }
        add(abs, e.isSymbolicLink() ? safeRealpath(abs) : path.join(realDir, e.name));
      }
    }
  }

  return { files, errors, excluded: excludedCount };
}

/** A glob without `/` matches the base name anywhere (like .gitignore); others match the path from `base`. */
export function globMatch(g: GlobSet, abs: string): boolean {
  if (!g.patterns.length) return false;
  // Loaded on first use: most runs (a pre-commit hook on one file) have no globs to match.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const micromatch = require('micromatch') as typeof micromatchType;
  const rel = path.relative(g.base, abs).split(path.sep).join('/');
  const opts = { dot: true };
  return micromatch.isMatch(rel, g.patterns, opts) || micromatch.isMatch(path.posix.basename(rel), g.patterns, opts);
}

function safeRealpath(p: string): string {
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
  root: string,
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
      const rel = path.relative(root, abs).split(path.sep).join('/');
      return patterns.some((re) => re.test(rel));
    },
  };
}
