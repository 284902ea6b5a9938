/**
 * Is publication working? A gate that is up but cannot publish (every revision rejected, the source unreadable,
 * the lock held by a stuck gate) or has not completed a run for a long time must raise an alarm: the scheduler
 * keeps running an old revision and nobody notices otherwise. `/healthz` and status.json's `health` say so.
 */
import type { GateStatus } from './publish';

export const DEFAULT_STALE_AFTER_MS = 60 * 60 * 1000;

export interface Health {
  ok: boolean;
  /** One line per problem, each starting with `blocked:` or `stale:`. */
  problems: string[];
}

/**
 * `staleAfterMs` (0 = never stale): the window within which a run must have ended with the newest revision live
 * (`published` or `already-live`).
 */
export function assessHealth(status: GateStatus | null, staleAfterMs: number, now = Date.now()): Health {
  const problems: string[] = [];
  if (!status) return { ok: false, problems: ['blocked: no gate run has finished yet'] };
  const rev = status.revision ? status.revision.slice(0, 12) : '(unknown revision)';
  if (status.verdict === 'rejected') problems.push(`blocked: ${rev} rejected: ${status.message}`);
  else if (status.verdict === 'error') problems.push(`blocked: ${status.message}`);
  else if (status.verdict === 'blocked') problems.push(`blocked: ${status.message}`);
  const last = status.lastSuccess ?? null;
  if (staleAfterMs > 0) {
    if (!last) {
      if (status.verdict !== 'published' && status.verdict !== 'already-live') problems.push('stale: no revision has been published yet');
    } else {
      const age = now - Date.parse(last.time);
      if (age > staleAfterMs) problems.push(`stale: last successful run ${Math.round(age / 1000)}s ago (${last.time}), window ${Math.round(staleAfterMs / 1000)}s`);
    }
  }
  return { ok: problems.length === 0, problems };
}
