/**
 * Severity follows the worst origin a value carries (src/airflow/provenance.ts, Provenance.also): a task's output
 * joined with something of unknown origin must not fall to the unknown part's *info* in formatted SQL and commands.
 * Fixture annotations cannot say this (they check that a finding exists, not its severity).
 */
import { describe, expect, it } from 'vitest';
import { ALL_RULES } from '../../rules';
import { analyzeSource, compileRules } from '../../src/engine/analyze';
import { DEFAULT_SETTINGS } from '../../src/engine/settings';

const compiled = compileRules(ALL_RULES.filter((r) => r.meta.id === 'DG250' || r.meta.id === 'DG204'));

function severities(src: string): string[] {
  return analyzeSource('dags/x.py', src, compiled, DEFAULT_SETTINGS).findings.map((f) => `${f.ruleId} ${f.severity}`);
}

const HEAD = 'import helpers\nfrom airflow.decorators import task\nfrom airflow.operators.bash import BashOperator\n\n@task\ndef t(hook, ti=None):\n';

describe('the severity of a value made of parts', () => {
  it('keeps a task output hidden behind a value of unknown origin (formatted SQL)', () => {
    expect(severities(`${HEAD}    part = ti.xcom_pull(task_ids="a") + helpers.suffix()\n    hook.run(f"DELETE FROM {part}")\n`)).toEqual(['DG250 medium']);
    expect(severities(`${HEAD}    part = "{}_{}".format(helpers.prefix(), ti.xcom_pull(task_ids="a"))\n    hook.run(f"DELETE FROM {part}")\n`)).toEqual(['DG250 medium']);
  });

  it('keeps it in a formatted shell command too', () => {
    expect(severities(`${HEAD}    part = ti.xcom_pull(task_ids="a") + helpers.suffix()\n    BashOperator(task_id="b", bash_command=f"ls {part}")\n`)).toEqual(['DG204 medium']);
  });

  it('leaves a value of unknown origin alone at info', () => {
    expect(severities(`${HEAD}    part = helpers.prefix() + helpers.suffix()\n    hook.run(f"DELETE FROM {part}")\n`)).toEqual(['DG250 info']);
  });
});
