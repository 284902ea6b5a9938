/**
 * The path rules (DG7xx, rules/import-path) in one generic place: they see file names and bytes, not source, so
 * instead of `# ruleid:` fixtures a real tree is built (real bytecode from python3's py_compile, a real zip, real
 * symbolic links) and checked once with the CLI; every path's findings must be exactly the expected ones.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonReport, runCli, tempTree } from '../helpers/cli';

/** `[ruleId, severity]` per path; a path listed with [] must have no DG7xx finding. */
const EXPECT: Record<string, [string, string][]> = {
  // DG701 compiled-bytecode
  'dags/__pycache__/etl.cpython-311.pyc': [['DG701', 'critical']], // unchecked hash, source beside: runs instead
  'dags/__pycache__/util.cpython-311.pyc': [['DG701', 'high']], // timestamp pyc of an existing source
  'dags/__pycache__/gone.cpython-311.pyc': [['DG701', 'high']], // cache without source: not imported, still shipped
  'dags/orphan.pyc': [['DG701', 'critical']], // sourceless: `import orphan` loads it
  'dags/bundle.zip!mod.pyc': [['DG701', 'critical']], // zipimport prefers bytecode
  'dags/notes.pyc.txt': [],
  // DG702 native-extension
  'dags/fast.cpython-311-x86_64-linux-gnu.so': [['DG702', 'high']],
  'dags/lib/win.pyd': [['DG702', 'high']],
  'dags/libfoo.so.1': [],
  // DG703 path-configuration-file
  'dags/zz_hook.pth': [['DG703', 'high']],
  'dags/dev.egg-link': [['DG703', 'high']],
  'dags/pth.txt': [],
  // DG704 startup-hook-module (anywhere in the tree, whatever .airflowignore says)
  'dags/airflow_local_settings.py': [['DG704', 'critical']],
  'dags/sub/sitecustomize.py': [['DG704', 'critical']],
  'dags/usercustomize': [['DG704', 'critical']],
  'dags/my_airflow_local_settings.py': [],
  'dags/constructor.py': [], // a name on Object.prototype is no hook
  'dags/toString.py': [],
  // DG705 stdlib-module-shadow (top level of the checked folder, or of an archive)
  'dags/imp.py': [['DG705', 'low']],
  'dags/email': [['DG705', 'low']],
  'dags/bundle.zip!json.py': [['DG705', 'high']],
  'dags/sub/json.py': [],
  'dags/string_utils.py': [],
  'dags/this': [], // a folder without __init__.py is no module with code
  // DG706 symlink-leaves-tree
  'dags/abs_link': [['DG706', 'critical']],
  'dags/h/up': [['DG706', 'critical']],
  'dags/h/evil.py': [['DG706', 'critical']],
  'dags/inner.py': [],
};

let dir: string;
let report: any; // eslint-disable-line @typescript-eslint/no-explicit-any

function pyc(out: string, source: string, mode: 'TIMESTAMP' | 'UNCHECKED_HASH'): void {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const src = `${out}.src.py`;
  fs.writeFileSync(src, source);
  execFileSync('python3', [
    '-c',
    'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True, invalidation_mode=getattr(py_compile.PycInvalidationMode, sys.argv[3]))',
    src,
    out,
    mode,
  ]);
  fs.rmSync(src);
}

beforeAll(() => {
  dir = tempTree({
    'dags/etl.py': 'x = 1\n',
    'dags/util.py': 'y = 2\n',
    'dags/notes.pyc.txt': 'not bytecode\n',
    'dags/fast.cpython-311-x86_64-linux-gnu.so': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
    'dags/lib/win.pyd': Buffer.from('MZ\x90\x00'),
    'dags/libfoo.so.1': Buffer.from([0x7f, 0x45, 0x4c, 0x46]),
    'dags/zz_hook.pth': 'import os; os.system("id")\n',
    'dags/dev.egg-link': '/opt/src\n.\n',
    'dags/pth.txt': 'text\n',
    'dags/.airflowignore': 'airflow_local_settings.py\n',
    'dags/airflow_local_settings.py': 'x = 1\n',
    'dags/sub/sitecustomize.py': 'x = 1\n',
    'dags/usercustomize/__init__.py': 'x = 1\n',
    'dags/my_airflow_local_settings.py': 'x = 1\n',
    'dags/constructor.py': 'x = 1\n',
    'dags/toString.py': 'x = 1\n',
    'dags/imp.py': 'x = 1\n',
    'dags/email/__init__.py': 'x = 1\n',
    'dags/sub/json.py': 'x = 1\n',
    'dags/string_utils.py': 'x = 1\n',
    'dags/this/README.md': 'no module\n',
    'dags/h/.keep': '',
  });
  const d = path.join(dir, 'dags');
  pyc(path.join(d, '__pycache__', 'etl.cpython-311.pyc'), 'import os\nos.system("id")\n', 'UNCHECKED_HASH');
  pyc(path.join(d, '__pycache__', 'util.cpython-311.pyc'), 'y = 2\n', 'TIMESTAMP');
  pyc(path.join(d, '__pycache__', 'gone.cpython-311.pyc'), 'z = 3\n', 'TIMESTAMP');
  pyc(path.join(d, 'orphan.pyc'), 'z = 3\n', 'TIMESTAMP');
  pyc(path.join(dir, 'mod.pyc'), 'z = 3\n', 'UNCHECKED_HASH');
  execFileSync('python3', [
    '-c',
    'import zipfile, sys; z = zipfile.ZipFile(sys.argv[1], "w"); z.write(sys.argv[2], "mod.pyc"); z.writestr("json.py", "x = 1\\n"); z.writestr("pkg/json.py", "x = 1\\n"); z.close()',
    path.join(d, 'bundle.zip'),
    path.join(dir, 'mod.pyc'),
  ]);
  fs.symlinkSync('/etc', path.join(d, 'abs_link'));
  fs.symlinkSync('../../..', path.join(d, 'h', 'up'));
  // Through the first link, then back down to a real file outside the checked tree: innocent-looking text.
  fs.writeFileSync(path.join(dir, 'payload.txt'), 'import os\nos.system("id")\n');
  fs.symlinkSync(`up/${path.basename(dir)}/payload.txt`, path.join(d, 'h', 'evil.py'));
  fs.symlinkSync('etl.py', path.join(d, 'inner.py'));
  const run = runCli(['check', '-f', 'json', '--select', 'DG7', 'dags'], { cwd: dir });
  report = jsonReport(run);
  expect(run.code).toBe(1);
});

describe('path rules (DG7xx) on a real tree', () => {
  for (const [p, want] of Object.entries(EXPECT)) {
    it(`${p}: ${want.length ? want.map((w) => w.join(' ')).join(', ') : 'no finding'}`, () => {
      const got = report.findings.filter((f: { path: string }) => f.path === p).map((f: { ruleId: string; severity: string }) => [f.ruleId, f.severity]);
      expect(got).toEqual(want);
    });
  }

  it('reports nothing else', () => {
    const unexpected = report.findings.filter((f: { path: string }) => !(f.path in EXPECT));
    expect(unexpected).toEqual([]);
  });

  it('never reads through a link that leaves the tree', () => {
    expect(JSON.stringify(report)).not.toContain('payload.txt:');
    const all = jsonReport(runCli(['check', '-f', 'json', 'dags'], { cwd: dir }));
    // DG607 would fire on payload.txt's os.system if it had been read through dags/h/evil.py.
    expect(all.findings.filter((f: { path: string; ruleId: string }) => f.path === 'dags/h/evil.py').map((f: { ruleId: string }) => f.ruleId)).toEqual(['DG706']);
  });
});
