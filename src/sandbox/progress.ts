import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  /** Usable directly as SandboxOptions.onProgress. */
  update(done: number, total: number): void;
  stop(): void;
}

/** A progress bar on stderr when it is a TTY; a no-op otherwise (CI logs, pipes, --format json). */
export function createProgress(label = 'sandbox', stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} files | {duration_formatted}`,
      stream,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(done: number, total: number) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
