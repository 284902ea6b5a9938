#!/usr/bin/env node
'use strict';
/**
 * `npm prepare`: compile TypeScript to dist/ for every way dag-guard gets installed.
 *
 * A plain `tsc` fails in one of them: pre-commit's node hooks (pre-commit >= 4.6 with npm 11) run
 * `npm install -g git+file://<clone>`. npm prepares the git dependency with a nested `npm install --include=dev`
 * in the clone, but the outer `-g` leaks into it through the environment (npm_config_global=true), so the nested
 * install is global: the clone never gets its devDependencies, and `tsc` is not found (npm/cli#8440; fixed in
 * pacote by npm/pacote#494, "pass --global=false when preparing git dependencies", not in npm 11.19's pacote 21.5.1).
 * Here, when typescript cannot be resolved from the checkout, we install the devDependencies locally first
 * (--global=false, --ignore-scripts: no native builds, no recursion into this script), then compile.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const run = (cmd, args, env = process.env) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const resolveTsc = () => {
  try {
    return require.resolve('typescript/bin/tsc', { paths: [root] });
  } catch {
    return null;
  }
};

if (!fs.existsSync(path.join(root, 'tsconfig.json'))) process.exit(0); // a packed tarball: dist/ is prebuilt
let tsc = resolveTsc();
if (!tsc) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^npm_config_(global|prefix|location|install_links)$/i.test(k)) delete env[k];
  const npm = process.env.npm_execpath;
  const [cmd, pre] = npm && /\.js$/.test(npm) ? [process.execPath, [npm]] : ['npm', []];
  process.stderr.write('dag-guard prepare: typescript not installed here; installing devDependencies to build dist/\n');
  run(cmd, [...pre, 'install', '--global=false', '--include=dev', '--ignore-scripts', '--no-save', '--no-audit', '--no-fund'], env);
  tsc = resolveTsc();
  if (!tsc) {
    process.stderr.write('dag-guard prepare: typescript still not resolvable after installing devDependencies\n');
    process.exit(1);
  }
}
run(process.execPath, [tsc, '-p', 'tsconfig.json']);
