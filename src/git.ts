/**
 * `check --changed-since REF`: the Python files a branch changes, for pre-merge gates.
 * Real `git` is run (never reimplemented): merge-base of REF and HEAD, then a diff against the working tree.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from './exit-codes';

export interface ChangedFiles {
  /** The merge-base commit the diff was taken from. */
  base: string;
  /** Absolute paths (under the caller's cwd spelling) of added, copied, modified, renamed or type-changed files. */
  files: Set<string>;
}

export interface ChangedOptions {
  /** Also count untracked, not ignored files as changed (default true: a new DAG not yet `git add`ed is a change). */
  untracked?: boolean;
}

interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

function git(args: string[], cwd: string): GitRun {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError('--changed-since needs `git` on PATH');
    throw r.error;
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.trim() };
}

const FETCH_HINT =
  'fetch more history: `git fetch --unshallow` (or `git fetch --deepen=N`), or in GitHub Actions check out with ' +
  '`actions/checkout` `fetch-depth: 0`; in GitLab CI set `GIT_DEPTH: 0`';

/**
 * Files changed between merge-base(REF, HEAD) and the working tree (staged and unstaged edits included).
 * Deleted files are ignored. Untracked files count as changed unless `untracked: false`.
 */
export function changedFiles(ref: string, cwd: string, opts: ChangedOptions = {}): ChangedFiles {
  if (!ref || ref.startsWith('-')) throw new UserError(`--changed-since takes a git revision, got ${JSON.stringify(ref)}`);
  const top = git(['rev-parse', '--show-toplevel'], cwd);
  if (top.code !== 0) throw new UserError(`--changed-since needs a git repository: ${top.stderr || 'not a git work tree'}`);
  const root = top.stdout.trim();
  const shallow = git(['rev-parse', '--is-shallow-repository'], cwd).stdout.trim() === 'true';

  const resolved = git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], cwd);
  if (resolved.code !== 0) {
    throw new UserError(
      shallow
        ? `--changed-since: revision ${ref} is not in this shallow clone; ${FETCH_HINT}, and fetch ${ref} itself (e.g. \`git fetch origin main\`)`
        : `--changed-since: unknown revision ${ref} (for a remote branch, fetch it first, e.g. \`git fetch origin main\`)`,
    );
  }
  const mb = git(['merge-base', resolved.stdout.trim(), 'HEAD'], cwd);
  if (mb.code !== 0) {
    throw new UserError(
      shallow
        ? `--changed-since: the merge base of ${ref} and HEAD is missing from this shallow clone; ${FETCH_HINT}`
        : `--changed-since: ${ref} and HEAD have no common ancestor${mb.stderr ? ` (${mb.stderr})` : ''}`,
    );
  }
  const base = mb.stdout.trim().split('\n')[0];

  // Working tree against the base: committed, staged and unstaged changes alike. Renames report the new path.
  const diff = git(['-c', 'core.quotepath=off', 'diff', '--name-only', '-z', '--no-ext-diff', '--find-renames', '--diff-filter=ACMRT', base, '--'], root);
  if (diff.code !== 0) throw new UserError(`--changed-since: git diff failed: ${diff.stderr}`);
  const rels = diff.stdout.split('\0').filter(Boolean);
  if (opts.untracked !== false) {
    const un = git(['ls-files', '--others', '--exclude-standard', '-z'], root);
    if (un.code === 0) rels.push(...un.stdout.split('\0').filter(Boolean));
  }

  // git prints the real path of the top level; report under the spelling of cwd (symlinked /tmp, ...).
  let realCwd = cwd;
  try {
    realCwd = fs.realpathSync(cwd);
  } catch {
    /* keep cwd */
  }
  const files = new Set<string>();
  for (const rel of rels) {
    const real = path.join(root, rel);
    files.add(path.resolve(cwd, path.relative(realCwd, real)));
  }
  return { base, files };
}
