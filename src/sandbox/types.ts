/** The sandbox's options and results (src/sandbox/index.ts runs it). */
import type Docker from 'dockerode';
import type { FileError, FileReport, Finding, SandboxEvent } from '../report';

export interface SandboxOptions {
  image: string;
  /** Per file, seconds. */
  timeoutSec: number;
  /** Whole run, seconds (default: derived from file count, parallelism and timeoutSec). */
  runTimeoutSec?: number;
  /** e.g. 'runsc' (gVisor) */
  runtime?: string;
  /** Repo root mounted read-only, absolute. */
  root: string;
  /** Report paths are relative to this, '/' separators. */
  cwd: string;
  /** The path hashed into a finding's fingerprint (relative to the config folder or repository top, not to `cwd`). */
  identityOf?: (abs: string) => string;
  onProgress?: (done: number, total: number) => void;
  /** Container memory limit in bytes (swap = the same value, i.e. none). Default 1 GiB. */
  memoryBytes?: number;
  /** CPUs for the container; also the number of files parsed in parallel. Default min(2, host CPUs). */
  cpus?: number;
  /** Default 128. */
  pidsLimit?: number;
  /** stdout+stderr bytes a single file's import may write before it is killed. Default 1 MiB. */
  outputCapBytes?: number;
  /** Default '0:0': the harness parent needs uid 0 (with only SETUID/SETGID/KILL) to give each file its own uid. */
  user?: string;
  /** Audit events as they stream out of the container (path relative to cwd). */
  onEvent?: (path: string, event: SandboxEvent) => void;
  /** Called for every container this run creates (tests inspect the effective settings). */
  onContainer?: (container: Docker.Container) => void | Promise<void>;
}

export interface SandboxResult {
  findings: Finding[];
  files: FileReport[];
  errors: FileError[];
}

/** One file: its path on the host and where the container sees it. */
export interface SandboxFile {
  host: string;
  container: string;
}

/** What the engine and the kernel say about one container run (decided before the harness's own records). */
export interface RunInfo {
  runTimedOut: boolean;
  oomKilled: boolean;
  exitCode?: number;
  durationMs: number;
}
