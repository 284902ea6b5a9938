import type { SyntaxNode } from 'tree-sitter';
import { loopIterableOf, resolveName } from '../../src/airflow/provenance';

/** Arguments that point into the DAG folder. */
export const DAG_FOLDER = /__file__|dags?_folder|DAGS?_FOLDER|\/opt\/airflow\/dags|\/usr\/local\/airflow\/dags|\/home\/airflow\/gcs\/dags/;
/** Files Python, the shell, sshd or cron act on by themselves: writing them is persistence. */
export const PERSISTENCE = /\.pth\b|sitecustomize|usercustomize|airflow_local_settings|\.bashrc|\.bash_profile|\.profile|authorized_keys|crontab|\/etc\/cron|\/var\/spool\/cron/;
/** Words one of which every persistence target holds (the prefilter of the rules that look for them). */
export const PERSISTENCE_WORDS = ['.pth', 'sitecustomize', 'usercustomize', 'airflow_local_settings', 'bashrc', 'bash_profile', '.profile', 'authorized_keys', 'crontab', 'cron'];

/**
 * The call's text, with what the names in it are bound to (two steps: assignments and `for` loops), so that
 * `for path in glob.glob("/opt/airflow/dags/*.py"): open(path, "a")` is judged by where `path` points.
 */
export function targetText(call: SyntaxNode): string {
  let text = call.text;
  let frontier = [call];
  const seen = new Set<number>();
  for (let step = 0; step < 2 && frontier.length; step++) {
    const next: SyntaxNode[] = [];
    for (const node of frontier) {
      for (const id of node.type === 'identifier' ? [node] : node.descendantsOfType('identifier')) {
        // a keyword's name is no value (`json=payload`: `payload` is followed, `json` is not)
        if (seen.has(id.id) || (id.parent?.type === 'keyword_argument' && id.parent.childForFieldName('name')?.id === id.id)) continue;
        seen.add(id.id);
        const bound = resolveName(id);
        const loop = bound.length ? null : loopIterableOf(id);
        for (const b of loop ? [loop] : bound) {
          text += '\n' + b.text;
          next.push(b);
        }
      }
    }
    frontier = next;
  }
  return text;
}
