/**
 * Sidecar mode: `dag-guard gate --serve` takes git-sync's `--webhook-url` calls (header Gitsync-Hash), and/or
 * `--watch` polls the staging link. One gate runs at a time; calls that arrive meanwhile collapse into one
 * pending run, which resolves the link afresh (so it always checks the latest revision).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { UserError } from '../exit-codes';
import { assessHealth, DEFAULT_STALE_AFTER_MS } from './health';
import { readStatus, type GateResult } from './publish';

export interface GateServiceOptions {
  source: string;
  publishTo: string;
  /** Runs the gate once; `hint` is the revision git-sync announced, if any. */
  run: (hint?: string) => Promise<GateResult>;
  serve?: { host: string; port: number } | null;
  watchIntervalMs?: number | null;
  /** /healthz says stale after this long without a successful run (0 = never); the service re-runs well within it. */
  staleAfterMs?: number;
  log?: (line: string) => void;
}

export interface GateService {
  /** The bound address when serving, e.g. http://127.0.0.1:8732 */
  url: string | null;
  /** Resolves when no run is in progress or pending. */
  idle(): Promise<void>;
  close(): Promise<void>;
  state(): ServiceState;
  /** What GET /healthz answers. */
  health(): { ok: boolean; problems: string[] };
}

export interface ServiceState {
  running: boolean;
  pending: boolean;
  runs: number;
  lastRun: { at: string; verdict: string; revision: string | null; exitCode: number; error?: string } | null;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  if (!m) throw new UserError(`--listen takes HOST:PORT (e.g. 127.0.0.1:8732), got ${listen}`);
  const port = Number(m[3]);
  if (port > 65535) throw new UserError(`--listen: port out of range: ${port}`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export async function startGateService(opts: GateServiceOptions): Promise<GateService> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const st: ServiceState = { running: false, pending: false, runs: 0, lastRun: null };
  let pendingHint: string | undefined;
  let idleWaiters: (() => void)[] = [];

  const runLoop = async (hint?: string): Promise<void> => {
    st.running = true;
    let next: string | undefined = hint;
    for (;;) {
      st.runs++;
      try {
        const r = await opts.run(next);
        st.lastRun = { at: new Date().toISOString(), verdict: r.status.verdict, revision: r.status.revision, exitCode: r.exitCode };
      } catch (err) {
        const msg = err instanceof UserError ? err.message : `internal error: ${(err as Error)?.message ?? String(err)}`;
        if (!(err instanceof UserError)) log(`dag-guard gate: ${msg}`);
        st.lastRun = { at: new Date().toISOString(), verdict: 'error', revision: null, exitCode: err instanceof UserError ? err.exitCode : 3, error: msg };
      }
      if (!st.pending) break;
      st.pending = false;
      next = pendingHint;
      pendingHint = undefined;
    }
    st.running = false;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  };
  const trigger = (hint?: string): 'started' | 'queued' => {
    if (st.running) {
      st.pending = true;
      pendingHint = hint;
      return 'queued';
    }
    void runLoop(hint);
    return 'started';
  };

  const staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const health = (): { ok: boolean; problems: string[] } => {
    const h = assessHealth(readStatus(opts.publishTo), staleAfterMs);
    // A run that failed before it could write status.json (e.g. bad options) is a problem too.
    if (st.lastRun?.error && !h.problems.some((p) => p.includes(st.lastRun!.error!))) h.problems.push(`blocked: ${st.lastRun.error}`);
    return { ok: h.problems.length === 0, problems: h.problems };
  };

  let server: http.Server | null = null;
  let url: string | null = null;
  if (opts.serve) {
    server = http.createServer((req, res) => {
      const send = (code: number, body: unknown): void => {
        const text = JSON.stringify(body, null, 2) + '\n';
        res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(text);
      };
      const urlPath = (req.url ?? '/').split('?')[0];
      // Drain any body; git-sync's webhook sends none.
      req.resume();
      // /livez: the process answers (a liveness probe: restarting would not help a blocked publication).
      if (req.method === 'GET' && urlPath === '/livez') return send(200, { ok: true });
      // /healthz: publication works (readiness / alerting): not blocked, not stale.
      if (req.method === 'GET' && urlPath === '/healthz') {
        const h = health();
        return send(h.ok ? 200 : 503, { ...h, service: { running: st.running, runs: st.runs, lastRun: st.lastRun } });
      }
      if (req.method === 'GET' && urlPath === '/status') {
        return send(200, { service: { ...st }, status: readStatus(opts.publishTo) });
      }
      if (req.method === 'POST' || req.method === 'PUT') {
        const raw = req.headers['gitsync-hash'];
        const hint = typeof raw === 'string' && /^[0-9A-Za-z_-]{1,80}$/.test(raw) ? raw : undefined;
        const what = trigger(hint);
        log(`dag-guard gate: webhook${hint ? ` for ${hint.slice(0, 12)}` : ''}: ${what}`);
        // Answer at once: git-sync's --webhook-timeout defaults to 1s; the verdict goes to /status.
        return send(200, { accepted: true, [what]: true });
      }
      send(404, { error: 'not found: POST / (git-sync webhook), GET /healthz, GET /status' });
    });
    const srv = server;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', (err: NodeJS.ErrnoException) =>
        reject(new UserError(`cannot listen on ${opts.serve!.host}:${opts.serve!.port}: ${err.code === 'EADDRINUSE' ? 'address in use' : err.message}`)),
      );
      srv.listen(opts.serve!.port, opts.serve!.host, () => resolve());
    });
    const a = srv.address();
    if (a && typeof a === 'object') url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    log(`dag-guard gate: listening on ${url}`);
  }

  let timer: NodeJS.Timeout | null = null;
  if (opts.watchIntervalMs) {
    const target = (): string | null => {
      try {
        return fs.realpathSync(opts.source);
      } catch {
        return null;
      }
    };
    let seen = target();
    timer = setInterval(() => {
      const now = target();
      if (now && now !== seen) {
        seen = now;
        log(`dag-guard gate: ${opts.source} now points at ${now}`);
        trigger();
      }
    }, opts.watchIntervalMs);
    log(`dag-guard gate: watching ${opts.source} every ${opts.watchIntervalMs / 1000}s`);
  }

  // Re-run now and then (cheap when the revision is already live) so that `lastSuccess` measures whether the
  // gate still works, not whether anybody committed lately.
  let beat: NodeJS.Timeout | null = null;
  if (staleAfterMs > 0) {
    beat = setInterval(() => {
      if (!st.running) trigger();
    }, Math.max(1000, Math.min(5 * 60 * 1000, Math.floor(staleAfterMs / 4))));
    beat.unref();
  }

  // Catch up at start: git-sync may have synced before the gate came up.
  trigger(process.env.GITSYNC_HASH || undefined);

  const idle = (): Promise<void> =>
    !st.running ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve));
  return {
    url,
    idle,
    state: () => ({ ...st }),
    health,
    async close() {
      if (timer) clearInterval(timer);
      if (beat) clearInterval(beat);
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections?.();
        });
      }
      st.pending = false;
      await idle();
    },
  };
}
