/**
 * The result channel: the container's stdout, demultiplexed with hard caps, each line an HMAC-signed record under a
 * per-run nonce the repository code never sees (docs/sandbox.md). Anything unsigned, forged or garbled is counted,
 * never believed.
 */
import * as crypto from 'node:crypto';
import type { SandboxEvent } from '../report';
import { EVENT_RULE } from './rules';

/** Events forwarded per kind and file (the harness caps the same; this bounds the host whatever arrives). */
export const MAX_EVENTS_PER_KIND = 40;
/** Host-side bound on what we read from the container (all of it is small signed JSON; DAG output never leaves it). */
export const MAX_STDOUT_BYTES = 64 * 1024 * 1024;
const MAX_LINE_BYTES = 256 * 1024;
export const STDERR_TAIL_BYTES = 16 * 1024;

export interface Done {
  status: string;
  durationMs: number;
  dags: string[];
  importError?: string;
  reason?: string;
  outputBytes?: number;
}

export interface RunState {
  hello?: Record<string, unknown>;
  ended: boolean;
  events: Map<number, SandboxEvent[]>;
  kindCounts: Map<number, Map<string, number>>;
  eventLines: Map<number, Array<{ line?: number; file?: string }>>;
  done: Map<number, Done>;
  /** files the harness reported as started in this container */
  started: Set<number>;
  /** files given up after repeated container deaths, with the reason */
  crashReason: Map<number, string>;
  unsigned: number;
  stdoutBytes: number;
  stdoutCapped: boolean;
  stderrTail: string;
}


export function newRunState(): RunState {
  return {
    ended: false,
    events: new Map(),
    kindCounts: new Map(),
    eventLines: new Map(),
    done: new Map(),
    started: new Set(),
    crashReason: new Map(),
    unsigned: 0,
    stdoutBytes: 0,
    stdoutCapped: false,
    stderrTail: '',
  };
}


/** Frame-level demux of a hijacked attach stream with hard caps: never buffers more than one bounded line. */
export class Demux {
  private header = Buffer.alloc(0);
  private remaining = 0;
  private stream = 0;
  private line: Buffer[] = [];
  private lineLen = 0;
  private overlong = false;

  constructor(
    private readonly onLine: (line: Buffer) => void,
    private readonly onStderr: (chunk: Buffer) => void,
    private readonly onStdoutBytes: (n: number) => boolean,
  ) {}

  push(chunk: Buffer): boolean {
    let off = 0;
    while (off < chunk.length) {
      if (this.remaining === 0) {
        const need = 8 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(off, off + need)]);
        off += Math.min(need, chunk.length - off);
        if (this.header.length < 8) return true;
        this.stream = this.header[0];
        this.remaining = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - off);
      const part = chunk.subarray(off, off + n);
      off += n;
      this.remaining -= n;
      if (this.stream === 2) this.onStderr(part);
      else if (this.stream === 1) {
        if (!this.onStdoutBytes(n)) return false;
        this.stdout(part);
      }
    }
    return true;
  }

  private stdout(part: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = part.indexOf(10, start);
      const piece = part.subarray(start, nl < 0 ? part.length : nl);
      if (!this.overlong) {
        if (this.lineLen + piece.length > MAX_LINE_BYTES) {
          this.overlong = true;
          this.line = [];
        } else {
          this.line.push(Buffer.from(piece));
          this.lineLen += piece.length;
        }
      }
      if (nl < 0) return;
      if (this.overlong) this.onLine(Buffer.from('<overlong line>'));
      else this.onLine(Buffer.concat(this.line));
      this.line = [];
      this.lineLen = 0;
      this.overlong = false;
      start = nl + 1;
    }
  }
}

export function verifyRecord(line: Buffer, nonce: Buffer): Record<string, unknown> | null {
  const tab = line.lastIndexOf(9);
  if (tab < 0) return null;
  const data = line.subarray(0, tab);
  const mac = line.subarray(tab + 1).toString('ascii');
  const want = crypto.createHmac('sha256', nonce).update(data).digest('hex');
  if (mac.length !== want.length || !crypto.timingSafeEqual(Buffer.from(mac), Buffer.from(want))) return null;
  try {
    const msg = JSON.parse(data.toString('utf8'));
    return msg && typeof msg === 'object' && !Array.isArray(msg) ? (msg as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function handleLine(
  line: Buffer,
  nonce: Buffer,
  st: RunState,
  total: number,
  onProgress?: (done: number, total: number) => void,
  onEvent?: (idx: number, ev: SandboxEvent) => void,
): void {
  if (line.length === 0) return;
  const msg = verifyRecord(line, nonce);
  if (!msg) {
    st.unsigned++;
    return;
  }
  const idx = typeof msg.file === 'number' ? msg.file : -1;
  switch (msg.type) {
    case 'hello':
      st.hello = msg;
      break;
    case 'event': {
      if (!Number.isInteger(idx) || idx < 0 || idx >= total) break;
      const ev = (msg.event && typeof msg.event === 'object' ? msg.event : {}) as Record<string, unknown>;
      // Any kind name is data, never a property lookup: unknown kinds become tamper findings in buildResult.
      const kind = typeof ev.kind === 'string' ? ev.kind.slice(0, 40) : 'tamper';
      const counts = st.kindCounts.get(idx) ?? new Map<string, number>();
      st.kindCounts.set(idx, counts);
      const n = counts.get(kind) ?? 0;
      if (n >= MAX_EVENTS_PER_KIND || counts.size > EVENT_RULE.size + 1) break;
      counts.set(kind, n + 1);
      const list = st.events.get(idx) ?? [];
      const lines = st.eventLines.get(idx) ?? [];
      list.push({ kind, detail: String(ev.detail ?? '').slice(0, 400), t: typeof ev.t === 'number' ? ev.t : undefined });
      lines.push({ line: typeof ev.line === 'number' ? ev.line : undefined, file: typeof ev.file === 'string' ? ev.file : undefined });
      st.events.set(idx, list);
      st.eventLines.set(idx, lines);
      onEvent?.(idx, list[list.length - 1]);
      break;
    }
    case 'done':
      if (Number.isInteger(idx) && idx >= 0 && idx < total && !st.done.has(idx)) {
        st.done.set(idx, msg as unknown as Done);
        onProgress?.(st.done.size, total);
      }
      break;
    case 'start':
      if (Number.isInteger(idx) && idx >= 0 && idx < total) st.started.add(idx);
      break;
    case 'end':
      st.ended = true;
      break;
    default:
      break;
  }
}
