/** How far a value can be trusted, from constants to input from whoever triggers the DAG, and its order. */

/**
 * How far a template value can be trusted, in increasing order of risk.
 * - `safe`: constants and Airflow's own run metadata (`ds`, `ts`, `run_id` — user run ids are checked against
 *   `allowed_run_id_pattern`, which excludes shell metacharacters), or a value made numeric/quoted by a filter.
 * - `deployment`: derived from the code's own location or imported module constants (`__file__`, `DAGS_FOLDER`).
 * - `config`: Variables, Connections, environment: set by whoever administers the deployment.
 * - `xcom`: the output of another task (often derived from external data).
 * - `external`: data fetched from outside the deployment in the file itself: an HTTP response, an object-store or
 *   SFTP listing or object (`S3Hook.list_keys`, `requests.get(…).json()`): whoever can write there chooses it.
 * - `param`: a parameter of a TaskFlow task or `python_callable` whose value the file does not show (no call
 *   site here, or one that passes a value of unknown origin): Airflow fills it from another task or op_kwargs.
 * - `unknown`: a Python value whose origin is not visible in the file.
 * - `user`: set by whoever triggers the DAG: `dag_run.conf`, `params` (overridable by conf by default), asset events.
 */
export type Trust = 'safe' | 'deployment' | 'config' | 'xcom' | 'external' | 'param' | 'unknown' | 'user';
export const RANK: Record<Trust, number> = { safe: 0, deployment: 1, config: 2, xcom: 3, external: 4, param: 5, unknown: 6, user: 7 };
export function worst(a: Trust, b: Trust): Trust {
  return RANK[a] >= RANK[b] ? a : b;
}
export function atLeast(t: Trust, min: Trust): boolean {
  return RANK[t] >= RANK[min];
}
