import type { SyntaxNode } from 'tree-sitter';
import type { RuleContext } from '../../src/engine/context';
import { defineRule } from '../../src/engine/rule';
import { callArgs, stringValue, unwrap } from '../../src/engine/python';
import { classifyJinja, jinjaExpressions, restrictedParams } from '../../src/airflow/jinja';
import { provenance, singleBinding } from '../../src/airflow/provenance';
import { commandParts } from '../../src/airflow/strings';
import { stringsWithShape } from '../malicious/_shell-shapes';
import { linesWithOffsets } from '../../src/data/lines';

/** pip options that take packages from another index than PyPI's, or trust a host without TLS. */
const INDEX_OPTION = /(?:--(?:extra-)?index-url|(?:^|\s)-i|--find-links|(?:^|\s)-f)[\s=]+["']?(http:\/\/\S+)|--trusted-host[\s=]+["']?(\S+)|--extra-index-url[\s=]+["']?(https:\/\/\S+)/;
/** A requirement that names a VCS repository or an archive URL (`git+https://github.com/user/fork@branch`), not a commit hash. */
const VCS_REQUIREMENT = /^\s*(?:[\w.-]+\s*@\s*)?(?:(?:git|hg|svn|bzr)\+\S+?(?:@(?![0-9a-f]{40}\b)[\w./-]+)?|https?:\/\/\S+\.(?:zip|tar\.gz|tgz|whl))(?:#\S*)?\s*$/;

/** A VCS requirement anywhere in a string (`git+https://github.com/user/fork@branch`). */
const VCS_ANYWHERE = /(?:^|[\s"'=@])(?:git|hg|svn|bzr)\+(?:https?|ssh|git):\/\/[^\s"']+/;

/** A pip command line (or a requirements line) choosing its index. */
const PIP_INDEX = new RegExp(String.raw`\bpip[0-9.]*["']?\s+(?:install|download)\b[^\n]*?(?:${INDEX_OPTION.source})`);

/** A pip command installing an archive URL. */
const PIP_ARCHIVE = /\bpip[0-9.]*["']?\s+install\b[^\n]*?\shttps?:\/\/(?!files\.pythonhosted\.org\/)[^\s"']+\.(?:tar\.gz|tgz|tar\.bz2|zip|whl)(?![\w.])/;

function what(m: RegExpExecArray): { how: string; severity: 'high' | 'medium' } {
  if (m[1]) return { how: `packages downloaded over plain HTTP (\`${m[1].replace(/["',)\]]+$/, '')}\`): whoever is on the path chooses the code the worker installs and runs`, severity: 'high' };
  if (m[2]) return { how: `\`--trusted-host ${m[2].replace(/["',)\]]+$/, '')}\` turns off TLS verification for that index`, severity: 'medium' };
  return { how: `\`--extra-index-url\` (\`${m[3].replace(/["',)\]]+$/, '')}\`): pip takes the highest version from either index, so anyone who publishes the same name on PyPI wins (dependency confusion); use \`--index-url\` on a proxy that serves both`, severity: 'medium' };
}

/** Requirements and pip options of a virtualenv task or operator: trigger input, or an index that is not safe. */
function checkRequirements(call: SyntaxNode, ctx: RuleContext): void {
  const kws = callArgs(call).keywords;
  let restricted: Set<string> | null = null;
  for (const kw of ['requirements', 'pip_install_options', 'index_urls']) {
    const node = kws.get(kw);
    if (!node) continue;
    let u = unwrap(node);
    // `requirements=SCRAPER_REQUIREMENTS` with the list bound once
    if (u.type === 'identifier') u = singleBinding(u) ?? u;
    const parts = { literals: [] as { node: SyntaxNode; text: string }[], values: [] as SyntaxNode[] };
    for (const item of u.type === 'list' || u.type === 'tuple' ? u.namedChildren.filter((x) => x.type !== 'comment') : [u]) {
      const p = commandParts(item);
      parts.literals.push(...p.literals);
      parts.values.push(...p.values);
    }
    // `pip_install_options=["--extra-index-url", "http://…"]`: an option and its value in two elements
    const joined = kw === 'pip_install_options' ? INDEX_OPTION.exec(parts.literals.map((l) => l.text).join(' ')) : null;
    if (joined && ctx.once(node)) {
      const w = what(joined);
      ctx.report(node, { where: `\`${kw}\``, how: w.how }, { severity: w.severity });
    }
    for (const lit of parts.literals) {
      // a requirement installed from a repository branch or an archive URL, not a release of an index
      const vcs = kw === 'requirements' ? VCS_REQUIREMENT.exec(lit.text) : null;
      if (vcs && ctx.once(lit.node)) {
        ctx.report(lit.node, { where: `\`${kw}\``, how: `\`${vcs[0].slice(0, 80)}\` installs code from a repository or URL, not a reviewed release of an index: whoever can push there changes what the task runs` }, { severity: 'medium' });
        continue;
      }
      const m = INDEX_OPTION.exec(lit.text) ?? (kw === 'index_urls' && /^http:\/\//.test(lit.text) ? ([lit.text, lit.text] as unknown as RegExpExecArray) : null);
      if (m && !joined && ctx.once(lit.node)) {
        const w = what(m);
        ctx.report(lit.node, { where: `\`${kw}\``, how: w.how }, { severity: w.severity });
      }
      for (const e of jinjaExpressions(lit.text)) {
        const k = classifyJinja(e.expr, (restricted ??= restrictedParams(call, ctx)));
        if (k.trust !== 'user' || !ctx.once(lit.node)) continue;
        ctx.report(lit.node, { where: `\`${kw}\``, how: `it renders \`{{ ${e.expr} }}\` (${k.why}): whoever triggers the DAG chooses which packages are installed and run` }, { severity: k.viaParams ? 'medium' : 'high' });
        break;
      }
    }
    // requirements passed as Python values: `requirements=conf["packages"]` in a factory, a task's argument
    for (const v of parts.values) {
      const p = provenance(v, ctx);
      if (p.trust !== 'user' || !ctx.once(v)) continue;
      ctx.report(v, { where: `\`${kw}\``, how: 'the value comes from whoever triggers the DAG: they choose which packages are installed and run' }, { severity: 'high' });
    }
  }
}

/** `subprocess.check_call([sys.executable, "-m", "pip", "install", *pkgs])`: packages named by trigger input. */
function checkPipArgv(call: SyntaxNode, ctx: RuleContext): void {
  const argv = callArgs(call).positional[0];
  let u = argv ? unwrap(argv) : null;
  if (u?.type === 'identifier') u = singleBinding(u) ?? u;
  if (!u || (u.type !== 'list' && u.type !== 'tuple')) return;
  const items = u.namedChildren.filter((x) => x.type !== 'comment');
  const words = items.map((x) => stringValue(x) ?? '');
  const pip = words.findIndex((w) => /^pip[0-9.]*$|\/pip[0-9.]*$/.test(w));
  if (pip < 0 || !words.slice(pip + 1).some((w) => w === 'install' || w === 'download')) return;
  for (const x of items.slice(pip + 1)) {
    if (stringValue(x) !== null) continue;
    const value = x.type === 'list_splat' ? (x.namedChildren[0] ?? x) : x;
    const p = provenance(value, ctx);
    if (p.trust !== 'user' || !ctx.once(call)) continue;
    ctx.report(x, { where: 'a pip command', how: `the packages come from whoever triggers the DAG (\`${p.node.text.slice(0, 60)}\`): they choose the code the worker installs and runs` }, { severity: 'high' });
    return;
  }
}

/** Lines of a shell script whose pip command (continued over `\` lines) chooses an unsafe index. */
/** An archive installed straight from a URL (`pip install https://files.example.xyz/dist/x-0.4.1.tar.gz`), not from PyPI's own file host. */
const ARCHIVE_URL = /(?:^|[\s"'=@])(https?:\/\/(?!files\.pythonhosted\.org\/)[^\s"'#]+\.(?:tar\.gz|tgz|tar\.bz2|zip|whl))(?![\w.])/;
const archiveHow = (url: string): { how: string; severity: 'medium' } => ({
  how: `\`${url.slice(0, 100)}\` is installed from an archive URL: no index, no release history, no hash — whoever controls that host decides what the worker runs`,
  severity: 'medium',
});

function scriptIndexOptions(text: string): { start: number; end: number; w: { how: string; severity: 'high' | 'medium' } }[] {
  const out: { start: number; end: number; w: { how: string; severity: 'high' | 'medium' } }[] = [];
  let command = '';
  for (const { line, start } of linesWithOffsets(text)) {
    command = command.endsWith('\\') ? command.slice(0, -1) + ' ' + line : line;
    if (!/\bpip[0-9.]*["']?\s+(?:install|download)\b/.test(command) || /^\s*#/.test(line)) continue;
    const m = INDEX_OPTION.exec(line);
    const a = m ? null : ARCHIVE_URL.exec(line);
    if (m || a) out.push({ start, end: start + line.length, w: m ? what(m) : archiveHow(a![1]) });
  }
  return out;
}

export default defineRule({
  meta: {
    id: 'DG504',
    name: 'untrusted-package-source',
    category: 'unapproved-import',
    severity: 'high',
    message: 'untrusted package source in {where}: {how}',
    docs: {
      what:
        'Finds packages installed from a source the platform does not control: the `requirements` (also `pip_install_options`, `index_urls`) of `@task.virtualenv` / `PythonVirtualenvOperator` rendered from trigger input (`"{{ dag_run.conf[\'packages\'] }}"`: *high*; `{{ params.x }}`: *medium*) or given a Python value from it; a pip command run as an argv list whose packages come from trigger input (`subprocess.check_call([sys.executable, "-m", "pip", "install", *params["extra_packages"]])`, *high*); and pip options in those arguments, in any command string (`bash_command`, `subprocess`, pod arguments) or in a shell script shipped with the DAGs (`scripts/*.sh`, through `\\` continuation lines): an index or find-links over plain `http://` (*high*), `--trusted-host` (*medium*), `--extra-index-url` (*medium*: dependency confusion); a virtualenv requirement installed from a repository branch or an archive URL (`git+https://github.com/user/fork@branch`; *medium*; a full commit hash is a pin); an archive installed from a URL by a pip command, a script or a requirements line (`pip install https://files.example.xyz/dist/x-0.4.1.tar.gz`, *medium*; PyPI\'s own file host and requirement lines with `--hash` are not reported).',
      why:
        'Installing a package runs its code — its build scripts at install, its modules at import — on the worker, with the worker\'s credentials. Packages named by whoever triggers the DAG are arbitrary code execution by another name. An index reached over HTTP lets anyone on the network path substitute the package; `--extra-index-url` makes pip pick the highest version among PyPI and the private index, so a public package named like an internal one is installed instead (dependency confusion).',
      example:
        '```python\n@task.virtualenv(requirements="{{ dag_run.conf.get(\'packages\', []) }}")\ndef run_script(): ...\n\nBashOperator(task_id="deps", bash_command="pip install --extra-index-url http://pypi.acme.internal/simple acme-utils")\n```',
      useInstead:
        '```python\n@task.virtualenv(requirements=["pandas==2.2.2", "acme-utils==1.4.0"], index_urls=["https://pypi-proxy.acme.internal/simple"])\ndef run_script(): ...\n```\n(pinned requirements from the repository, one HTTPS index — a proxy serving PyPI and internal packages)',
    },
  },
  calls: ['subprocess.run', 'subprocess.call', 'subprocess.check_call', 'subprocess.check_output', 'subprocess.Popen', 'airflow.**.task.virtualenv', 'airflow.**.virtualenv_task', 'airflow.**.PythonVirtualenvOperator', 'airflow.**.task.external_python', 'airflow.**.ExternalPythonOperator'],
  onCall(call, fn, ctx) {
    if (fn.startsWith('subprocess.')) checkPipArgv(call, ctx);
    else checkRequirements(call, ctx);
  },
  // shell scripts shipped with the DAGs (`scripts/bootstrap_worker.sh`): their pip commands too
  onDataFile(ctx) {
    // requirement files: their option lines (`--extra-index-url http://…`) are pip options as they stand
    if (ctx.file.dataKind === 'requirements') {
      const where = `the requirements file \`${ctx.file.path.split('/').pop()}\``;
      for (const { line, start } of linesWithOffsets(ctx.file.text)) {
        if (/^\s*#/.test(line)) continue;
        const m = INDEX_OPTION.exec(line);
        if (m) {
          const w = what(m);
          ctx.reportRange(start, start + line.length, { where, how: w.how }, { severity: w.severity });
        } else if (ARCHIVE_URL.test(line) && !/--hash\b/.test(line)) {
          const w = archiveHow(ARCHIVE_URL.exec(line)![1]);
          ctx.reportRange(start, start + line.length, { where, how: w.how }, { severity: w.severity });
        } else if (VCS_ANYWHERE.test(' ' + line) && !/@[0-9a-f]{40}\b/.test(line)) {
          ctx.reportRange(start, start + line.length, { where, how: `\`${line.trim().slice(0, 80)}\` installs code from a repository, not a reviewed release of an index: whoever can push there changes what the task runs` }, { severity: 'medium' });
        }
      }
      return;
    }
    if (ctx.file.dataKind !== 'shell') return;
    for (const l of scriptIndexOptions(ctx.file.text)) {
      ctx.reportRange(l.start, l.end, { where: `the script \`${ctx.file.path.split('/').pop()}\``, how: l.w.how }, { severity: l.w.severity });
    }
  },
  keywords: ['index-url', 'trusted-host', 'find-links', ' -i ', ' -f ', 'git+', 'hg+', '.tar.gz', '.tgz', '.tar.bz2', '.zip', '.whl'],
  onFile(ctx) {
    // a VCS requirement written anywhere (a list handed to the operator through `**kwargs`, a pip command)
    stringsWithShape(ctx, (t) => /(?:git|hg|svn|bzr)\+/.test(t), VCS_ANYWHERE, (s) => {
      const text = stringValue(s) ?? '';
      const m = VCS_ANYWHERE.exec(text);
      if (!m || /@[0-9a-f]{40}\b/.test(m[0]) || !ctx.once(s)) return;
      ctx.report(s, { where: 'a requirement', how: `\`${m[0].trim().slice(0, 80)}\` installs code from a repository, not a reviewed release of an index: whoever can push there changes what the task runs` }, { severity: 'medium' });
    });
    stringsWithShape(ctx, (t) => /\bpip/.test(t), PIP_INDEX, (s) => {
      const m = INDEX_OPTION.exec(s.text);
      if (!m || !ctx.once(s)) return;
      const w = what(m);
      ctx.report(s, { where: 'a pip command', how: w.how }, { severity: w.severity });
    });
    stringsWithShape(ctx, (t) => /\bpip/.test(t), PIP_ARCHIVE, (s) => {
      const a = ARCHIVE_URL.exec(s.text);
      if (!a || !ctx.once(s)) return;
      const w = archiveHow(a[1]);
      ctx.report(s, { where: 'a pip command', how: w.how }, { severity: w.severity });
    });
  },
});
