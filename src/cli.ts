import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { baselineCwdMismatch, filterByBaseline, readBaseline, writeBaseline } from './baseline';
import { assertOutsideTree, runCheck, DEFAULT_SANDBOX_IMAGE, type CheckOptions } from './check';
import { EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UserError } from './exit-codes';
import { FORMATTERS } from './formatters';
import { excludedCount, isSeverity, SEVERITIES, type Finding, type Severity } from './report';
import { allRuleMetas, findRules, renderRuleDoc } from './rule-docs';
import { summaryLine } from './formatters/summary';
import { didYouMean } from './suggest';
import { selectorVocabulary } from './rule-select';
import { showTemplate } from './engine/template';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require('../../package.json').version;

function collect(value: string, previous: string[] | undefined): string[] {
  return (previous ?? []).concat(value.split(',').map((s) => s.trim()).filter(Boolean));
}

function useColor(stream: NodeJS.WriteStream, flag: boolean | undefined): boolean {
  if (flag === false || process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR) return true;
  return Boolean(stream.isTTY);
}

/** Severities are case-insensitive on the command line (`--fail-on HIGH`), as in the config. */
function parseSeverity(value: string): Severity {
  const v = value.trim().toLowerCase();
  if (!isSeverity(v)) throw new InvalidArgumentError(`Allowed choices are ${SEVERITIES.join(', ')} (any case).`);
  return v;
}

function write(output: string | undefined, content: string): void {
  if (!output) {
    out(content);
    return;
  }
  try {
    fs.writeFileSync(output, content);
  } catch (err) {
    throw new UserError(`cannot write --output ${output}: ${(err as Error).message}`);
  }
}

/** stdout, unless the reader went away (`| head`): then the rest is dropped quietly (see installStreamGuards). */
function out(content: string): void {
  if (stdoutClosed) return;
  process.stdout.write(content);
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
    .argument('[paths...]', 'files or directories to scan (default: .)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(Object.keys(FORMATTERS)).default('text'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .addOption(new Option('--fail-on <severity>', `lowest severity that fails the run (exit 1): ${SEVERITIES.join(', ')} (default: low, or the config's fail-on)`).argParser(parseSeverity))
    .option('--select <rules>', 'only these rules: ids, prefixes, names, categories or bandit/ruff aliases (repeatable, comma-separated)', collect)
    .option('--ignore <rules>', 'skip these rules (same selectors)', collect)
    .option('--include <glob>', 'only scan files matching the glob (repeatable)', collect)
    .option('--exclude <glob>', 'never scan files matching the glob (repeatable)', collect)
    .option('--config <file>', 'use this config file instead of discovering one')
    .option('--no-config', 'ignore every config file')
    .option('--workers <n>', 'worker threads (0 = automatic)', (v) => Number.parseInt(v, 10), 0)
    .option('--no-cache', 'do not read or write the result cache (.dag-guard-cache/)')
    .option('--cache-dir <dir>', 'result cache folder (default: .dag-guard-cache/ in the config folder or repository top; enforce mode: only a folder outside the checked tree)')
    .option('--check-syntax', 'parse every file and report each syntax error (DG000), not only in files named on the command line or that some rule could match (its words are in the file)')
    .option('--no-data-files', 'do not scan the non-Python files (.sql, .yaml, .json, .sh, .env, .ini/.cfg, .toml) for secrets')
    .option('-q, --quiet', 'print findings only')
    .option('--show-source', 'text: show the source line with a caret and an explain hint under each finding (default)')
    .option('--no-show-source', 'text: one line per finding')
    .option('--statistics', 'text: a count per rule instead of one line per finding')
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
    .action(async (paths: string[], o, cmd: Command) => {
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
        include: o.include ?? [],
        exclude: o.exclude ?? [],
        failOn: o.failOn as Severity | undefined,
        select: o.select ?? [],
        ignore: o.ignore ?? [],
        workers: o.workers,
        checkSyntax: o.checkSyntax ? true : undefined,
        dataFiles: o.dataFiles === false ? false : undefined,
        cache: o.cache === false ? undefined : { dir: o.cacheDir },
        sandbox: o.sandbox
          ? { image: o.image ?? '', timeoutSec: o.sandboxTimeout ?? 0, runtime: o.runtime, root: o.sandboxRoot }
          : null,
      };
      if (o.writeBaseline && o.changedSince !== undefined) {
        throw new UserError('--write-baseline records the whole scan: drop --changed-since (a partial baseline would flag every other file)');
      }
      if (o.changedSince !== undefined) opts.onlyFiles = (await import('./git')).changedFiles(o.changedSince, opts.cwd).files;
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
      const written = o.writeBaseline ? { file: o.writeBaseline as string, count: writeBaseline(o.writeBaseline, current, opts.cwd) } : undefined;
      const formatter = FORMATTERS[o.format];
      const color = !o.output && o.format === 'text' && useColor(process.stdout, o.color);
      const failOn = (o.failOn ?? res.config.failOn) as Severity;
      const ctx = {
        color,
        quiet: Boolean(o.quiet),
        rules: allRuleMetas(),
        cwd: opts.cwd,
        failOn,
        // --quiet is one line per finding unless --show-source is asked for explicitly.
        showSource: o.quiet ? cmd.getOptionValueSource('showSource') === 'cli' && o.showSource !== false : o.showSource !== false,
        statistics: Boolean(o.statistics),
        baselineWritten: written,
      };
      // The exit code is decided before any output: a reader that goes away (`| head`) cannot change it.
      exit.code = res.exitCode;
      const s = res.report.summary;
      if (s.filesScanned === 0 && !s.dataFiles && res.report.errors.length === 0) {
        const why = o.changedSince !== undefined ? ` changed since ${o.changedSince}` : '';
        const excl = excludedCount(s) ? ` (${excludedCount(s)} excluded by config/CLI globs)` : '';
        process.stderr.write(`dag-guard: warning: no Python files${why} to scan under ${paths.length ? paths.join(' ') : '.'}${excl}: nothing was checked\n`);
      }
      write(o.output, formatter(res.report, ctx));
      // With --output the terminal (a CI log) would show nothing: say what the report says, and why the exit code.
      if (o.output && !o.quiet) process.stderr.write(`dag-guard: ${summaryLine(res.report, ctx)} (report: ${o.output})\n`);
    });

  program
    .command('rules')
    .description('list every rule')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((o) => {
      const metas = allRuleMetas();
      if (o.format === 'json') {
        out(
          JSON.stringify(metas.map(({ id, name, category, severity, message, aliases }) => ({ id, name, category, severity, message, aliases: aliases ?? [] })), null, 2) + '\n',
        );
        return;
      }
      const w = Math.max(...metas.map((m) => m.name.length));
      out(metas.map((m) => `${m.id}  ${m.name.padEnd(w)}  ${m.category.padEnd(22)}  ${m.severity.padEnd(8)}  ${showTemplate(m.message)}\n`).join(''));
    });

  program
    .command('explain')
    .description("print a rule's documentation")
    .argument('<rule>', 'rule id, name or bandit/ruff alias, e.g. DG301, exec-of-dynamic-code, B102')
    .action((id: string) => {
      const found = findRules(id);
      if (!found.length) {
        throw new UserError(`unknown rule: ${id}${didYouMean(id, selectorVocabulary(allRuleMetas().map((meta) => ({ meta }))))} (see \`dag-guard rules\`)`);
      }
      out(found.map((m) => renderRuleDoc(m)).join('\n'));
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

let stdoutClosed = false;
let guardsInstalled = false;

/**
 * Output that cannot be written ends the run quietly: EPIPE (the reader of a pipe went away, `| head`) drops the
 * rest of the output and keeps the run's exit code, so a closed pipe never turns a failing check into a pass; other
 * write errors (a full disk) print one line and exit 3. Anything thrown outside the command's promise (a stray
 * exception, an unhandled rejection) exits 3 with the one-line message README promises, never a stack trace unless
 * DAG_GUARD_DEBUG=1.
 */
function installStreamGuards(exit: { code: number }): void {
  if (guardsInstalled) return;
  guardsInstalled = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    stdoutClosed = true;
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
      process.exitCode = exit.code;
      return;
    }
    safeStderr(`dag-guard: error: cannot write the output: ${err.code ?? err.message}\n`);
    process.exit(EXIT_INTERNAL);
  });
  // Nowhere left to report a stderr failure: ignore it (the exit code still tells).
  process.stderr.on('error', () => undefined);
  const crash = (err: unknown) => {
    if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') {
      stdoutClosed = true;
      process.exit(exit.code);
    }
    reportInternal(err);
    process.exit(EXIT_INTERNAL);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

function safeStderr(s: string): void {
  try {
    process.stderr.write(s);
  } catch {
    /* stderr closed too */
  }
}

function reportInternal(err: unknown): void {
  const e = err as Error;
  safeStderr(`dag-guard: internal error: ${String(e?.message ?? err).split('\n')[0]}\n`);
  if (process.env.DAG_GUARD_DEBUG) safeStderr(`${e?.stack ?? ''}\n`);
  else safeStderr('This is a bug in dag-guard; rerun with DAG_GUARD_DEBUG=1 for details and report it.\n');
}

export async function main(argv: string[]): Promise<number> {
  const exit = { code: EXIT_OK };
  installStreamGuards(exit);
  try {
    const program = buildProgram(exit, argv[2]);
    if (argv.length <= 2) {
      // No command is a usage error (exit 2), with the help on stderr so that it is seen but not piped.
      safeStderr(program.helpInformation());
      return EXIT_USAGE;
    }
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
      safeStderr(`dag-guard: error: ${err.message}\n`);
      return err.exitCode;
    }
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'EPIPE') return exit.code;
    reportInternal(err);
    return EXIT_INTERNAL;
  }
}
