import { defineRule } from '../../src/engine/rule';

export default defineRule({
  meta: {
    id: 'DG702',
    name: 'native-extension',
    category: 'import-path',
    severity: 'high',
    message: 'native extension module in the tree: importable machine code no static check can read',
    docs: {
      what: 'Reports `.so` and `.pyd` files in the checked tree and in its zip archives (`m.so`, `m.cpython-311-x86_64-linux-gnu.so`, `m.abi3.so`, `m.pyd`).',
      why:
        'The DAG folder is on `sys.path` in every Airflow component, so `import m` loads a native `m.so` from it: machine code that runs with the scheduler\'s credentials and that neither a reviewer nor dag-guard can read. A repository of DAG files has no reason to ship one.',
      example: '```text\ndags/fastparse.cpython-311-x86_64-linux-gnu.so\ndags/etl.py   # import fastparse\n```',
      useInstead: 'Install compiled dependencies into the Airflow image (a reviewed, pinned package), never into the DAG folder.',
    },
  },
  onPath(e, report) {
    if (e.kind === 'file' && /\.(so|pyd)$/i.test(e.name)) report();
  },
});
