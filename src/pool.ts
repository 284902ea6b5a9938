/**
 * Spreads files over worker threads (tree-sitter parsing is CPU-bound; one core would halve throughput).
 * Small runs stay in the main thread: a worker costs tens of milliseconds to start, which a pre-commit
 * run on one file should not pay.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { ScanInput, ScanJob, ScanOutput } from './scan';

const BYTES_PER_WORKER = 256 * 1024;
const BATCH = 8;
/** Batches sent ahead to each worker (see WorkerPool.scan). */
const IN_FLIGHT = 2;
/** In-thread scans let the event loop turn this often (see scanAll). */
const YIELD_EVERY = 16;
/** How long a closing worker may take to finish its batch before it is terminated. */
const CLOSE_GRACE_MS = 10_000;

function workerScript(): string | null {
  const here = path.join(__dirname, 'worker.js');
  if (fs.existsSync(here)) return here;
  // Running from TypeScript sources (tests): use the build.
  const built = path.join(__dirname, '..', 'dist', 'src', 'worker.js');
  return fs.existsSync(built) ? built : null;
}

export function cpuCount(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Workers worth starting for these files: one per 256 KiB and per 8 files, at most one per core. */
export function autoWorkers(files: ScanInput[]): number {
  const cpus = cpuCount();
  let bytes = 0;
  for (const f of files) {
    try {
      bytes += fs.statSync(f.abs).size;
    } catch {
      /* reported when scanned */
    }
    if (bytes >= cpus * BYTES_PER_WORKER) break; // enough to use every core: no need to stat the rest
  }
  return Math.max(0, Math.min(cpus, Math.floor(bytes / BYTES_PER_WORKER), Math.ceil(files.length / BATCH)));
}

/**
 * Worker threads, started before the files are known: a worker takes 100–150 ms to load the grammar and the rules,
 * which then overlaps with file discovery instead of following it. `scan` uses as many of them as it is told to;
 * `close` stops them all (call it in every case).
 */
export class WorkerPool {
  private readonly workers: Worker[] = [];

  constructor(size: number, job: ScanJob) {
    const script = size > 1 ? workerScript() : null;
    if (!script) return;
    // Loaded here, not at the top: a one-file pre-commit run never starts a worker and should not pay for the module.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Worker: WorkerClass } = require('node:worker_threads') as typeof import('node:worker_threads');
    for (let i = 0; i < size; i++) this.workers.push(new WorkerClass(script, { workerData: job }));
  }

  get size(): number {
    return this.workers.length;
  }

  async scan(files: ScanInput[], count: number): Promise<ScanOutput[]> {
    const results: ScanOutput[] = new Array(files.length);
    let next = 0;
    await Promise.all(
      this.workers.slice(0, count).map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            // Two batches in flight per worker: the next one is already queued in the worker when it posts a result,
            // so it never idles waiting for this thread, which another busy process may keep off a core (under load
            // each worker waited ~650 ms of a cold corpus run with one batch in flight, ~200 ms with two; on a quiet
            // host both are the same).
            const inFlight: number[][] = [];
            const finish = (): void => {
              w.removeAllListeners('message');
              resolve();
            };
            const feed = (): void => {
              if (next >= files.length) return;
              const batch: number[] = [];
              for (let i = 0; i < BATCH && next < files.length; i++) batch.push(next++);
              inFlight.push(batch);
              w.postMessage(batch.map((i) => files[i]));
            };
            w.on('message', (out: ScanOutput[]) => {
              const batch = inFlight.shift()!;
              out.forEach((r, k) => (results[batch[k]] = r));
              feed();
              if (!inFlight.length) finish();
            });
            w.once('error', reject);
            w.once('exit', (code) => {
              if (code !== 0) reject(new Error(`scan worker exited with code ${code}`));
            });
            for (let k = 0; k < IN_FLIGHT; k++) feed();
            if (!inFlight.length) finish();
          }),
      ),
    );
    return results;
  }

  /**
   * Workers leave by themselves: `terminate()` during tree-sitter's parse (a worker still loading, or mid-batch after
   * a failure elsewhere) makes node-addon-api throw through the C parser and abort the whole process with
   * "terminate called after throwing an instance of 'Napi::Error'" (exit 134, no report; bench/napi-abort-repro.js).
   * A worker handles the null message only between batches, so it never exits inside a parse. `terminate()` stays as
   * the last resort for a worker stuck for CLOSE_GRACE_MS.
   */
  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void w.terminate().then(() => resolve(), () => resolve()), CLOSE_GRACE_MS);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.postMessage(null);
          }),
      ),
    );
  }
}

/** `workers` 0 or 1: scan in this thread. `pool`: already started workers to use (else they are started here). */
export async function scanAll(files: ScanInput[], job: ScanJob, workers: number, pool?: WorkerPool): Promise<ScanOutput[]> {
  const own = !pool && workers > 1 ? new WorkerPool(workers, job) : null;
  const p = pool ?? own;
  try {
    if (!p || workers <= 1 || p.size < 2) {
      // The engine, the grammar and the rules load here, on the first file to scan: not on a run served by the cache.
      const { scanFile } = await import('./scan');
      const out: ScanOutput[] = [];
      for (let i = 0; i < files.length; i++) {
        out.push(scanFile(files[i], job));
        // tree-sitter trees are native memory freed by finalizers that Node runs from the event loop:
        // a long synchronous loop keeps every tree alive (RSS grew to 600+ MB on 16 MB of DAGs).
        if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return out;
    }
    return await p.scan(files, Math.min(workers, p.size));
  } finally {
    await own?.close();
  }
}
