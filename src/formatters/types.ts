import type { Report, Severity } from '../report';
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
  /** The run's fail threshold (default `low`): the summary says which findings fail the run; github maps them to `::error`. */
  failOn?: Severity;
  /** text: the source line with a caret under each finding, and an `explain` hint (default true). */
  showSource?: boolean;
  /** text: a count per rule instead of one line per finding. */
  statistics?: boolean;
  /** Set when --write-baseline recorded the findings (the report then holds none): the summary says so. */
  baselineWritten?: { file: string; count: number };
}

/** A formatter turns a report into the bytes written to stdout or --output. */
export type Formatter = (report: Report, ctx: FormatContext) => string;
