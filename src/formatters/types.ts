import type { Report } from '../report';
import type { RuleMeta } from '../engine/rule';

export interface FormatContext {
  /** ANSI colours (text only). */
  color: boolean;
  /** Findings only: no summary, no warnings. */
  quiet: boolean;
  /** Every known rule's metadata (static and sandbox), for formats that describe rules (SARIF). */
  rules: RuleMeta[];
  /** The working directory report paths are relative to. */
  cwd: string;
}

/** A formatter turns a report into the bytes written to stdout or --output. */
export type Formatter = (report: Report, ctx: FormatContext) => string;
