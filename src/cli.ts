import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { baselineCwdMismatch, filterByBaseline, readBaseline, writeBaseline } from './baseline';
import { assertOutsideTree, runCheck, DEFAULT_SANDBOX_IMAGE, type CheckOptions } from './check';
import { EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UserError } from './exit-codes';
import { FORMATTERS } from './formatters';
import { changedFiles } from './git';
import { SEVERITIES, type Finding, type Severity } from './report';
import { allRuleMetas, findRule, renderRuleDoc } from './rule-docs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require('../../package.json').version;

function collect(value: string, previous: string[]): string[] {
  return previous.concat(value.split(',').map((s) => s.trim()).filter(Boolean));
}

function useColor(stream: NodeJS.WriteStream, flag: boolean | undefined): boolean {
  if (flag === false || process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR) return true;
  return Boolean(stream.isTTY);
}

function write(output: string | undefined, content: string): void {
  if (!output) {
    process.stdout.write(content);
    return;
  }
  try {
    fs.writeFileSync(output, content);
  } catch (err) {
    throw new UserError(`cannot write --output ${output}: ${(err as Error).message}`);
  }
}

export function buildProgram(exit: { code: number }, subcommand?: string): Command {
  const program = new Command();
  program
    .name('dag-guard')
    .description('Security gate for Apache Airflow DAG repositories')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('check')
    .description('scan DAG files for secrets, injection, unsafe deserialization, unapproved imports and malicious top-level code')
    .argument('[paths...]', 'files or directories to scan', [])
    .addOption(new Option('-f, --format <format>', 'output format').choices(Object.keys(FORMATTERS)).default('text'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .addOption(new Option('--fail-on <severity>', 'lowest severity that fails the run (exit 1)').choices([...SEVERITIES]))
    .option('--select <rules>', 'only these rules: ids, prefixes, names or categories (repeatable, comma-separated)', collect, [])
    .option('--ignore <rules>', 'skip these rules (same selectors)', collect, [])
    .option('--include <glob>', 'only scan files matching the glob (repeatable)', collect, [])
    .option('--exclude <glob>', 'never scan files matching the glob (repeatable)', collect, [])
    .option('--config <file>', 'use this config file instead of discovering one')
    .option('--no-config', 'ignore every config file')
    .option('--workers <n>', 'worker threads (0 = automatic)', (v) => Number.parseInt(v, 10), 0)
    .option('--check-syntax', 'parse every file and report each syntax error (DG000), not only in files named on the command line or that a rule had to parse')
    .option('-q, --quiet', 'print findings only')
    .option('--no-color', 'never use colours')
    .option('--sandbox', 'also import the DAG files inside a locked-down container')
    .option('--image <image>', `sandbox image: your Airflow image (default ${DEFAULT_SANDBOX_IMAGE})`)
    .option('--sandbox-timeout <seconds>', 'sandbox wall-clock limit per file', Number.parseFloat)
    .option('--runtime <runtime>', 'container runtime for the sandbox, e.g. runsc (gVisor)')
    .option('--sandbox-root <dir>', "folder mounted and put on sys.path, like Airflow's DAGS_FOLDER (default: common parent of the paths)")
    .option('--changed-since <ref>', 'only files added, modified or renamed since the merge-base of REF and HEAD (plus untracked files)')
    .option('--baseline <file>', 'report only findings not recorded in this baseline file')
    .option('--write-baseline <file>', 'record the current findings in a baseline file (exit 0 unless a file could not be scanned)')
    .option('--enforce', 'the checked tree cannot weaken its own check: config and baseline only from outside it, inline suppressions only for `suppressible` rules, nothing skipped (README "Enforce mode")')
    .action(async (paths: string[], o) => {
      if (o.workers !== undefined && (!Number.isInteger(o.workers) || o.workers < 0)) {
        throw new UserError('--workers takes a whole number >= 0');
      }
      if (o.sandboxTimeout !== undefined && !(o.sandboxTimeout > 0)) {
        throw new UserError('--sandbox-timeout takes a number of seconds > 0');
      }
      const opts: CheckOptions = {
        paths,
        cwd: process.cwd(),
        configPath: o.config === false ? null : o.config,
        include: o.include,
        exclude: o.exclude,
        failOn: o.failOn as Severity | undefined,
        select: o.select,
        ignore: o.ignore,
        workers: o.workers,
        checkSyntax: o.checkSyntax ? true : undefined,
        sandbox: o.sandbox
          ? { image: o.image ?? '', timeoutSec: o.sandboxTimeout ?? 0, runtime: o.runtime, root: o.sandboxRoot }
          : null,
      };
      if (o.writeBaseline && o.changedSince !== undefined) {
        throw new UserError('--write-baseline records the whole scan: drop --changed-since (a partial baseline would flag every other file)');
      }
      if (o.changedSince !== undefined) opts.onlyFiles = changedFiles(o.changedSince, opts.cwd).files;
      if (o.enforce) {
        opts.enforce = true;
        if (o.baseline) assertOutsideTree(o.baseline, '--baseline', paths, opts.cwd);
      }
      const baseline = o.baseline ? readBaseline(o.baseline) : null;
      const mismatch = baseline && baselineCwdMismatch(o.baseline, baseline, opts.cwd);
      if (mismatch) process.stderr.write(`dag-guard: warning: ${mismatch}\n`);
      let current: Finding[] = [];
      if (baseline || o.writeBaseline) {
        opts.filterFindings = (all) => {
          current = all;
          // Writing a baseline accepts every current finding: the run then passes unless a file could not be scanned.
          if (o.writeBaseline) return [];
          return filterByBaseline(all, baseline!);
        };
      }
      // The progress bar module (cli-progress) is loaded only for sandbox runs; it is a no-op off a TTY.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const progress = opts.sandbox ? (require('./sandbox/progress') as typeof import('./sandbox/progress')).createProgress() : null;
      if (opts.sandbox && progress) opts.sandbox.onProgress = (done, total) => progress.update(done, total);
      let res: Awaited<ReturnType<typeof runCheck>>;
      try {
        res = await runCheck(opts);
      } finally {
        progress?.stop();
      }
      if (o.writeBaseline) {
        const n = writeBaseline(o.writeBaseline, current, opts.cwd);
        if (!o.quiet) process.stderr.write(`dag-guard: wrote ${n} finding${n === 1 ? '' : 's'} to baseline ${o.writeBaseline}\n`);
      }
      const formatter = FORMATTERS[o.format];
      const color = !o.output && o.format === 'text' && useColor(process.stdout, o.color);
      write(o.output, formatter(res.report, { color, quiet: Boolean(o.quiet), rules: allRuleMetas(), cwd: opts.cwd }));
      exit.code = res.exitCode;
    });

  program
    .command('rules')
    .description('list every rule')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((o) => {
      const metas = allRuleMetas();
      if (o.format === 'json') {
        process.stdout.write(
          JSON.stringify(metas.map(({ id, name, category, severity, message, aliases }) => ({ id, name, category, severity, message, aliases: aliases ?? [] })), null, 2) + '\n',
        );
        return;
      }
      const w = Math.max(...metas.map((m) => m.name.length));
      for (const m of metas) {
        process.stdout.write(`${m.id}  ${m.name.padEnd(w)}  ${m.category.padEnd(22)}  ${m.severity.padEnd(8)}  ${m.message}\n`);
      }
    });

  program
    .command('explain')
    .description("print a rule's documentation")
    .argument('<rule>', 'rule id or name, e.g. DG301')
    .action((id: string) => {
      const m = findRule(id);
      if (!m) throw new UserError(`unknown rule: ${id} (see \`dag-guard rules\`)`);
      process.stdout.write(renderRuleDoc(m));
    });

  // `check` is the hot path (a pre-commit hook runs it on every commit): it does not load the other commands.
  if (subcommand !== 'check') {
    registerOptional(program, './gate', 'registerGateCommand');
    registerOptional(program, './integrations', 'registerIntegrationCommands');
  }
  return program;
}

/** Sub-commands that live in their own module register themselves when that module is built. */
function registerOptional(program: Command, mod: string, fn: string): void {
  let m: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    m = require(mod);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(path.basename(mod))) return;
    throw err;
  }
  if (typeof m[fn] === 'function') (m[fn] as (p: Command) => void)(program);
}

export async function main(argv: string[]): Promise<number> {
  const exit = { code: EXIT_OK };
  try {
    const program = buildProgram(exit, argv[2]);
    await program.parseAsync(argv);
    return process.exitCode !== undefined && process.exitCode !== 0 ? Number(process.exitCode) : exit.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end "successfully"; every other commander error is a usage error.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help'
        ? EXIT_OK
        : EXIT_USAGE;
    }
    if (err instanceof UserError) {
      process.stderr.write(`dag-guard: error: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    process.stderr.write(`dag-guard: internal error: ${e?.message ?? String(err)}\n`);
    if (process.env.DAG_GUARD_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    else process.stderr.write('This is a bug in dag-guard; rerun with DAG_GUARD_DEBUG=1 for details and report it.\n');
    return EXIT_INTERNAL;
  }
}
