import { defineRule } from '../../src/engine/rule';

export default defineRule({
  meta: {
    id: 'DG703',
    name: 'path-configuration-file',
    category: 'import-path',
    severity: 'high',
    message: '{kind} file in the tree: it changes where Python imports from, or runs code when a site folder is processed',
    docs: {
      what: 'Reports `.pth` and `.egg-link` files in the checked tree and in its zip archives.',
      why:
        "A `.pth` file in a site folder is read at interpreter start-up: each line adds a `sys.path` entry, and a line starting with `import` is executed. An `.egg-link` points a development install at another folder. The DAG folder is not a site folder, so Airflow does not process them there — but a DAG that calls `site.addsitedir()` on it, an image that installs the repository, or a folder copied into site-packages does; nothing legitimate in a DAG repository needs one.",
      example: '```text\ndags/zz_hook.pth    # import os; os.system("curl …|sh")\n```',
      useInstead: 'Configure `sys.path` in the image (`PYTHONPATH`, a package installed into it), not from files in the DAG folder.',
    },
  },
  onPath(e, report) {
    if (e.kind !== 'file') return;
    const m = /\.(pth|egg-link)$/i.exec(e.name);
    if (m) report({ kind: `.${m[1]}` });
  },
});
