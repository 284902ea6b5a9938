import { defineRule } from '../../src/engine/rule';
import { factsOf } from './_facts';
import { isStandaloneScript, STANDALONE_NOTE } from './_standalone';

export default defineRule({
  meta: {
    id: 'DG607',
    name: 'process-spawn-at-parse-time',
    category: 'malicious',
    severity: 'high',
    message: '`{fn}` starts a process while the DAG file is parsed{script}',
    docs: {
      what:
        'Finds process creation that runs when Airflow imports the file: any `subprocess.*` call, `os.system`, `os.popen`, `os.exec*`, `os.spawn*`, `os.posix_spawn`, `os.fork`, `pty.spawn`, `multiprocessing.Process`/`Pool`, `ProcessPoolExecutor`, `asyncio.create_subprocess_*` — even with a constant command. Inside task functions these are ordinary and not reported here (the shell-injection rules judge their arguments). In a stand-alone script that sits in a DAG repository (an `if __name__ == "__main__":` block, a `#!` first line or command-line arguments — `sys.argv`, argparse — and no Airflow usage: no `airflow` import, no `DAG(`, no `@dag`) the finding is *low* and the message says "if this file is in the DAG folder".',
      why:
        'The dag-processor imports DAG files with the scheduler\'s credentials and network, every few seconds. A process started from there inherits all of it and outlives nothing the DAG author controls; it is how droppers, miners and reverse shells are launched from DAG folders. Even `git rev-parse` at module level slows every parse and fails differently on each Airflow component.',
      example: '```python\nimport subprocess\nVERSION = subprocess.check_output(["git", "describe"]).decode().strip()\n```',
      useInstead:
        '```python\n# compute it at build time (an env var or a file baked into the image), or in a task\nVERSION = os.environ.get("DAGS_VERSION", "dev")\n```',
    },
  },
  onFile(ctx) {
    for (const fact of factsOf(ctx).calls) {
      if (!fact.kinds.has('spawn') || !fact.parseTime) continue;
      const script = isStandaloneScript(ctx);
      ctx.report(fact.call, { fn: fact.fn!, script: script ? STANDALONE_NOTE : '' }, script ? { severity: 'low' } : {});
    }
  },
});
