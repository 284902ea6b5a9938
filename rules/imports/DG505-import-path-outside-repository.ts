import { defineRule } from '../../src/engine/rule';
import { argument, callArgs } from '../../src/engine/python';
import { constantText } from '../../src/airflow/strings';
import { provenance } from '../../src/airflow/provenance';
import { atLeast } from '../../src/airflow/trust';
import { originWords, snippet } from '../shell-injection/_util';

/** Folders anyone on the machine can write, or that other parties fill: their modules are not reviewed code. */
const OUTSIDE =
  /^(?:\/tmp\/|\/var\/tmp\/|\/dev\/shm\/|\/mnt\/|\/media\/|\/home\/[^/]+\/(?:Downloads|tmp)\/)|\/(?:[\w.-]*[-_])?(?:partner|exchange|landing|incoming|inbox|upload|uploads|dropbox|sftp|ftp|share|shared|scratch|tmp)(?:[-_][\w.-]*)?(?:\/|$)/i;

export default defineRule({
  meta: {
    id: 'DG505',
    name: 'import-path-outside-repository',
    category: 'unapproved-import',
    severity: 'high',
    message: '`{fn}` puts {where} on the import path: {why}',
    docs: {
      what:
        'Finds `sys.path.insert`/`append`/`extend` and `site.addsitedir` with a folder outside the reviewed repository: a world-writable or shared location (`/tmp`, `/var/tmp`, `/dev/shm`, `/mnt/…`, a partner exchange, landing, upload, SFTP or scratch folder; the path read through names and string pieces) — *high* — or a folder named by trigger input (*high*), fetched data or another task\'s output (*medium*), a Variable or environment value (*low*). Folders of the repository (`os.path.dirname(__file__)`, `/opt/airflow/dags/…`) are fine.',
      why:
        'A module found first on `sys.path` is imported instead of the reviewed one, and its top-level code runs in the dag-processor (at parse time) or the worker with their credentials. Whoever can write to `/tmp` on the host, or to a partner-synced mount, then chooses that code — a dependency nobody reviewed, loaded around the gate.',
      example: '```python\nsys.path.insert(0, "/tmp/wms_shared/lib")\nimport scale_bridge\n```',
      useInstead: 'Ship the module in the DAG repository (or as a pinned package in the image) and import it from there; exchange data with partners, never code.',
    },
  },
  calls: ['sys.path.insert', 'sys.path.append', 'sys.path.extend', 'site.addsitedir'],
  onCall(call, fn, ctx) {
    const args = callArgs(call);
    const dir = fn === 'sys.path.insert' ? argument(args, 'object', 1) : args.positional[0];
    if (!dir) return;
    const text = constantText(dir);
    if (text !== null) {
      if (OUTSIDE.test(text)) ctx.report(call, { fn, where: `\`${text.slice(0, 80)}\``, why: 'a folder others can write, whose modules run here as if they were reviewed code' });
      return;
    }
    const p = provenance(dir, ctx);
    if (!atLeast(p.trust, 'config') || p.trust === 'unknown' || p.trust === 'param') return;
    const severity = p.trust === 'user' ? 'high' : p.trust === 'config' ? 'low' : 'medium';
    ctx.report(call, { fn, where: `a folder named by ${originWords(p.trust)} (\`${snippet(p.node)}\`)`, why: 'whoever sets it chooses which code the next import runs' }, { severity });
  },
});
