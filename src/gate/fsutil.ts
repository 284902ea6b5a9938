import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes a file so that readers see either the old or the new content, never a partial one. */
export function writeFileAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}-${Date.now().toString(36)}`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    rmQuiet(tmp);
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    rmQuiet(tmp);
    throw err;
  }
}

export function rmQuiet(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* not supported everywhere (e.g. some FUSE mounts): the rename is still atomic */
  }
}

/** A symbolic link met while copying: its path in the tree, what it says, and (when refused) why. */
export interface LinkNote {
  path: string;
  target: string;
  reason?: string;
}

export interface CopyStats {
  files: number;
  bytes: number;
  /** Entries left out that are harmless to leave out (sockets, FIFOs, devices): logged only. */
  skipped: string[];
  /** In-tree links replaced by a copy of what they resolve to. */
  materialised: LinkNote[];
  /** Links (or files) that would make Airflow read something the check did not see: the revision is refused. */
  rejected: LinkNote[];
}

export interface CopyLimits {
  /** Entries the copy may write in all (links can multiply a tree: a directory reached through many links). */
  maxEntries?: number;
  /** Directory nesting depth in the copy. */
  maxDepth?: number;
}

const inside = (root: string, p: string): boolean => p === root || p.startsWith(root + path.sep);

/** The path the kernel says an open descriptor refers to, or null where /proc is not mounted. */
function fdPath(fd: number): string | null {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

class Refused extends Error {}

/**
 * Copies one regular file from a path without symlinks. The source is opened without following a final link
 * and without blocking (a FIFO swapped in must not hang the gate), then the kernel is asked where the open
 * descriptor really is: a path component swapped for a link since the walk read it is caught here, so the bytes
 * copied always come from inside the tree.
 */
function copyFileChecked(from: string, to: string, root: string): number {
  let fd: number;
  try {
    fd = fs.openSync(from, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new Refused('became a symbolic link while being copied');
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Refused('is no longer a regular file');
    const real = fdPath(fd);
    if (real !== null && !inside(root, real)) throw new Refused(`opened file lies outside the checked tree (${real})`);
    const out = fs.openSync(to, 'wx', st.mode & 0o111 ? 0o755 : 0o644);
    let bytes = 0;
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        let off = 0;
        while (off < n) off += fs.writeSync(out, buf, off, n - off);
        bytes += n;
      }
    } finally {
      fs.closeSync(out);
    }
    fs.chmodSync(to, st.mode & 0o111 ? 0o755 : 0o644); // the umask must not decide what Airflow can read
    return bytes;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Copies the tree at `src` (a real directory: its own path holds no symlink) into the new directory `dest`,
 * writing only regular files and directories. Skips `.git` (a git-sync worktree's `.git` is a file pointing
 * back into the staging root).
 *
 * Symlinks are never copied as links: Airflow would follow them at parse time, to whatever they point at
 * *then*, which is not what the check read. A link whose real target (realpath: every component resolved)
 * stays inside the tree is materialised, i.e. replaced by a copy of the file or directory it resolves to. A link
 * that resolves outside the tree, dangles, loops, points into `.git` or at something that is not a file or a
 * directory is listed in `rejected`: the caller refuses the revision, because the committer asked Airflow to
 * read something the gate cannot vouch for.
 */
export function copyTree(src: string, dest: string, limits: CopyLimits = {}): CopyStats {
  const stats: CopyStats = { files: 0, bytes: 0, skipped: [], materialised: [], rejected: [] };
  const root = src;
  const maxEntries = limits.maxEntries ?? 500_000;
  const maxDepth = limits.maxDepth ?? 100;
  let entries = 0;
  let tooBig = false;
  const gitDir = path.join(root, '.git');

  const copyFile = (from: string, to: string, r: string, link?: LinkNote): void => {
    try {
      stats.bytes += copyFileChecked(from, to, root);
      stats.files++;
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      stats.rejected.push(link ? { ...link, reason: err.message } : { path: r, target: '', reason: err.message });
    }
  };

  // `stack` holds the real directories being copied: descending into one of them again is a loop.
  const walk = (from: string, to: string, rel: string, stack: Set<string>): void => {
    fs.mkdirSync(to, { mode: 0o755 });
    fs.chmodSync(to, 0o755);
    for (const e of fs.readdirSync(from, { withFileTypes: true })) {
      if (rel === '' && e.name === '.git') continue;
      if (++entries > maxEntries) {
        tooBig = true;
        return;
      }
      const s = path.join(from, e.name);
      const d = path.join(to, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) {
        const target = fs.readlinkSync(s);
        const note: LinkNote = { path: r, target };
        let real: string;
        try {
          real = fs.realpathSync.native(s); // realpath(3): `up/..` must resolve `up` first, as open(2) does (the JS version is lexical)
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          stats.rejected.push({ ...note, reason: code === 'ELOOP' ? 'symbolic link loop' : code === 'ENOENT' ? 'dangling symbolic link' : `cannot resolve (${code})` });
          continue;
        }
        if (!inside(root, real)) {
          stats.rejected.push({ ...note, reason: `resolves outside the checked tree (to ${real})` });
          continue;
        }
        if (inside(gitDir, real)) {
          stats.rejected.push({ ...note, reason: 'points into .git' });
          continue;
        }
        const st = fs.statSync(real);
        if (st.isDirectory()) {
          if (stack.has(real) || stack.size >= maxDepth) {
            stats.rejected.push({ ...note, reason: stack.has(real) ? 'symbolic link loop (points at a directory that contains it)' : 'nesting too deep' });
            continue;
          }
          stats.materialised.push(note);
          walk(real, d, r, new Set(stack).add(real));
        } else if (st.isFile()) {
          stats.materialised.push(note);
          copyFile(real, d, r, note);
        } else {
          stats.rejected.push({ ...note, reason: 'points at something that is not a regular file or directory' });
        }
      } else if (e.isDirectory()) {
        if (stack.size >= maxDepth) {
          stats.rejected.push({ path: r, target: '', reason: 'nesting too deep' });
          continue;
        }
        walk(s, d, r, new Set(stack).add(s));
      } else if (e.isFile()) {
        copyFile(s, d, r);
      } else {
        stats.skipped.push(`${r} (not a regular file)`);
      }
      if (tooBig) return;
    }
  };
  walk(src, dest, '', new Set([root]));
  if (tooBig) stats.rejected.push({ path: '.', target: '', reason: `the tree (with its links materialised) has more than ${maxEntries} entries` });
  return stats;
}

/** Flushes every file of a freshly copied tree to disk before it is published. */
export function fsyncTree(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) fsyncTree(p);
    else if (e.isFile()) {
      const fd = fs.openSync(p, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
  fsyncDir(dir);
}
