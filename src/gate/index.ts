/**
 * `dag-guard gate`: the last hop between git-sync and the scheduler. See docs/gate.md and
 * docs/deploy-kubernetes.md.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { runCheck, DEFAULT_SANDBOX_IMAGE, type CheckOptions } from '../check';
import { UserError } from '../exit-codes';
import { SEVERITIES, type Severity } from '../report';
import { DEFAULT_VERIFIED_REF, promote } from './promote';
import { DEFAULT_KEEP, DEFAULT_LINK, runGate, type GateCheck } from './publish';
import { parseListen, startGateService } from './serve';

export { runGate, liveVersion, readStatus, resolveSource, revisionOf, statusPath, STATE_DIR, DEFAULT_LINK, LINK_RULE_ID } from './publish';
export { acquireLock, readOwner, holderLiveness, procStartTime, selfIdentity, DEFAULT_LEASE_MS } from './lock';
export { assessHealth, DEFAULT_STALE_AFTER_MS } from './health';
export type { GateCheck, GateCheckResult, GateOptions, GateResult, GateStatus, Verdict } from './publish';
export { promote, DEFAULT_VERIFIED_REF } from './promote';
export type { PromoteOptions, PromoteResult } from './promote';
export { startGateService, parseListen } from './serve';
export type { GateService, GateServiceOptions } from './serve';

/** dag-guard's version (from src/gate or dist/src/gate alike). */
function packageVersion(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dag-guard') return pkg.version ?? '0';
    } catch {
      /* keep walking up */
    }
  }
  return '0';
}

function collect(value: string, previous: string[]): string[] {
  return previous.concat(value.split(',').map((s) => s.trim()).filter(Boolean));
}

export interface GateCheckSettings {
  configPath?: string | null;
  include?: string[];
  exclude?: string[];
  failOn?: Severity;
  select?: string[];
  ignore?: string[];
  workers?: number;
  sandbox?: CheckOptions['sandbox'];
}

/**
 * The real check (`runCheck`) over one directory, report paths relative to it, always in enforce mode: the
 * gate checks what a committer wrote, so nothing in the tree may weaken the check. Configuration comes only from
 * --config (outside the tree, see refuseConfigInside) or the built-in defaults: never from a file discovered in
 * the checked tree.
 */
export function makeCheck(s: GateCheckSettings): GateCheck {
  return async (dir: string) => {
    const r = await runCheck({
      paths: [dir],
      cwd: dir,
      enforce: true,
      configPath: s.configPath ?? null,
      include: s.include,
      exclude: s.exclude,
      failOn: s.failOn,
      select: s.select,
      ignore: s.ignore,
      workers: s.workers,
      sandbox: s.sandbox ? { ...s.sandbox, root: dir } : null,
    });
    const failOn = s.failOn ?? r.config.failOn;
    return { report: r.report, exitCode: r.exitCode, ...(failOn ? { failOn: failOn as Severity } : {}) };
  };
}

const isInside = (root: string, p: string): boolean => p === root || p.startsWith(root + path.sep);

/**
 * Refuses (exit 2) a --config that the committer could have written: inside the checked tree, or anywhere in
 * git-sync's root when --source is its link (every worktree there holds committed content).
 */
export function refuseConfigInside(configPath: string | null | undefined, trees: string[]): void {
  if (!configPath) return;
  let real: string;
  try {
    real = fs.realpathSync(configPath);
  } catch {
    return; // a missing file is reported on its own
  }
  for (const t of trees) {
    const roots = [path.resolve(t)];
    try {
      roots.push(fs.realpathSync(t));
      // git-sync's --link: the whole --root holds synced (committer-controlled) worktrees.
      if (fs.lstatSync(t).isSymbolicLink()) roots.push(fs.realpathSync(path.dirname(path.resolve(t))));
    } catch {
      // Not there yet: usually git-sync's link before its first sync, so its folder is git-sync's --root.
      roots.push(path.dirname(path.resolve(t)));
    }
    for (const r of roots) {
      if (isInside(r, real) || isInside(r, path.resolve(configPath))) {
        throw new UserError(`--config ${configPath} lies inside the checked source (${t}): the gate's configuration must come from outside what it checks (e.g. a ConfigMap)`);
      }
    }
  }
}

/** Identifies the settings a verdict depends on, so a rejected revision is re-checked only when they change. */
function fingerprintOf(s: GateCheckSettings): string {
  const h = createHash('sha256').update(JSON.stringify({ v: packageVersion(), enforce: true, ...s }));
  if (s.configPath) {
    try {
      h.update(fs.readFileSync(s.configPath));
    } catch {
      /* runCheck reports a missing config */
    }
  }
  return h.digest('hex').slice(0, 16);
}

export function registerGateCommand(program: Command): void {
  program
    .command('gate')
    .description('check a git-sync worktree and publish it to the scheduler\'s DAG folder only if it passes (or advance a verified git ref)')
    .option('--source <dir>', "the tree to check: usually git-sync's --link in the staging root (resolved once)")
    .option('--publish-to <dir>', 'the folder the scheduler reads from: gets <dir>/current -> the last good revision')
    .option('--keep <n>', 'published versions to keep, the live one included', (v) => Number(v), DEFAULT_KEEP)
    .option('--link <name>', 'name of the live symlink inside --publish-to', DEFAULT_LINK)
    .option('--revision <rev>', 'revision id when --source is not a git worktree (default: git HEAD, else $GITSYNC_HASH)')
    .option('--json', 'print the resulting status as JSON on stdout')
    .option('--serve', "run as a sidecar: accept git-sync's --webhook-url calls (POST), GET /healthz, GET /status")
    .option('--listen <host:port>', 'address for --serve', '127.0.0.1:8732')
    .option('--watch', "poll --source's link and gate every new revision (with or without --serve)")
    .option('--interval <seconds>', 'polling interval for --watch, in seconds', (v) => Number(v), 5)
    .option('--promote-ref <ref>', 'Airflow 3 bundles: check this commit and, if it passes, advance --verified-ref to it')
    .option('--verified-ref <ref>', `the ref a GitDagBundle tracking_ref follows (default ${DEFAULT_VERIFIED_REF})`)
    .option('--repo <dir>', 'the git repository for --promote-ref (bare or not; default: current directory)')
    .addOption(new Option('--fail-on <severity>', 'lowest severity that blocks publication').choices([...SEVERITIES]))
    .option('--select <rules>', 'only these rules (repeatable, comma-separated)', collect, [])
    .option('--ignore <rules>', 'skip these rules (same selectors)', collect, [])
    .option('--include <glob>', 'only scan files matching the glob (repeatable)', collect, [])
    .option('--exclude <glob>', 'never scan files matching the glob (repeatable)', collect, [])
    .option('--config <file>', 'the only config the gate uses (must lie outside --source; without it: built-in defaults)')
    .option('--no-config', 'use the built-in defaults (the default: the gate never reads a config from the checked tree)')
    .option('--stale-after <seconds>', '/healthz and status.json report stale after this long without a successful run (0 = never)', Number.parseFloat, 3600)
    .option('--lock-timeout <seconds>', 'give up waiting for a live gate that holds the lock after this long', Number.parseFloat, 600)
    .option('--workers <n>', 'worker threads (0 = automatic)', (v) => Number.parseInt(v, 10), 0)
    .option('--sandbox', 'also import the DAG files inside a locked-down container before publishing')
    .option('--image <image>', `sandbox image (default ${DEFAULT_SANDBOX_IMAGE})`)
    .option('--sandbox-timeout <seconds>', 'sandbox wall-clock limit per file', Number.parseFloat)
    .option('--runtime <runtime>', 'container runtime for the sandbox, e.g. runsc')
    .action(async (o) => {
      process.exitCode = await gateAction(o);
    });
}

interface GateCliOptions {
  source?: string;
  publishTo?: string;
  keep: number;
  link: string;
  revision?: string;
  json?: boolean;
  serve?: boolean;
  listen: string;
  watch?: boolean;
  interval: number;
  promoteRef?: string;
  verifiedRef?: string;
  repo?: string;
  failOn?: Severity;
  select: string[];
  ignore: string[];
  include: string[];
  exclude: string[];
  config?: string | false;
  workers: number;
  sandbox?: boolean;
  image?: string;
  sandboxTimeout?: number;
  runtime?: string;
  staleAfter: number;
  lockTimeout: number;
}

async function gateAction(o: GateCliOptions): Promise<number> {
  if (!Number.isInteger(o.workers) || o.workers < 0) throw new UserError('--workers takes a whole number >= 0');
  if (!Number.isInteger(o.keep) || o.keep < 1) throw new UserError('--keep takes a whole number >= 1');
  if (!(o.interval > 0)) throw new UserError('--interval takes a number of seconds > 0');
  if (!(o.staleAfter >= 0)) throw new UserError('--stale-after takes a number of seconds >= 0');
  if (!(o.lockTimeout > 0)) throw new UserError('--lock-timeout takes a number of seconds > 0');
  if (o.sandboxTimeout !== undefined && !(o.sandboxTimeout > 0)) throw new UserError('--sandbox-timeout takes a number of seconds > 0');
  const settings: GateCheckSettings = {
    configPath: o.config === false ? null : o.config ? path.resolve(o.config) : undefined,
    include: o.include,
    exclude: o.exclude,
    failOn: o.failOn,
    select: o.select,
    ignore: o.ignore,
    workers: o.workers,
    sandbox: o.sandbox ? { image: o.image ?? '', timeoutSec: o.sandboxTimeout ?? 0, runtime: o.runtime } : null,
  };
  if (settings.configPath && !fs.existsSync(settings.configPath)) throw new UserError(`--config ${o.config} does not exist`);
  refuseConfigInside(settings.configPath, [o.promoteRef !== undefined ? (o.repo ?? o.source ?? process.cwd()) : o.source].filter((t): t is string => !!t));
  const check = makeCheck(settings);
  const failOn = o.failOn ?? undefined;
  const print = (v: unknown): void => {
    if (o.json) process.stdout.write(JSON.stringify(v, null, 2) + '\n');
  };

  if (o.promoteRef !== undefined) {
    if (o.serve || o.watch || o.publishTo) throw new UserError('--promote-ref cannot be combined with --publish-to, --serve or --watch');
    const res = await promote({
      repo: o.repo ?? o.source ?? process.cwd(),
      candidate: o.promoteRef,
      verifiedRef: o.verifiedRef,
      check,
      failOn,
    });
    print(res);
    return res.exitCode;
  }
  if (o.verifiedRef || o.repo) throw new UserError('--verified-ref and --repo go with --promote-ref');
  if (!o.source) throw new UserError('gate needs --source DIR (or --promote-ref REF)');
  if (!o.publishTo) throw new UserError('gate needs --publish-to DIR');
  const source = path.resolve(o.source);
  const publishTo = path.resolve(o.publishTo);
  const fingerprint = fingerprintOf(settings);
  const runOnce = (hint?: string) =>
    runGate({
      source,
      publishTo,
      check,
      keep: o.keep,
      link: o.link,
      hintRevision: o.revision ?? hint ?? (process.env.GITSYNC_HASH || undefined),
      failOn,
      fingerprint,
      staleAfterMs: Math.round(o.staleAfter * 1000),
      lockTimeoutMs: Math.round(o.lockTimeout * 1000),
    });

  if (!o.serve && !o.watch) {
    const res = await runOnce();
    print(res.status);
    return res.exitCode;
  }

  const svc = await startGateService({
    source,
    publishTo,
    run: (hint) => runOnce(o.revision ?? hint),
    serve: o.serve ? parseListen(o.listen) : null,
    watchIntervalMs: o.watch ? Math.round(o.interval * 1000) : null,
    staleAfterMs: Math.round(o.staleAfter * 1000),
  });
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.stderr.write(`dag-guard gate: ${sig}, finishing the current run and stopping\n`);
      void svc.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

