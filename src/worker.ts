/** Worker thread: compiles the rules once, then scans batches of files sent by the pool. */
import { parentPort, workerData } from 'node:worker_threads';
import { scanFile, type ScanInput, type ScanJob } from './scan';

const job = workerData as ScanJob;
const queue: (ScanInput[] | null)[] = [];
let scheduled = false;

/**
 * One batch per turn of the event loop. The pool keeps a second batch queued here, and a port with messages waiting
 * delivers them without letting the loop turn: tree-sitter trees are native memory freed by finalizers that run
 * between turns, so scanning straight from the message handler kept every tree of the run alive (RSS +35 %).
 */
function next(): void {
  scheduled = false;
  const batch = queue.shift();
  if (batch === undefined) return;
  // null = the pool is done: leave between batches, never inside a parse (see WorkerPool.close).
  if (batch === null) {
    parentPort!.close();
    return;
  }
  parentPort!.postMessage(batch.map((f) => scanFile(f, job)));
  schedule();
}

function schedule(): void {
  if (scheduled || !queue.length) return;
  scheduled = true;
  setImmediate(next);
}

parentPort!.on('message', (batch: ScanInput[] | null) => {
  queue.push(batch);
  schedule();
});
