/** Shared helpers of the code-injection family (DG3xx). */
import type { Severity } from '../../src/report';
import type { Trust } from '../../src/airflow/trust';

/**
 * Severity of a finding whose only risk is the origin of a computed name (DG302 module names, DG303 attribute
 * names on ordinary modules): *high* for input from whoever triggers the DAG (`dag_run.conf`, params, TaskFlow
 * arguments), *medium* for another task's output (XCom) and for a task function's parameter that no call site in
 * the file shows (Airflow passes it, possibly from `dag_run.conf`: the same middle as the shell-injection family and
 * DG305/DG307), *low* otherwise — a Variable or environment value, or a value whose origin the file does not show
 * (`getattr(requests, method)` in a helper) is the DAG's own config.
 */
export function taintSeverity(t: Trust): Severity {
  return t === 'user' ? 'high' : t === 'xcom' || t === 'external' || t === 'param' ? 'medium' : 'low';
}
