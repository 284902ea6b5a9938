import { defineRule } from '../../src/engine/rule';
import { factsOf, shownCallee } from './_facts';
import { shapesInText, stringsWithShape } from './_shell-shapes';
import { PERSISTENCE_WORDS, targetText } from './_write-target';

/**
 * A write target that acts by itself. Stricter than DG605's list, because this rule looks inside tasks too: a `.pth`
 * file counts only in a site-packages folder (elsewhere it is a PyTorch checkpoint), a start-up file only by its exact
 * name.
 */
const TARGET =
  /(?:^|[\/"'\s~])(?:authorized_keys2?|\.bashrc|\.bash_profile|\.profile)(?![\w.-])|\/etc\/cron|\/var\/spool\/cron|\bcrontab\b|\b(?:site|user)customize\b|\bairflow_local_settings\b/;
/** A site-packages folder, however the path to it is obtained (`sysconfig.get_paths()["purelib"]`, `site.getsitepackages()`). */
const SITE_PACKAGES = /(?:site|dist)[_-]?packages|\bget(?:user)?sitepackages\b|\bpurelib\b|\bplatlib\b|\bUSER_SITE\b/i;
const PTH = /[\w-]\.pth\b/;
/** What a write's target (with its names followed) says it writes, or null. */
function persistentTarget(text: string): string | null {
  const m = TARGET.exec(text);
  if (m) return m[0].replace(/^[\s"'~]+/, '');
  return PTH.test(text) && SITE_PACKAGES.test(text) ? 'a .pth file in site-packages' : null;
}

/**
 * A shell command that writes a file sshd, the shell, cron or Python act on by themselves: a redirection or `tee`
 * into it, or a new crontab piped in (`(crontab -l; echo "…") | crontab -`).
 */
const SHELL_PERSISTENCE = new RegExp(
  String.raw`(?:>>?|\btee\s+(?:-a\s+)?)\s*["']?(?:(?:[^\s;&|"'<>]*\/)?(?:authorized_keys2?|\.bashrc|\.bash_profile|\.profile|(?:site|user)customize\.py|airflow_local_settings\.py)(?![\w.-])` +
    String.raw`|\/etc\/cron[\w./-]*|\/var\/spool\/cron|[^\s;&|"'<>]*(?:site|dist)-packages\/[^\s;&|"'<>]*\.pth\b)` +
    String.raw`|\|\s*crontab(?:\s+-)?(?=\s|$|["'`+'`'+String.raw`)])`,
);
const mayPersist = (text: string): boolean => TARGET.test(text) || PTH.test(text);

export default defineRule({
  meta: {
    id: 'DG617',
    name: 'persistence-file-write',
    category: 'malicious',
    severity: 'high',
    message: '{how} writes `{target}`, a file that runs or grants access by itself: a backdoor that outlives the task',
    docs: {
      what:
        'Finds code that writes a file which something else then acts on without being asked, wherever the code runs (in a task as much as at parse time): SSH `authorized_keys`, shell start-up files (`.bashrc`, `.bash_profile`, `.profile`), crontabs (`/etc/cron*`, `/var/spool/cron`, a crontab piped to `crontab -`), and the files every Python process imports (`.pth`, `sitecustomize.py`, `usercustomize.py`, `airflow_local_settings.py`). Python writes (`open(…, "a")`, `Path.write_text`, `shutil.copy`…) are judged with what the names in the path are bound to, two steps back (`ak = Path.home() / ".ssh" / "authorized_keys"; ak.open("a")`); shell commands by a redirection, `tee` or a pipe into `crontab`. The same write at parse time is DG605, critical.',
      why:
        'A DAG task runs on a worker with the worker\'s identity; a key appended to `authorized_keys`, a line in a crontab or a `.pth` file stays after the task, the DAG and the commit are gone, and gives whoever planted it a way back in (or code run in every later Python process, with every later task\'s connections). There is no data-pipeline reason to write these files from a DAG.',
      example:
        '```python\ndef _sync_deploy_key():\n    ak = Path.home() / ".ssh" / "authorized_keys"\n    with ak.open("a") as fh:\n        fh.write(DEPLOY_KEY + "\\n")\n```',
      useInstead:
        'Remove it. Access to workers is granted by the platform (image, Kubernetes secrets, the cluster\'s own access control), never by a DAG; scheduled jobs are DAGs, not crontab entries.',
    },
  },
  keywords: PERSISTENCE_WORDS,
  // shell scripts shipped with the DAGs (a worker bootstrap appending a key to `authorized_keys`)
  onDataFile(ctx) {
    if (ctx.file.dataKind !== 'shell') return;
    shapesInText(ctx.file.text, mayPersist, SHELL_PERSISTENCE, (start, end, m) => {
      const target = /crontab/.test(m[0]) ? 'crontab' : m[0].replace(/^(?:>>?|tee\s+(?:-a\s+)?)\s*["']?/, '');
      ctx.reportRange(start, end, { how: `the script \`${ctx.file.path.split('/').pop()}\``, target });
    });
  },
  onFile(ctx) {
    for (const fact of factsOf(ctx).calls) {
      // at parse time DG605 reports the same write, as critical
      if (!fact.kinds.has('write') || fact.parseTime) continue;
      const target = persistentTarget(targetText(fact.call));
      if (!target) continue;
      ctx.report(fact.call, { how: `\`${shownCallee(fact)}\``, target });
    }
    stringsWithShape(ctx, mayPersist, SHELL_PERSISTENCE, (s) => {
      if (!ctx.once(s.parent?.type === 'concatenated_string' ? s.parent : s)) return;
      const m = SHELL_PERSISTENCE.exec(s.text)!;
      const target = /crontab/.test(m[0]) ? 'crontab' : m[0].replace(/^(?:>>?|tee\s+(?:-a\s+)?)\s*["']?/, '');
      ctx.report(s, { how: 'a shell command', target });
    });
  },
});
