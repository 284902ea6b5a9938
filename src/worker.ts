/** Worker thread: compiles the rules once, then scans batches of files sent by the pool. */
import { parentPort, workerData } from 'node:worker_threads';
import { scanFile, type ScanInput, type ScanJob } from './scan';

const job = workerData as ScanJob;
parentPort!.on('message', (batch: ScanInput[] | null) => {
  // null = the pool is done: leave between batches, never inside a parse (see WorkerPool.close).
  if (batch === null) {
    parentPort!.close();
    return;
  }
  parentPort!.postMessage(batch.map((f) => scanFile(f, job)));
});
