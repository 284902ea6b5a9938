/**
 * Zip archives in the DAG folder: DagBag imports the `.py` modules at their root (and puts the archive on sys.path,
 * so everything in it is importable). Read with yauzl (strict: sizes and names validated), never extracted to disk.
 */
import * as path from 'node:path';
import type { Entry, ZipFile } from 'yauzl';

export interface ArchiveMember {
  /** Name inside the archive, '/' separators, no trailing '/' for folders. */
  name: string;
  isDir: boolean;
  /** Contents, for `.py` members and bytecode (read whole, up to the size limit). */
  data?: Buffer;
  /** Why the contents were not read (over the size limit). */
  tooBig?: boolean;
}

export type ArchiveResult = { members: ArchiveMember[] } | { error: string };

/** Zip bomb bounds: members listed per archive, and bytes of member contents read from one archive. */
const MAX_MEMBERS = 100_000;
const MAX_TOTAL_BYTES = 256 * 1024 * 1024;

/** Members whose contents the rules need: source to scan, bytecode headers to classify. */
export function wantsData(name: string): boolean {
  return /\.(py|pyc|pyo)$/i.test(name);
}

export function readArchive(abs: string, maxBytes: number): Promise<ArchiveResult> {
  // Loaded on first use: most trees have no archive.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const yauzl = require('yauzl') as typeof import('yauzl');
  return new Promise((resolve) => {
    yauzl.open(abs, { lazyEntries: true, autoClose: true, strictFileNames: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) {
        resolve({ error: `cannot read zip archive: ${err?.message ?? 'unknown error'} (Airflow may still load what it can: not scanned)` });
        return;
      }
      collect(zip, maxBytes).then(resolve, (e: Error) => {
        zip.close();
        resolve({ error: `cannot read zip archive: ${e.message}: not scanned` });
      });
    });
  });
}

function collect(zip: ZipFile, maxBytes: number): Promise<ArchiveResult> {
  return new Promise((resolve, reject) => {
    const members: ArchiveMember[] = [];
    let total = 0;
    zip.on('error', reject);
    zip.on('end', () => resolve({ members }));
    zip.on('entry', (entry: Entry) => {
      if (members.length >= MAX_MEMBERS) {
        reject(new Error(`more than ${MAX_MEMBERS} members`));
        return;
      }
      const isDir = entry.fileName.endsWith('/');
      const name = path.posix.normalize(entry.fileName.replace(/\\/g, '/')).replace(/\/$/, '');
      const m: ArchiveMember = { name, isDir };
      members.push(m);
      if (isDir || !wantsData(name)) {
        zip.readEntry();
        return;
      }
      if (entry.uncompressedSize > maxBytes) {
        m.tooBig = true;
        zip.readEntry();
        return;
      }
      total += entry.uncompressedSize;
      if (total > MAX_TOTAL_BYTES) {
        reject(new Error(`more than ${MAX_TOTAL_BYTES / 1024 / 1024} MiB of Python in one archive`));
        return;
      }
      zip.openReadStream(entry, (err, stream) => {
        if (err || !stream) {
          reject(err ?? new Error(`cannot read member ${name}`));
          return;
        }
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', reject);
        stream.on('end', () => {
          m.data = Buffer.concat(chunks);
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
}
