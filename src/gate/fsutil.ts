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

export interface CopyStats {
  files: number;
  bytes: number;
  skipped: string[];
}

/**
 * Copies the tree at `src` (a real directory, symlinks already resolved) into the new directory `dest`.
 * Skips `.git` (a git-sync worktree's `.git` is a file pointing back into the staging root). Symlinks are
 * copied as symlinks only when they stay inside the tree; a link that escapes it is skipped and reported,
 * because the scheduler would follow it to code the check never saw.
 */
export function copyTree(src: string, dest: string): CopyStats {
  const stats: CopyStats = { files: 0, bytes: 0, skipped: [] };
  const root = src;
  const walk = (from: string, to: string, rel: string): void => {
    fs.mkdirSync(to, { mode: 0o755 });
    for (const e of fs.readdirSync(from, { withFileTypes: true })) {
      if (rel === '' && e.name === '.git') continue;
      const s = path.join(from, e.name);
      const d = path.join(to, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) {
        const target = fs.readlinkSync(s);
        const resolved = path.resolve(path.dirname(s), target);
        if (path.isAbsolute(target) || !(resolved + path.sep).startsWith(root + path.sep)) {
          stats.skipped.push(`${r} (symlink leaves the tree)`);
          continue;
        }
        fs.symlinkSync(target, d);
      } else if (e.isDirectory()) {
        walk(s, d, r);
      } else if (e.isFile()) {
        fs.copyFileSync(s, d);
        const st = fs.statSync(d);
        fs.chmodSync(d, st.mode & 0o111 ? 0o755 : 0o644);
        stats.files++;
        stats.bytes += st.size;
      } else {
        stats.skipped.push(`${r} (not a regular file)`);
      }
    }
  };
  walk(src, dest, '');
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
