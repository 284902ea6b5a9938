/** Shared helpers of the code-injection family (DG3xx). */
import type { Severity } from '../../src/report';
import type { Trust } from '../../src/engine/airflow';

/**
 * Severity of a finding whose only risk is the origin of a computed name (DG302 module names, DG303 attribute
 * names on ordinary modules): *high* for input from whoever triggers the DAG (`dag_run.conf`, params, TaskFlow
 * arguments), *medium* for another task's output (XCom), *low* otherwise — a Variable or environment value, or a
 * value whose origin the file does not show (`getattr(requests, method)` in a helper) is the DAG's own config.
 */
export function taintSeverity(t: Trust): Severity {
  return t === 'user' ? 'high' : t === 'xcom' ? 'medium' : 'low';
}

// Message wording is shared with the shell-injection family, so findings of both read alike.
export { originWords, PARSE_TIME_NOTE, snippet } from '../shell-injection/_util';
